# A new upstream connection (no TLS) is registered once, edge-triggered, for its life (issue
# 16): its readiness is remembered until a read or a write finds the socket empty or full, so
# what a level-triggered event would have reported again must still be read. Bodies the
# buffers cannot hold at once, whose size is a multiple of the buffer (reads that fill it
# exactly and find no end), close-delimited ones, with proxy_buffering off, request bodies
# that fill the socket (sent from memory and from the temporary file), and such a connection
# kept alive and reused: each arrives whole.
#
#   prove -I t/lib t/164-upstream-edge-triggered.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/164-upstream-edge-triggered.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;
use Test::MoongateBackend;

backend(a => 'echo');
backend(k => 'counting');

our $Small = <<'EOF';
    proxy_buffer_size 4k;
    proxy_buffers 2 4k;
    proxy_busy_buffers_size 4k;
EOF

log_level('info');

run_tests();

__DATA__

=== TEST 1: a body of exactly 64 buffers, small buffers, a connection per request
--- config eval
"location /t { $main::Small proxy_max_temp_file_size 0; proxy_pass http://127.0.0.1:\$TEST_NGINX_A_PORT; }"
--- request eval
["GET /t", "GET /t"]
--- more_headers
X-Echo-Size: 262144
--- response_body_filters eval: \&main::as_pattern
--- response_body eval
["262144 pattern", "262144 pattern"]
--- no_error_log
[error]



=== TEST 2: a close-delimited body (read to the upstream's close)
--- config eval
"location /t { $main::Small proxy_max_temp_file_size 0; proxy_pass http://127.0.0.1:\$TEST_NGINX_A_PORT; }"
--- request
GET /t
--- more_headers
X-Echo-Size: 200000
X-Echo-Mode: close
--- response_body_filters eval: \&main::as_pattern
--- response_body: 200000 pattern
--- no_error_log
[error]



=== TEST 3: proxy_buffering off, a chunked body of 16 buffers
--- config eval
"location /t { $main::Small proxy_buffering off; proxy_pass http://127.0.0.1:\$TEST_NGINX_A_PORT; }"
--- request
GET /t
--- more_headers
X-Echo-Size: 65536
X-Echo-Mode: chunked
--- response_body_filters eval: \&main::as_pattern
--- response_body: 65536 pattern
--- no_error_log
[error]



=== TEST 4: a 4 MiB request body from memory fills the upstream socket: all of it is sent
--- config
    client_body_buffer_size 8m;
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request eval
"POST /t\n" . ("x" x 4194304)
--- more_headers
X-Echo-Body: got it
--- response_body: got it
--- no_error_log
[error]



=== TEST 5: a 4 MiB request body from its temporary file (sendfile) likewise
--- config
    client_body_buffer_size 16k;
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request eval
"POST /t\n" . ("y" x 4194304)
--- more_headers
X-Echo-Body: got it
--- response_body: got it
--- no_error_log
[error]



=== TEST 6: a connection made so is kept alive and carries the next requests
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 2;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["conn=\\d+ req=1\n", "req=2\n", "req=3\n", "req=4\n"]
--- no_error_log
[error]
