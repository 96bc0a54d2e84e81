# Found by running the same configs on nginx 1.22 and moongate (issue 13's TLS audit): a
# request refused 421 (the Host names a server checking client certificates, the SNI name
# another server) is refused as the server SNI chose: its error-log line names that server,
# not the address's default one; its error_page 421 answers ($host is then that server's name:
# the refused Host is not taken).
#
#   prove -I t/lib t/769-diff-ssl-421-server.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/769-diff-ssl-421-server.t
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');
run_tests();

__DATA__

=== TEST 1: the SNI server's name in the 421 line
--- ssl: sni=a.test cert=client.crt key=client.key
--- listen_options: default_server
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        location / { return 200 "a\n"; }
    }
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "localhost\n"; }
--- request
GET /
--- more_headers
Host: localhost
--- error_code: 421
--- error_log
client attempted to request the server name different from the one that was negotiated while reading client request headers, client: 127.0.0.1, server: a.test, request: "GET / HTTP/1.1", host: "localhost"



=== TEST 2: a wildcard SNI server: its name as written
--- ssl: sni=x.wild.test cert=client.crt key=client.key
--- listen_options: default_server
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name *.wild.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/wild.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/wild.key;
        location / { return 200 "wild\n"; }
    }
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    ssl_verify_client optional;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "localhost\n"; }
--- request
GET /
--- more_headers
Host: localhost
--- error_code: 421
--- error_log
client attempted to request the server name different from the one that was negotiated while reading client request headers, client: 127.0.0.1, server: *.wild.test, request: "GET / HTTP/1.1", host: "localhost"



=== TEST 3: the SNI server's error_page 421, not the Host's
--- ssl: sni=a.test cert=client.crt key=client.key
--- listen_options: default_server
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        error_page 421 /misdirected-a;
        location / { return 200 "a\n"; }
        location = /misdirected-a { return 200 "a refused $host\n"; }
    }
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    error_page 421 /misdirected-localhost;
    location / { return 200 "localhost\n"; }
    location = /misdirected-localhost { return 200 "localhost refused\n"; }
--- request
GET /
--- more_headers
Host: localhost
--- error_code: 421
--- response_body
a refused a.test
