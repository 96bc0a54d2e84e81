# ssl_certificate / ssl_certificate_key with variables (nginx >= 1.15.9): loaded for every
# handshake after SNI, so the name chooses the file and a file changed on disk is used by the
# next handshake without a reload; a pair that cannot be loaded fails that handshake only.
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::SSL;
use File::Copy;

Test::Moongate::Certs::make();
log_level('info');

our $Dir = $ENV{TEST_NGINX_CERT_DIR};

sub peer_subject {
    my ($sni) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, SSL_hostname => $sni, Timeout => 5)
        or return '';
    my $subject = $s->peer_certificate('subject') // '';
    close $s;
    return $subject;
}

run_tests();

__DATA__

=== TEST 1: the server name chooses the files; a name without files fails its handshake only
--- ssl: sni=b.test
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/$ssl_server_name.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/$ssl_server_name.key;
    location / { return 200 "$ssl_server_name\n"; }
--- init
Test::More::like(main::peer_subject('a.test'), qr/CN ?= ?a\.test/, "a.test gets its certificate");
Test::More::is(main::peer_subject('unknown.test'), '', "unknown.test: no certificate, no handshake");
--- request
GET /
--- response_body
b.test
--- error_log eval
[qr/\[error\] .* cannot load certificate "\S+\/unknown\.test\.crt": BIO_new_file\(\) failed \(SSL: error:80000002:system library::No such file or directory:calling fopen\(\S+\/unknown\.test\.crt, r\) error:10000080:BIO routines::no such file\) while SSL handshaking, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/,
 qr/\[info\] .* SSL_do_handshake\(\) failed \(SSL: error:0A000179:SSL routines::cert cb error\) while SSL handshaking/]



=== TEST 2: an encrypted key named through a map, with ssl_password_file
--- ssl
--- http_config
    map $ssl_server_name $key_name {
        default localhost-enc;
    }
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/$key_name.key;
    ssl_password_file $TEST_NGINX_CERT_DIR/passwords.txt;
    location / { return 200 "$ssl_protocol\n"; }
--- request
GET /
--- response_body
TLSv1.2



=== TEST 3: a file changed on disk is used by the next handshake, without a reload
--- ssl
--- config
    ssl_certificate $TEST_NGINX_HTML_DIR/$ssl_server_name.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    location / { return 200 "ok\n"; }
--- user_files
>>> localhost.crt
placeholder
--- init
my $html = $Test::Moongate::ServRoot . "/html";
File::Copy::copy("$main::Dir/localhost.crt", "$html/localhost.crt") or die $!;
Test::More::like(main::peer_subject('localhost'), qr/CN ?= ?localhost/, "the certificate on disk");
File::Copy::copy("$main::Dir/localhost-ec.crt", "$html/localhost.crt") or die $!;
Test::More::is(main::peer_subject('localhost'), '', "the new certificate (ECDSA) does not go with the key: no handshake");
File::Copy::copy("$main::Dir/localhost.crt", "$html/localhost.crt") or die $!;
--- request
GET /
--- response_body
ok
--- error_log
no shared cipher



=== TEST 4: a certificate with variables in one server, files in another on the same address
# (the request's Host chooses the server: localhost's)
--- ssl: sni=a.test
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/${server_name}.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/${server_name}.key;
        location / { return 200 "a: $ssl_server_name\n"; }
    }
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    location / { return 200 "default\n"; }
--- init
Test::More::like(main::peer_subject('a.test'), qr/CN ?= ?a\.test/, "a.test: its server's variables");
Test::More::like(main::peer_subject('localhost'), qr/CN ?= ?localhost/, "localhost: the files");
--- request
GET /
--- response_body
default
