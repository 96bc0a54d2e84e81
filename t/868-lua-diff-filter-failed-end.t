# body_filter_by_lua code that fails on the end (ngx.arg[2] true) is not run again, as
# lua-nginx-module (Debian's nginx 1.22) does: neither on the flush before the connection is
# closed (an unbuffered proxied response) nor on the end the request's own finish would send
# after ngx.eof's failed; a small buffered proxied response held for postpone_output is not
# sent at all then (nginx's event pipe passes the rest not recycled once the upstream is done).
# Found in a side-by-side survey (t/827-829's leftovers).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/868-lua-diff-filter-failed-end.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: an unbuffered proxied response: two calls, the second fails, no third
--- http_config
    init_by_lua_block {
        function fail_on_end()
            local ctx = ngx.ctx
            ctx.calls = (ctx.calls or 0) + 1
            ngx.log(ngx.WARN, "call ", ctx.calls, ": [", ngx.arg[1], "] ", ngx.arg[2])
            if ngx.arg[2] then
                error("fails on the end")
            end
        end
    }
--- config
    location /up { return 200 "hello\n"; }
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
        proxy_buffering off;
        body_filter_by_lua_block { fail_on_end() }
    }
--- request
GET /t
--- response_body
hello
--- error_log
call 1: [hello
call 2: [] true
fails on the end
--- no_error_log
call 3:



=== TEST 2: ngx.eof's end fails: the code is not run on the request's end after it
--- http_config
    init_by_lua_block {
        function fail_on_end()
            local ctx = ngx.ctx
            ctx.calls = (ctx.calls or 0) + 1
            ngx.log(ngx.WARN, "call ", ctx.calls, ": [", ngx.arg[1], "] ", ngx.arg[2])
            if ngx.arg[2] then
                error("fails on the end")
            end
        end
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.print("hello\n")
            ngx.flush(true)
            ngx.eof()
            ngx.log(ngx.WARN, "after eof")
        }
        body_filter_by_lua_block { fail_on_end() }
    }
--- request
GET /t
--- response_incomplete
--- response_body
hello
--- error_log
call 2: [] false
call 3: [] true
fails on the end
after eof
--- no_error_log
call 4:



=== TEST 3: a small buffered proxied response whose end fails: nothing was sent (the writer held it for postpone_output)
--- config
    location /up { return 200 "hello\n"; }
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
        body_filter_by_lua_block {
            if ngx.arg[2] then
                error("fails on the end")
            end
        }
    }
    location /t {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            s:settimeout(3000)
            assert(s:connect("127.0.0.1", ngx.var.server_port))
            assert(s:send("GET /p HTTP/1.1\r\nHost: localhost\r\n\r\n"))
            local data, err, partial = s:receive("*a")
            ngx.say("received ", #(data or partial), " bytes, ", err or "then the close")
        }
    }
--- request
GET /t
--- response_body
received 0 bytes, then the close
--- error_log
fails on the end
