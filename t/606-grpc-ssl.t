# grpc_pass over TLS: grpcs:// to a gRPC server with TLS (t/lib/grpc_server.py with the test
# CA's localhost certificate, ALPN h2), grpc_ssl_verify with grpc_ssl_trusted_certificate and
# grpc_ssl_name, a name that does not match, and gRPC clients over TLS to the server under
# test (listen ... ssl http2).
#
#   prove -I t/lib t/606-grpc-ssl.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/606-grpc-ssl.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::Moongate::Certs;
use Test::MoongateGrpc;

my $certs = Test::Moongate::Certs::make();
grpc_daemon(grpcs => "$certs/localhost.crt", "$certs/localhost.key");
grpc_daemon('grpc');

h2_blocks();

run_tests();

__DATA__

=== TEST 1: grpcs:// with the upstream's certificate verified: unary and its trailers
--- config
    location / {
        grpc_ssl_verify on;
        grpc_ssl_trusted_certificate $TEST_MOONGATE_CERT_DIR/ca.crt;
        grpc_ssl_name localhost;
        grpc_pass grpcs://127.0.0.1:$TEST_NGINX_GRPCS_PORT;
    }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT -m x-trailer 127.0.0.1:$TEST_NGINX_SERVER_PORT unary tls
--- h2_out
echo:tls
status OK 
x-trailer t
--- no_error_log
[error]



=== TEST 2: grpcs:// streaming both ways
--- config
    location / { grpc_pass grpcs://127.0.0.1:$TEST_NGINX_GRPCS_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT bidi a b
--- h2_out
bidi:a
bidi:b
status OK 



=== TEST 3: a certificate that does not match grpc_ssl_name: 502, logged
--- config
    location / {
        grpc_ssl_verify on;
        grpc_ssl_trusted_certificate $TEST_MOONGATE_CERT_DIR/ca.crt;
        grpc_ssl_name a.test;
        grpc_pass grpcs://127.0.0.1:$TEST_NGINX_GRPCS_PORT;
    }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x 2>/dev/null
--- h2_out
status UNAVAILABLE Received http2 header with status: 502
--- error_log
upstream SSL certificate does not match "a.test" while SSL handshaking to upstream



=== TEST 4: a gRPC client over TLS (ALPN h2) to the server, grpc:// behind it
--- ssl
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT --tls $TEST_MOONGATE_CERT_DIR/ca.crt --name localhost 127.0.0.1:$TEST_NGINX_SERVER_PORT sstream 3
--- h2_out
msg-0
msg-1
msg-2
status OK 



=== TEST 5: TLS on both sides
--- ssl
--- config
    location / { grpc_pass grpcs://127.0.0.1:$TEST_NGINX_GRPCS_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT --tls $TEST_MOONGATE_CERT_DIR/ca.crt --name localhost 127.0.0.1:$TEST_NGINX_SERVER_PORT cstream x y
--- h2_out
got 2: x,y
status OK 
