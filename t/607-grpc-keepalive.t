# grpc_pass to an upstream{} with keepalive: calls one after another go on one HTTP/2
# connection (the gRPC server sees one client port; t/lib/grpc_server.py's "peer"), streams
# included, and without keepalive each call has its own.
#
#   prove -I t/lib t/607-grpc-keepalive.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/607-grpc-keepalive.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateGrpc;

grpc_daemon('grpc');

h2_blocks();

run_tests();

__DATA__

=== TEST 1: keepalive: three calls, one upstream connection
--- http_config
    upstream g {
        server 127.0.0.1:$TEST_NGINX_GRPC_PORT;
        keepalive 4;
    }
--- config
    location / { grpc_pass g; }
--- h2_cmd
C="$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT"; a=$($C unary peer | sed -n 1p); b=$($C unary peer | sed -n 1p); c=$($C unary peer | sed -n 1p); echo $a | grep -c "^ipv4:127.0.0.1:"; [ "$a" = "$b" ] && [ "$b" = "$c" ] && echo same
--- h2_out
1
same



=== TEST 2: keepalive: a server stream ended cleanly leaves the connection for the next call
--- http_config
    upstream g {
        server 127.0.0.1:$TEST_NGINX_GRPC_PORT;
        keepalive 4;
    }
--- config
    location / { grpc_pass g; }
--- h2_cmd
C="$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT"; a=$($C unary peer | sed -n 1p); $C sstream 2; b=$($C unary peer | sed -n 1p); [ "$a" = "$b" ] && echo same
--- h2_out
msg-0
msg-1
status OK 
same



=== TEST 3: keepalive after client and bidi streams; the server's PINGs between calls are answered, not a reason to close
--- http_config
    upstream g {
        server 127.0.0.1:$TEST_NGINX_GRPC_PORT;
        keepalive 4;
    }
--- config
    location / { grpc_pass g; }
--- h2_cmd
C="$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT"; a=$($C unary peer | sed -n 1p); $C cstream x y; $C bidi x y; $C bidi z; b=$($C unary peer | sed -n 1p); [ "$a" = "$b" ] && echo same
--- h2_out
got 2: x,y
status OK 
bidi:x
bidi:y
status OK 
bidi:z
status OK 
same
--- moongate_only: nginx 1.22 closes the connection when grpcio's BDP PING comes after a stream's end, so the next call connects anew



=== TEST 4: without keepalive each call connects anew
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
C="$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT"; a=$($C unary peer | sed -n 1p); b=$($C unary peer | sed -n 1p); [ "$a" != "$b" ] && echo differ
--- h2_out
differ
