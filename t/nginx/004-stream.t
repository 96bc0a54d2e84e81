# OpenResty's Test::Nginx::Socket::Lua::Stream against the server: stream_config,
# stream_server_config (and 2), stream_request, stream_response / stream_response_like; the
# harness writes a stream {} block into main_config and an HTTP location /t whose cosocket
# talks to it. Only the stream modules Debian's nginx has (proxy, return, upstream), so the
# same file runs on both, but for the stream Lua block (moongate only). Run by `make test-nginx`.

use Cwd ();
use File::Basename ();
BEGIN {
    $ENV{TEST_NGINX_BINARY} ||= Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..')
        . '/objs/moongate';
    if (!eval { require Test::Nginx::Socket::Lua::Stream; 1 }) {
        print "1..0 # SKIP Test::Nginx::Socket not on \@INC (make test-nginx TEST_NGINX_LIB=...)\n";
        exit 0;
    }
}
use Test::Nginx::Socket::Lua::Stream 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a stream server's return with a variable
--- stream_server_config
    return "peer=$remote_addr proto=$protocol\n";
--- stream_response
peer=127.0.0.1 proto=TCP
--- no_error_log
[error]

=== TEST 2: stream proxy_pass to the harness's TCP server; stream_request reaches it
--- stream_config
    upstream backend {
        server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- stream_server_config
    proxy_pass backend;
    proxy_connect_timeout 2s;
--- stream_request chop
HELLO
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query: HELLO
--- tcp_reply: WORLD
--- stream_response chop
WORLD

=== TEST 3: stream_response_like and a second stream server (stream_server_config2)
--- stream_server_config
    return "first $server_port\n";
--- stream_server_config2
    return "second\n";
--- stream_response_like eval
qr/^first \d+\nsecond\n\z/

=== TEST 4: a stream upstream that refuses: the error line with the stream context
--- stream_server_config
    proxy_pass 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
    proxy_connect_timeout 1s;
--- stream_response chop
--- error_log eval
qr/\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: 0\.0\.0\.0:\d+, upstream: "127\.0\.0\.1:\d+", bytes from\/to client:0\/0, bytes from\/to upstream:0\/0/

=== TEST 5: stream Lua (moongate: Debian has no stream Lua module): a timer made by a session logs with its context
--- skip_eval: 2: `$ENV{TEST_NGINX_BINARY} -v 2>&1` !~ /moongate/
--- stream_server_config
    content_by_lua_block {
        ngx.timer.at(0, function() ngx.log(ngx.WARN, "session timer ran") end)
        ngx.say("from lua")
    }
--- stream_response
from lua
--- wait: 0.2
--- error_log eval
qr/\[warn\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(nginx\.conf:\d+\):2: session timer ran, context: ngx\.timer, client: 127\.0\.0\.1, server: 0\.0\.0\.0:\d+$/m
