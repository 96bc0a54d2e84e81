# Found by running the same configs on nginx 1.22 and moongate (issue 13's TLS audit): a
# server checking client certificates answers 421 to a Host other than the SNI name only when
# that SNI name is one of the address's servers' names; an SNI name no server has (the
# default server answered the handshake) is not taken as negotiated, and any Host is served.
#
#   prove -I t/lib t/768-diff-ssl-sni-host.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/768-diff-ssl-sni-host.t
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');
run_tests();

__DATA__

=== TEST 1: an SNI name no server has, another Host: served
--- ssl: sni=unknown.test cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_server_name $host $ssl_client_verify\n"; }
--- request
GET /
--- more_headers
Host: localhost
--- response_body
unknown.test localhost SUCCESS
--- no_error_log
client attempted to request the server name different



=== TEST 2: an SNI name a server has, a Host of a server checking certificates: 421
--- ssl: sni=a.test cert=client.crt key=client.key
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        location / { return 200 "a\n"; }
    }
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_server_name $host\n"; }
--- request
GET /
--- more_headers
Host: localhost
--- error_code: 421
--- error_log
client attempted to request the server name different from the one that was negotiated



=== TEST 3: an SNI name no server has, a Host no server has: served by the default server
--- ssl: sni=unknown.test cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_server_name $host\n"; }
--- request
GET /
--- more_headers
Host: other.test
--- response_body
unknown.test other.test
