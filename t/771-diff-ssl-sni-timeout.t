# Found by running the same configs on nginx 1.22 and moongate (issue 13): on a TLS connection
# the server SNI names gives the client_header_timeout of the heads after the first (a
# keepalive or pipelined one: nginx makes each request on the connection's server, the SNI
# one), and its name is in the timeout's log line. (The first head runs on the timer set at
# accept, the default server's, in both.)
#
#   prove -I t/lib t/771-diff-ssl-sni-timeout.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/771-diff-ssl-sni-timeout.t
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Select;

Test::Moongate::Certs::make();
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(ssl => 'sni=b.test');
    $block->set_value(listen_options => 'default_server');
    $block->set_value(http_config => <<'CONF');
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name b.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/b.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/b.test.key;
        client_header_timeout 1s;
        location / { return 200 "b\n"; }
    }
CONF
    $block->set_value(config => <<'CONF');
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    client_header_timeout 60s;
    location / { return 200 "default\n"; }
CONF
});

# A TLS connection to the test server with SNI name b.test that sends $data (pieces $delay
# seconds apart) and reads until the server closes it: what came, or undef when it stayed open
# for $secs.
sub answered_then_closed {
    my ($data, $secs, $delay) = @_;
    require IO::Socket::SSL;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, SSL_hostname => 'b.test') or die "$!";
    my @pieces = ref $data ? @$data : ($data);
    for my $i (0 .. $#pieces) {
        select(undef, undef, undef, $delay) if $i;
        print $s $pieces[$i];
    }
    my ($got, $end) = ('', time + $secs);
    my $sel = IO::Select->new($s);
    while (time < $end) {
        next unless $s->pending || $sel->can_read(0.2);
        my $n = sysread($s, my $buf, 16384);
        return $got if !$n;
        $got .= $buf;
    }
    return undef;
}

run_tests();

__DATA__

=== TEST 1: a pipelined head cut short times out after the SNI server's client_header_timeout
--- init
my $got = main::answered_then_closed("GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HT", 8);
Test::More::like($got // 'still open', qr/\r\n\r\ndefault\n\z/, "answered, then closed");
--- request
GET /
--- response_body
default
--- error_log
client timed out (110: Connection timed out) while reading client pipelined request line, client: 127.0.0.1, server: b.test, request: "GET / HT"



=== TEST 2: so does a keepalive head that began after the response
--- init
my $got = main::answered_then_closed(["GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET / HTTP/1.1\r\nHo"], 8, 0.3);
Test::More::like($got // 'still open', qr/\r\n\r\ndefault\n\z/, "answered, then closed");
--- request
GET /
--- response_body
default
--- error_log
client timed out (110: Connection timed out) while reading client request headers, client: 127.0.0.1, server: b.test, request: "GET / HTTP/1.1"
