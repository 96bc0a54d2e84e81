# grpc_pass (modules/grpc.c on core/http/upstream_h2.c) to a real gRPC server (python3-grpcio,
# t/lib/grpc_server.py) started by this file on a free port, called through the server under
# test by grpcio's client (t/lib/grpc_client.py) over h2c with prior knowledge: unary with
# its initial and trailing metadata, an error status with its message, server, client and
# bidi streaming, grpc_set_header and the client's metadata, grpc_hide_header.
#
#   prove -I t/lib t/604-grpc.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/604-grpc.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateGrpc;

grpc_daemon('grpc');

h2_blocks();

run_tests();

__DATA__

=== TEST 1: unary: the answer, its initial metadata and its trailers (grpc-status in them)
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT -m x-init -m x-trailer 127.0.0.1:$TEST_NGINX_SERVER_PORT unary hello
--- h2_out
echo:hello
status OK 
x-init 1
x-trailer t
--- no_error_log
[error]



=== TEST 2: an error status and its message reach the client in the trailers
--- config
    location / { grpc_pass 127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT -m x-trailer 127.0.0.1:$TEST_NGINX_SERVER_PORT unary fail
--- h2_out
status INVALID_ARGUMENT bad thing
x-trailer t
--- no_error_log
[error]



=== TEST 3: server streaming: every message, then the status
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT sstream 5
--- h2_out
msg-0
msg-1
msg-2
msg-3
msg-4
status OK 



=== TEST 4: a long server stream (20000 messages) passes whole: flow control holds the pace
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT sstream 20000 | sed -n "1p;20000p;20001p;20002p"
--- h2_out
msg-0
msg-19999
status OK 



=== TEST 5: client streaming: the messages arrive as one stream
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT cstream a bb ccc dddd
--- h2_out
got 4: a,bb,ccc,dddd
status OK 



=== TEST 6: bidi streaming: each answer comes back before the client sends the next message
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT bidi one two three
--- h2_out
bidi:one
bidi:two
bidi:three
status OK 



=== TEST 7: grpc_set_header adds metadata (and an empty value drops the client's); the client's own metadata passes
--- config
    location / {
        grpc_set_header x-added "v-$request_method";
        grpc_set_header x-dropped "";
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT;
    }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT -H x-mine=1 -H x-dropped=2 127.0.0.1:$TEST_NGINX_SERVER_PORT unary meta
--- h2_out
x-added=v-POST
x-mine=1
status OK 



=== TEST 8: grpc_hide_header drops a field of the answer's head
--- config
    location / {
        grpc_hide_header x-init;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT;
    }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT -m x-init -m x-trailer 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x
--- h2_out
echo:x
status OK 
x-init None
x-trailer t



=== TEST 9: trailers on an h2 stream are HEADERS after the last DATA (add_trailer's too, as nginx)
--- config
    location / { add_trailer x-t "yes"; return 200 "body\n"; }
--- h2_cmd
nghttp -v http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ 2>&1 | grep -E "recv (HEADERS|DATA) frame|x-t:" | sed -e "s/^.*recv //" -e "s/ <length=[0-9]*, flags=/ /" -e "s/, stream_id.*//"
--- h2_out
HEADERS frame 0x04
DATA frame 0x00
(stream_id=13) x-t: yes
HEADERS frame 0x05
