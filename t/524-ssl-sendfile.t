# sendfile over TLS (nginx >= 1.21.4 with OpenSSL 3): `ssl_conf_command Options KTLS` asks
# OpenSSL for kernel TLS; when the kernel takes the keys (BIO_get_ktls_send() says 1, logged at
# debug) static files go with SSL_sendfile, else they are read and written with SSL_write as
# without it. Either way the client gets the file's exact bytes: whole, a range, under
# sendfile_max_chunk and limit_rate, with tcp_nopush. The last block looks for the debug lines
# where the kernel has the "tls" ULP (/proc/sys/net/ipv4/tcp_available_ulp), else it skips.
#
#   prove -I t/lib t/524-ssl-sendfile.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/524-ssl-sendfile.t
use Test::Moongate;
use Test::Moongate::Certs;

our $dir = Test::Moongate::Certs::make();
our $Body = join '', map { sprintf "%07d:%s\n", $_, 'x' x 55 } 0 .. 24999;   # 1.6 MB
my $fd = "$dir/sendfile-$$";
END { system('rm', '-rf', $fd) if $fd }
mkdir $fd or die "mkdir $fd: $!";
Test::Moongate::Certs::spew("$fd/big.txt", $Body);
Test::Moongate::Certs::spew("$fd/small.txt", "small file\n");
$ENV{TEST_NGINX_FILES} = $fd;

our $Ktls = (Test::Moongate::slurp('/proc/sys/net/ipv4/tcp_available_ulp') // '') =~ /\btls\b/;
our $Debug = `$Test::Moongate::Binary -V 2>&1` =~ /--with-debug/;

run_tests();

__DATA__

=== TEST 1: KTLS asked, sendfile on: a large file's exact bytes
--- ssl
--- config
    ssl_conf_command Options KTLS;
    sendfile on;
    tcp_nopush on;
    location / { root $TEST_NGINX_FILES; }
--- request
GET /big.txt
--- response_body eval
$main::Body
--- no_error_log eval
[qr/\[(?:alert|crit|error)\]/, qr/SSL_sendfile\(\) failed/]



=== TEST 2: a small file
--- ssl
--- config
    ssl_conf_command Options KTLS;
    sendfile on;
    location / { root $TEST_NGINX_FILES; }
--- request
GET /small.txt
--- response_body
small file



=== TEST 3: a range of the large file
--- ssl
--- config
    ssl_conf_command Options KTLS;
    sendfile on;
    location / { root $TEST_NGINX_FILES; }
--- request
GET /big.txt
--- more_headers
Range: bytes=100000-299999
--- error_code: 206
--- response_body eval
substr($main::Body, 100000, 200000)



=== TEST 4: sendfile_max_chunk and limit_rate_after: the file in pieces, whole
--- ssl
--- config
    ssl_conf_command Options KTLS;
    sendfile on;
    sendfile_max_chunk 16k;
    limit_rate_after 1m;
    limit_rate 4m;
    location / { root $TEST_NGINX_FILES; }
--- request
GET /big.txt
--- response_body eval
$main::Body



=== TEST 5: KTLS asked, sendfile off: read and written as usual
--- ssl
--- config
    ssl_conf_command Options KTLS;
    sendfile off;
    location / { root $TEST_NGINX_FILES; }
--- request
GET /big.txt
--- response_body eval
$main::Body
--- no_error_log
SSL_sendfile



=== TEST 6: where the kernel has kernel TLS: the debug log says it and SSL_sendfile sends
--- ssl
--- log_level: debug
--- config
    ssl_conf_command Options KTLS;
    sendfile on;
    location / { root $TEST_NGINX_FILES; }
--- init
SKIP: {
    Test::More::skip("no \"tls\" ULP in this kernel (tcp_available_ulp): KTLS cannot run", 2)
        unless $main::Ktls;
    Test::More::skip("a build without debug logging", 2) unless $main::Debug;
    my $port = $Test::Moongate::ServerPort;
    my $got = `curl -sk --max-time 20 https://127.0.0.1:$port/big.txt`;
    Test::More::is(length $got, length $main::Body, "the file came whole");
    my $log = Test::Moongate::slurp(Test::Moongate::error_log_file()) // '';
    Test::More::ok($log =~ /BIO_get_ktls_send\(\): 1/ && $log =~ /SSL_sendfile: \d+/,
                   "BIO_get_ktls_send(): 1 and SSL_sendfile lines");
}
--- request
GET /small.txt
--- response_body
small file
