# grpc_* settings whose effect shows outside the answer (t/lib/grpc_server.py on a free port):
# grpc_buffer_size bounds the answer's head, grpc_socket_keepalive's SO_KEEPALIVE on the
# upstream connection (ss shows its timer), grpc_pass with variables, grpc_pass_header, and
# the configuration errors nginx reports.
#
#   prove -I t/lib t/608-grpc-conf.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/608-grpc-conf.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateGrpc;

grpc_daemon('grpc');

h2_blocks();

run_tests();

__DATA__

=== TEST 1: grpc_buffer_size too small for the answer's head: 502, logged
--- config
    location / { grpc_buffer_size 64; grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x 2>/dev/null
--- h2_out
status UNAVAILABLE Received http2 header with status: 502
--- error_log
upstream sent too big header while reading response header from upstream



=== TEST 2: grpc_buffer_size large enough
--- config
    location / { grpc_buffer_size 1k; grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary x
--- h2_out
echo:x
status OK 



=== TEST 3: grpc_socket_keepalive on: the upstream connection has a keepalive timer
--- config
    location / { grpc_socket_keepalive on; grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary sleep > /dev/null & for i in $(seq 50); do ss -tnoH state established dst 127.0.0.1:$TEST_NGINX_GRPC_PORT | grep -q . && break; sleep 0.1; done; ss -tnoH state established dst 127.0.0.1:$TEST_NGINX_GRPC_PORT | grep -c "timer:(keepalive"; wait
--- h2_out
1



=== TEST 4: grpc_socket_keepalive off (the default): none
--- config
    location / { grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT; }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT unary sleep > /dev/null & for i in $(seq 50); do ss -tnoH state established dst 127.0.0.1:$TEST_NGINX_GRPC_PORT | grep -q . && break; sleep 0.1; done; ss -tnoH state established dst 127.0.0.1:$TEST_NGINX_GRPC_PORT | grep -c "timer:(keepalive"; wait
--- h2_out
0



=== TEST 5: grpc_pass with variables
--- config
    location / {
        set $up 127.0.0.1:$TEST_NGINX_GRPC_PORT;
        grpc_pass grpc://$up;
    }
--- h2_cmd
$TEST_NGINX_GRPC_CLIENT 127.0.0.1:$TEST_NGINX_SERVER_PORT sstream 2
--- h2_out
msg-0
msg-1
status OK 



=== TEST 6: grpc_ssl_verify without grpc_ssl_trusted_certificate is refused
--- config
    location / {
        grpc_ssl_verify on;
        grpc_pass grpcs://127.0.0.1:$TEST_NGINX_GRPC_PORT;
    }
--- must_die
--- error_log
no grpc_ssl_trusted_certificate for grpc_ssl_verify



=== TEST 7: grpc_pass twice in a location
--- config
    location / {
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_GRPC_PORT;
    }
--- must_die
--- error_log
"grpc_pass" directive is duplicate
