# body_filter_by_lua as lua-nginx-module (Debian's nginx 1.22) runs it on proxied responses:
# the data in calls with ngx.arg[2] false, then the end in a call of its own with ngx.arg[1]
# "" (nginx's event pipe passes the body, the request's end the last buffer); an upstream's
# 204 or 304, relayed with its status line, still passes the body filters (nginx's header
# filter makes only a status line it words itself header-only), so the code sees its empty
# end; a filter that fails in the middle breaks the response off (no last chunk, the
# connection closed) and still runs on the end. Found in a side-by-side survey.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/827-lua-diff-filter-end.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: a small proxied response: the data, then an empty end
--- http_config
    init_by_lua_block {
        function seen()
            local ctx = ngx.ctx
            ctx.calls = (ctx.calls or 0) + 1
            if ngx.arg[2] then
                ngx.arg[1] = ngx.arg[1] .. "end: [" .. ngx.arg[1] .. "] after " .. (ctx.calls - 1)
                             .. " call(s) with " .. (ctx.bytes or 0) .. " bytes\n"
            else
                ctx.bytes = (ctx.bytes or 0) + #ngx.arg[1]
            end
        end
    }
--- config
    location /up { return 200 "hello\n"; }
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
        header_filter_by_lua_block { ngx.header.content_length = nil }
        body_filter_by_lua_block { seen() }
    }
--- request
GET /t
--- response_body
hello
end: [] after 1 call(s) with 6 bytes



=== TEST 2: a chunked body through small proxy buffers and a kept-alive upstream connection
--- http_config
    upstream up {
        server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        keepalive 2;
    }
--- config
    location /up {
        content_by_lua_block {
            for i = 1, 20 do ngx.print(string.rep("x", 1000)) end
        }
    }
    location /t {
        proxy_pass http://up/up;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffer_size 1k;
        proxy_buffers 2 1k;
        proxy_busy_buffers_size 1k;
        body_filter_by_lua_block {
            local ctx = ngx.ctx
            if ngx.arg[2] then
                ngx.arg[1] = ngx.arg[1] .. "\nend: [" .. ngx.arg[1] .. "] after " .. ctx.bytes .. " bytes\n"
            else
                ctx.bytes = (ctx.bytes or 0) + #ngx.arg[1]
            end
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body_filters eval
sub { my $b = shift; $b =~ s/x+/x.../; $b }
--- response_body eval
["x...\nend: [] after 20000 bytes\n", "x...\nend: [] after 20000 bytes\n"]



=== TEST 3: an upstream's 204 and 304: the code runs on the empty end
--- config
    location /up204 { return 204; }
    location /up304 { return 304; }
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up$arg_s;
        body_filter_by_lua_block {
            ngx.log(ngx.WARN, "body filter on ", ngx.status, ": [", ngx.arg[1], "] ", ngx.arg[2])
        }
    }
--- pipelined_requests eval
["GET /t?s=204", "GET /t?s=304"]
--- error_code eval
[204, 304]
--- response_body eval
["", ""]
--- error_log
body filter on 204: [] true
body filter on 304: [] true



=== TEST 4: a runtime error in the middle breaks the response off; the code still runs on the end
--- config
    location /t {
        content_by_lua_block {
            ngx.say("one")
            ngx.flush(true)
            ngx.say("two")
        }
        body_filter_by_lua_block {
            if ngx.arg[1] == "two\n" then
                error("no two")
            end
            if ngx.arg[2] then
                ngx.log(ngx.WARN, "the end after the error: [", ngx.arg[1], "]")
            end
        }
    }
--- request
GET /t
--- more_headers
Connection: keep-alive
--- response_incomplete
--- response_body
one
--- error_log
no two
the end after the error: []



=== TEST 5: a runtime error on a buffered proxied response: the code is not run again (nothing is passed on, no flush before the close)
--- config
    location /up {
        content_by_lua_block {
            ngx.say("one")
            ngx.flush(true)
            ngx.sleep(0.05)
            ngx.say("two")
        }
    }
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
        body_filter_by_lua_block {
            if ngx.ctx.failed then
                ngx.log(ngx.WARN, "a call after the error: [", ngx.arg[1], "] ", ngx.arg[2])
            end
            if ngx.arg[1]:find("two") then
                ngx.ctx.failed = true
                error("no two")
            end
        }
    }
--- request
GET /t
--- ignore_response
--- error_log
no two
--- no_error_log
a call after the error
