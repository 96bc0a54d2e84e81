# grpc_send_timeout and grpc_pass_header (modules/grpc.c on core/http/upstream_h2.c) against
# an HTTP/2 server in Python (t/lib/h2_bad_server.py, python3-h2): one that never opens its
# flow-control window, so a body over 64 KB cannot be sent (504 after grpc_send_timeout,
# "while sending request to upstream", grpc_read_timeout being long), and one that answers
# with the lines nginx's gRPC proxy hides by default (Date, Server, X-Accel-*).
#
#   prove -I t/lib t/623-grpc-send-pass-header.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/623-grpc-send-pass-header.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateDaemon;

my $py = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
plan skip_all => 'python3-h2 is not installed (configure --install-deps)'
    if system("$py -c 'import h2' 2>/dev/null") != 0;

daemon(h2 => sub { my ($port) = @_; return ($py, "$FindBin::Bin/lib/h2_bad_server.py", $port) });

log_level('info');

run_tests();

__DATA__

=== TEST 1: grpc_send_timeout: a body the upstream gives no window for is given up after it (504)
--- config
    location / {
        grpc_send_timeout 500ms;
        grpc_read_timeout 60s;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_H2_PORT;
    }
--- request eval
"POST /test.Echo/no-window\n" . ("x" x 200000)
--- error_code: 504
--- timeout: 10
--- error_log eval
qr/\[error\] .*upstream timed out \(110: Connection timed out\) while sending request to upstream, client: 127\.0\.0\.1, .*upstream: "grpc:\/\/127\.0\.0\.1:\d+"/



=== TEST 2: the same body with a window: sent whole, the answer relayed
--- config
    location / {
        grpc_send_timeout 500ms;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_H2_PORT;
    }
--- request eval
"POST /test.Echo/Unary\n" . ("x" x 200000)
--- response_body eval
"\0\0\0\0\2hi"
--- no_error_log
[error]



=== TEST 3: by default the upstream's Server, Date and X-Accel-* lines are hidden
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_H2_PORT; }
--- request
GET /test.Echo/hidden
--- response_headers
X-Up: 1
!X-Accel-Expires
--- raw_response_headers_unlike
(?im)^(?:Server: h2-up|Date: Mon, 01 Jan 2001)
--- response_body eval
"\0\0\0\0\2hi"



=== TEST 4: grpc_pass_header shows them: the upstream's Server and Date replace the proxy's own
--- config
    location / {
        grpc_pass_header Server;
        grpc_pass_header Date;
        grpc_pass_header X-Accel-Expires;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_H2_PORT;
    }
--- request
GET /test.Echo/hidden
--- response_headers
Server: h2-up
Date: Mon, 01 Jan 2001 00:00:00 GMT
X-Accel-Expires: 10
X-Up: 1



=== TEST 5: grpc_pass_header in server{} is inherited; a location's own replaces it
--- config
    grpc_pass_header Server;
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_H2_PORT; }
    location /test.Echo/own/ {
        grpc_pass_header X-Accel-Expires;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_H2_PORT;
    }
--- request eval
["GET /test.Echo/hidden", "GET /test.Echo/own/hidden"]
--- response_headers eval
["Server: h2-up\n!X-Accel-Expires", "X-Accel-Expires: 10"]
--- raw_response_headers_unlike eval
["(?im)^Date: Mon, 01 Jan 2001", "(?im)^Server: h2-up"]
