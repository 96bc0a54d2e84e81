# grpc_connect_timeout (an upstream whose accept queue is full: 504 once it passed, logged as
# nginx does), grpc_bind (the upstream connection's local address: the server reports its
# peer) and grpc_pass_header (Test::Moongate's gRPC server on a free port, t/lib/grpc_server.py;
# grpcio's client through the server under test).
#
#   prove -I t/lib t/621-grpc-timeouts-bind.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/621-grpc-timeouts-bind.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateBackend;
use Test::MoongateGrpc;

grpc_daemon('grpc');
backend(hole => 'blackhole');

h2_blocks();

run_tests();

__DATA__

=== TEST 1: grpc_connect_timeout: a connect that never completes is given up after it (504, the client's UNAVAILABLE)
--- config
    location / {
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_HOLE_PORT;
        grpc_connect_timeout 300ms;
    }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT --timeout 20 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x 2>/dev/null
--- h2_out
status UNAVAILABLE Received http2 header with status: 504
--- error_log eval
qr/\[error\] .*upstream timed out \(110: Connection timed out\) while connecting to upstream, client: 127\.0\.0\.1, .*upstream: "grpc:\/\/127\.0\.0\.1:\d+"/



=== TEST 2: grpc_bind: the upstream connection comes from the given local address
--- config
    location / {
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT;
        grpc_bind 127.0.0.2;
    }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary peer
--- h2_out_like
^ipv4:127\.0\.0\.2:\d+\nstatus OK $



=== TEST 3: grpc_bind with a variable: its value is the address
--- config
    location / {
        set $src 127.0.0.3;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT;
        grpc_bind $src;
    }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary peer
--- h2_out_like
^ipv4:127\.0\.0\.3:\d+\nstatus OK $
