# grpc_pass's failures, as nginx reports them (t/lib/grpc_server.py on a free port, grpcio's
# client through the server under test): an upstream that refuses the connection (502, the
# client's UNAVAILABLE), grpc_next_upstream to a backup and off, grpc_read_timeout once the
# answer began (the stream is reset), the client's deadline, an upstream that speaks
# HTTP/1.x, and grpc_intercept_errors with an HTTP/2 upstream answering 503 (the server
# under test itself, h2c).
#
#   prove -I t/lib t/605-grpc-errors.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/605-grpc-errors.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateBackend;
use Test::MoongateGrpc;

grpc_daemon('grpc');
backend(gone => 'refused');
backend(h1 => 'echo');
$ENV{TEST_NGINX_H2UP_PORT} = Test::Moongate::find_free_port();

h2_blocks();

run_tests();

__DATA__

=== TEST 1: an upstream that refuses the connection: 502, which the client takes for UNAVAILABLE
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GONE_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x 2>/dev/null
--- h2_out
status UNAVAILABLE Received http2 header with status: 502
--- error_log eval
qr/\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: .*, request: "POST \/test\.Echo\/Unary HTTP\/2\.0", upstream: "grpc:\/\/127\.0\.0\.1:\d+"/



=== TEST 2: grpc_next_upstream error (the default): the backup answers
--- http_config
    upstream g {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_GRPC_PORT backup;
    }
--- config
    location / { grpc_pass g; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x
--- h2_out
echo:x
status OK 
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 3: grpc_next_upstream off: the first failure is the answer
--- http_config
    upstream g {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_GRPC_PORT backup;
    }
--- config
    location / { grpc_next_upstream off; grpc_pass g; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x 2>/dev/null
--- h2_out
status UNAVAILABLE Received http2 header with status: 502



=== TEST 4: grpc_read_timeout after the answer's head: the stream is reset, the timeout logged
--- config
    location / { grpc_read_timeout 1s; grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary sleep
--- h2_out
status INTERNAL Received RST_STREAM with error code 2
--- error_log eval
qr/\[error\] .*upstream timed out \(110: Connection timed out\) while reading upstream, client: 127\.0\.0\.1, .*upstream: "grpc:\/\/127\.0\.0\.1:\d+"/



=== TEST 5: the client's deadline (grpc-timeout) ends the call
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT --timeout 1 127.0.0.1:$TEST_NGINX_SERVER_PORT unary sleep
--- h2_out
status DEADLINE_EXCEEDED Deadline Exceeded



=== TEST 6: an upstream that answers in HTTP/1.1: its first bytes read as a far too large frame, 502
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_H1_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x 2>/dev/null
--- h2_out
status UNAVAILABLE Received http2 header with status: 502
--- error_log eval
qr/\[error\] .*upstream sent too large http2 frame: 4740180 while reading response header from upstream, client: 127\.0\.0\.1, /



=== TEST 7: grpc_intercept_errors: an HTTP/2 upstream's 503 becomes the error_page's answer (an HTTP/1.1 client)
--- listen_options
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_H2UP_PORT http2;
        location / { return 503 "inner 503\n"; }
    }
--- config
    location = /svc/call {
        grpc_intercept_errors on;
        error_page 503 /intercepted;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_H2UP_PORT;
    }
    location = /intercepted { return 200 "intercepted\n"; }
--- request
GET /svc/call
--- error_code: 503
--- response_body
intercepted



=== TEST 8: without grpc_intercept_errors the upstream's 503 and its body pass
--- listen_options
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_H2UP_PORT http2;
        location / { return 503 "inner 503\n"; }
    }
--- config
    location = /svc/call {
        error_page 503 /intercepted;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_H2UP_PORT;
    }
    location = /intercepted { return 200 "intercepted\n"; }
--- request
GET /svc/call
--- error_code: 503
--- response_body
inner 503
