# body_filter_by_lua on a location ngx.location.capture proxies to, as lua-nginx-module (Debian's
# nginx 1.22) runs it: with proxy_buffering on the body comes to the code in one call, then the
# end in a call of its own (nginx's event pipe passes a subrequest's body at its end when the
# subrequest is not the connection's active request), however the upstream's pieces came; with
# proxy_buffering off, one call per piece read. Found in a side-by-side survey (t/827-829's
# leftovers). Not here: a body larger than proxy_buffers' room, which moongate passes on once
# the buffers are full (nginx would spool it to a file first).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/869-lua-diff-filter-capture.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: a captured buffered proxied body in one call, however many pieces the upstream sent
--- http_config
    init_by_lua_block {
        function calls()
            local ctx = ngx.ctx
            ctx.calls = ctx.calls or {}
            ctx.calls[#ctx.calls + 1] = #ngx.arg[1] .. (ngx.arg[2] and "!" or "")
            if ngx.arg[2] then
                ngx.log(ngx.WARN, ngx.var.uri, " calls: ", table.concat(ctx.calls, " "))
            end
        end
    }
--- config
    location /up {
        content_by_lua_block {
            for i = 1, 3 do
                ngx.print(string.rep("x", 100))
                ngx.flush(true)
                ngx.sleep(0.02)
            end
        }
    }
    location /buffered {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
        proxy_http_version 1.1;
        body_filter_by_lua_block { calls() }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/buffered")
            ngx.say(res.status, " ", #res.body)
        }
    }
--- request
GET /t
--- response_body
200 300
--- error_log
/buffered calls: 300 0!



=== TEST 2: unbuffered, and proxied by the main request: a call per piece (each sent once the one before was seen)
--- http_config
    lua_shared_dict d 1m;
    init_by_lua_block {
        function calls()
            local ctx = ngx.ctx
            ctx.calls = ctx.calls or {}
            ctx.calls[#ctx.calls + 1] = #ngx.arg[1] .. (ngx.arg[2] and "!" or "")
            if #ngx.arg[1] > 0 then
                ngx.shared.d:incr("seen", 1, 0)
            end
            if ngx.arg[2] then
                ngx.log(ngx.WARN, ngx.var.uri, " calls: ", table.concat(ctx.calls, " "))
            end
        end
    }
--- config
    location /up {
        content_by_lua_block {
            -- each piece once the filter has seen the one before (bounded), so each is a read
            local d = ngx.shared.d
            d:set("seen", 0)
            for i = 1, 3 do
                ngx.print(string.rep("x", 100))
                ngx.flush(true)
                for _ = 1, 400 do
                    if d:get("seen") >= i then break end
                    ngx.sleep(0.005)
                end
            end
        }
    }
    location /unbuffered {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
        proxy_http_version 1.1;
        proxy_buffering off;
        body_filter_by_lua_block { calls() }
    }
    location /main {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
        proxy_http_version 1.1;
        body_filter_by_lua_block { calls() }
    }
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/unbuffered")
            ngx.say(res.status, " ", #res.body)
        }
    }
--- pipelined_requests eval
["GET /t", "GET /main"]
--- response_body_filters eval
sub { my $b = shift; $b =~ s/x+/x.../; $b }
--- response_body eval
["200 300\n", "x..."]
--- error_log
/unbuffered calls: 100 100 100 0!
/main calls: 100 100 100 0!
