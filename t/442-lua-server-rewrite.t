# server_rewrite_by_lua_block / _file (http, server): Lua in the server's rewrite phase, before
# the location is chosen and before the location's rewrite_by_lua; ngx.get_phase() says
# "server_rewrite", the rewrite phase's API works there.
#
#   prove -I t/lib t/442-lua-server-rewrite.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/442-lua-server-rewrite.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: it runs before the location's rewrite_by_lua, and its URI change picks the location
--- config
    server_rewrite_by_lua_block {
        ngx.ctx.seen = ngx.get_phase()
        if ngx.var.uri == "/old" then
            ngx.req.set_uri("/new")
        end
    }
    location /new {
        rewrite_by_lua_block { ngx.ctx.seen = ngx.ctx.seen .. " " .. ngx.get_phase() }
        content_by_lua_block { ngx.say(ngx.ctx.seen, " ", ngx.var.uri) }
    }
--- request
GET /old
--- response_body
server_rewrite rewrite /new



=== TEST 2: set at the http{} level it runs for every server; a server's own replaces it
--- http_config
    server_rewrite_by_lua_block { ngx.req.set_header("X-From", "http") }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name other;
        server_rewrite_by_lua_block { ngx.req.set_header("X-From", "server") }
        location / { content_by_lua_block { ngx.say(ngx.var.http_x_from) } }
    }
--- config
    location / { content_by_lua_block { ngx.say(ngx.var.http_x_from) } }
--- request eval
["GET /", "GET /"]
--- more_headers eval
["Host: localhost", "Host: other"]
--- response_body eval
["http\n", "server\n"]



=== TEST 3: ngx.exit with a status ends the request there, ngx.sleep may wait
--- config
    server_rewrite_by_lua_block {
        ngx.sleep(0.01)
        if ngx.var.arg_deny then
            ngx.exit(403)
        end
    }
    location /t { return 200 "passed\n"; }
--- request eval
["GET /t?deny=1", "GET /t"]
--- error_code eval
[403, 200]
--- response_body_like eval
["403 Forbidden", "passed"]



=== TEST 4: server_rewrite_by_lua_file, and its errors are 500 with the phase named
--- user_files
>>> sr.lua
ngx.header["X-Phase"] = ngx.get_phase()
if ngx.var.arg_fail then error("boom") end
--- config
    server_rewrite_by_lua_file html/sr.lua;
    location /t { return 200 "ok\n"; }
--- request eval
["GET /t", "GET /t?fail=1"]
--- error_code eval
[200, 500]
--- response_headers eval
["X-Phase: server_rewrite", ""]
--- error_log
boom



=== TEST 5: not allowed in a location
--- config
    location /t {
        server_rewrite_by_lua_block { ngx.exit(200) }
    }
--- must_die
--- error_log
"server_rewrite_by_lua_block" directive is not allowed here
