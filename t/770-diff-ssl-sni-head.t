# Found by running the same configs on nginx 1.22 and moongate (issue 13): on a TLS connection
# the server SNI names is the connection's server until the Host chooses (nginx's servername
# callback switches the connection's configuration): a request line or head refused before
# the Host gets that server's error_page, limits (client_header_buffer_size,
# large_client_header_buffers), header checks, error_log and name in the log line. After a
# Host line, the large buffers of the lines that follow are the Host's server's; a Host no
# server has, or none at all, is the default server's (SNI or not).
#
#   prove -I t/lib t/770-diff-ssl-sni-head.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/770-diff-ssl-sni-head.t
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');

# the servers of every block: the default one is the harness's (localhost, its lines in a
# log of its own), a.test with small large buffers, b.test with a small first buffer
my $servers = <<'CONF';
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        large_client_header_buffers 2 1k;
        underscores_in_headers on;
        merge_slashes off;
        error_page 400 414 /err;
        location / { return 200 "a $http_x_y\n"; }
        location = /err { return 200 "a err\n"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name b.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/b.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/b.test.key;
        client_header_buffer_size 200;
        large_client_header_buffers 1 512;
        location / { return 200 "b\n"; }
    }
CONF
my $default = <<'CONF';
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    error_log $TEST_NGINX_SERVROOT/logs/default.log info;
    error_page 400 414 /err;
    location / { return 200 "default $http_x_y\n"; }
    location = /err { return 200 "default err\n"; }
    location /m { return 200 "default $uri\n"; }
CONF

add_block_preprocessor(sub {
    my $block = shift;
    # (a block with servers of its own speaks plain HTTP)
    return if defined $block->http_config;
    $block->set_value(listen_options => 'default_server');
    $block->set_value(http_config => $servers);
    $block->set_value(config => $default);
    $block->set_value(ssl => 'sni=a.test') unless defined $block->ssl;
});

run_tests();

__DATA__

=== TEST 1: a bad request line: the SNI server's error_page, its error_log and name
--- raw_request eval
"GET\r\n\r\n"
--- error_code: 400
--- response_body
a err
--- error_log
client sent invalid method while reading client request line, client: 127.0.0.1, server: a.test, request: "GET"



=== TEST 2: an SNI name no server has: the default server's
--- ssl: sni=zz.test
--- raw_request eval
"GET\r\n\r\n"
--- error_code: 400
--- response_body
default err
--- no_error_log
client sent invalid method



=== TEST 3: a request line over the SNI server's large_client_header_buffers: 414
--- raw_request eval
"GET /" . ("x" x 1500) . " HTTP/1.1\r\nHost: a.test\r\n\r\n"
--- error_code: 414
--- response_body
a err
--- error_log
client sent too long URI while reading client request line, client: 127.0.0.1, server: a.test



=== TEST 4: a header line over them before the Host: 400
--- raw_request eval
"GET / HTTP/1.1\r\nX-Long: " . ("x" x 1500) . "\r\nHost: a.test\r\n\r\n"
--- error_code: 400
--- response_body_like: Request Header Or Cookie Too Large
--- error_log
while reading client request headers, client: 127.0.0.1, server: a.test, request: "GET / HTTP/1.1"



=== TEST 5: the SNI server's client_header_buffer_size: lines that fill it take its one large buffer
--- ssl: sni=b.test
--- raw_request eval
"GET / HTTP/1.1\r\n" . ("X-Pad: " . ("0" x 170) . "\r\n") x 5 . "Host: b.test\r\n\r\n"
--- error_code: 400
--- response_body_like: Request Header Or Cookie Too Large
--- error_log
client sent too long header line: "X-Pad: 000



=== TEST 6: the SNI server's underscores_in_headers for a line before the Host
--- raw_request eval
"GET / HTTP/1.1\r\nX_Y: 1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
--- response_body
a 1
--- no_error_log
client sent invalid header line



=== TEST 7: a Host naming another server: the lines after it get its large buffers
--- raw_request eval
"GET / HTTP/1.1\r\nHost: localhost\r\nX-Long: " . ("x" x 1500) . "\r\nConnection: close\r\n\r\n"
--- response_body
default 



=== TEST 8: no SNI server, a Host naming one: the lines after it get its large buffers
--- ssl: sni=zz.test
--- raw_request eval
"GET / HTTP/1.1\r\nHost: a.test\r\nX-Long: " . ("x" x 1500) . "\r\n\r\n"
--- error_code: 400
--- response_body_like: Request Header Or Cookie Too Large
--- error_log
while reading client request headers, client: 127.0.0.1, server: a.test, request: "GET / HTTP/1.1", host: "a.test"



=== TEST 9: the same over plain HTTP
--- listen_options: default_server
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name a.test;
        large_client_header_buffers 2 1k;
        location / { return 200 "a\n"; }
    }
--- config
    location / { return 200 "default\n"; }
--- raw_request eval
"GET / HTTP/1.1\r\nHost: a.test\r\nX-Long: " . ("x" x 1500) . "\r\n\r\n"
--- error_code: 400
--- response_body_like: Request Header Or Cookie Too Large
--- error_log
while reading client request headers, client: 127.0.0.1, server: a.test, request: "GET / HTTP/1.1", host: "a.test"



=== TEST 10: a pipelined request line after a request on another server: the SNI server's again
--- raw_request eval
"GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGET\r\n\r\n"
--- response_body
default 
--- error_log
client sent invalid method while reading client pipelined request line, client: 127.0.0.1, server: a.test, request: "GET"



=== TEST 11: HTTP/1.0 without a Host: the default server's (nginx 1.22)
--- raw_request eval
"GET / HTTP/1.0\r\n\r\n"
--- response_body
default 



=== TEST 12: a Host no server has: the default server's, whose checks the lines after it get
--- raw_request eval
"GET / HTTP/1.1\r\nHost: zz.test\r\nX_Y: 1\r\nConnection: close\r\n\r\n"
--- response_body
default 



=== TEST 13: the request line's URI is normalized as the SNI server says (merge_slashes)
--- raw_request eval
"GET /m//n HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_body
default /m//n



=== TEST 14: a handshake the client breaks off after SNI is logged to the SNI server's error_log
--- init
require IO::Socket::SSL;
my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                             SSL_hostname => 'a.test', SSL_verify_mode => 1,
                             SSL_ca_file => "$ENV{TEST_NGINX_CERT_DIR}/self.crt");
Test::More::ok(!$s, "the client refused the server's certificate");
--- raw_request eval
"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
--- response_body
a 
--- error_log eval
qr/SSL_do_handshake\(\) failed .*alert unknown ca.* while SSL handshaking, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/
