# Directives an nginx 1.22 configuration may carry that moongate refused: ssl_engine (main
# context: an OpenSSL engine made the default; one OpenSSL cannot load stops the start with
# nginx's message), http2_pool_size (each HTTP/2 stream's pool, nginx's bounds) and
# http2_streams_index_size (a power of two), open_file_cache_events (kqueue only: on Linux
# nginx takes it and nothing changes). Each in its contexts, with nginx's errors.
#
#   prove -I t/lib t/950-gap-directives.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/950-gap-directives.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

run_tests();

__DATA__

=== TEST 1: ssl_engine with an engine OpenSSL has ("dynamic"): the server runs
--- main_config
    ssl_engine dynamic;
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 2: ssl_engine with an engine OpenSSL cannot load: nginx's message, OpenSSL's reasons
--- main_config
    ssl_engine no-such-engine;
--- must_die
--- error_log eval
qr/\[emerg\] .*ENGINE_by_id\("no-such-engine"\) failed \(SSL: .*no such engine:id=no-such-engine\)/



=== TEST 3: ssl_engine is for the main context
--- config
    ssl_engine dynamic;
--- must_die
--- error_log eval
qr/"ssl_engine" directive is not allowed here in \S+:\d+/



=== TEST 4: http2_pool_size and http2_streams_index_size in http and server
--- http_config
    http2_pool_size 8k;
    http2_streams_index_size 64;
--- config
    http2_pool_size 4096;
    http2_streams_index_size 16;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 5: http2_pool_size below nginx's least
--- config
    http2_pool_size 64;
--- must_die
--- error_log eval
qr/the pool size must be no less than 112 in \S+:\d+/



=== TEST 6: http2_pool_size not a multiple of 16
--- config
    http2_pool_size 4100;
--- must_die
--- error_log eval
qr/the pool size must be a multiple of 16 in \S+:\d+/



=== TEST 7: http2_streams_index_size must be a power of two
--- config
    http2_streams_index_size 33;
--- must_die
--- error_log eval
qr/"http2_streams_index_size" directive must be a power of two in \S+:\d+/



=== TEST 8: http2_pool_size is not a location's
--- config
    location / { http2_pool_size 4k; }
--- must_die
--- error_log eval
qr/"http2_pool_size" directive is not allowed here in \S+:\d+/



=== TEST 9: open_file_cache_events in every context, files served as before
--- http_config
    open_file_cache max=10;
    open_file_cache_events on;
--- config
    open_file_cache_events off;
    location / { open_file_cache_events on; }
--- user_files
>>> a.txt
file a
--- request
GET /a.txt
--- response_body
file a



=== TEST 10: open_file_cache_events wants on or off
--- config
    open_file_cache_events yes;
--- must_die
--- error_log eval
qr/invalid value "yes" in "open_file_cache_events" directive, it must be "on" or "off" in \S+:\d+/
