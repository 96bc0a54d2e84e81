# proxy_ssl_trusted_certificate and proxy_ssl_crl count only with proxy_ssl_verify on, as in
# nginx, whose proxy modules load them only then: with verify off a file that cannot be read is
# no error, and the upstream's chain is not verified at every full handshake for a verdict
# nobody reads (t/bench/upstream-tls-mallocs.sh). A location that turns verify on under a
# server whose verify is off still takes the server's trusted certificates.
#
#   prove -I t/lib t/532-proxy-ssl-verify-off-trust.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/532-proxy-ssl-verify-off-trust.t
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
$ENV{TEST_NGINX_TLS_PORT} = Test::Moongate::find_free_port();
Test::Moongate::env_port('TEST_NGINX_STREAM_PORT');

our $Upstream = <<'EOC';
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        location / { return 200 "upstream\n"; }
    }
EOC

run_tests();

__DATA__

=== TEST 1: verify off: a proxy_ssl_trusted_certificate that cannot be read is not read
--- http_config eval: $main::Upstream
--- config
    location / {
        proxy_ssl_trusted_certificate /nonexistent/ca.crt;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- request
GET /
--- response_body
upstream



=== TEST 2: ... nor a proxy_ssl_crl
--- http_config eval: $main::Upstream
--- config
    location / {
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        proxy_ssl_crl /nonexistent/crl.pem;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- request
GET /
--- response_body
upstream



=== TEST 3: ... in stream{} too
--- http_config eval: $main::Upstream
--- stream_config
    server {
        listen 127.0.0.1:$TEST_NGINX_STREAM_PORT;
        proxy_ssl on;
        proxy_ssl_trusted_certificate /nonexistent/ca.crt;
        proxy_pass 127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STREAM_PORT;
    }
--- request
GET /
--- response_body
upstream



=== TEST 4: verify on in a location takes the server's trusted certificates (verify off there)
--- http_config eval: $main::Upstream
--- config
    proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location /on {
        proxy_ssl_verify on;
        proxy_ssl_name localhost;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
    location /wrong {
        proxy_ssl_verify on;
        proxy_ssl_name wrong.test;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
    location / {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- request eval
["GET /on", "GET /wrong", "GET /"]
--- error_code eval
[200, 502, 200]
--- error_log
upstream SSL certificate does not match "wrong.test"
