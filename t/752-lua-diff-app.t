# API-gateway style Lua code (error pages, exits, the raw request socket) found answering
# otherwise than OpenResty's in a side-by-side run with Debian's nginx and its Lua module
# (0.10.23).
#
#   prove -I t/lib t/752-lua-diff-app.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/752-lua-diff-app.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

env_port('TEST_NGINX_PORT2');
plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.exit(404) from access_by_lua to "error_page 404 = @name": the named location sees 404 in ngx.status and answers with it
--- config
    location /t {
        error_page 404 = @fallback;
        access_by_lua_block { ngx.exit(404) }
    }
    location @fallback {
        content_by_lua_block { ngx.say("fallback ", ngx.status, " ", ngx.var.uri) }
    }
--- request
GET /t
--- error_code: 404
--- response_body
fallback 404 /t



=== TEST 2: the same from rewrite_by_lua and content_by_lua, and to "error_page 503 = /uri"
--- config
    location /rw {
        error_page 404 = @fallback;
        rewrite_by_lua_block { ngx.exit(404) }
    }
    location /ct {
        error_page 404 = @fallback;
        content_by_lua_block { ngx.exit(404) }
    }
    location /uri {
        error_page 503 = /errdoc;
        access_by_lua_block { ngx.exit(503) }
    }
    location = /errdoc {
        internal;
        content_by_lua_block { ngx.say("errdoc ", ngx.status, " ", ngx.var.request_uri) }
    }
    location @fallback {
        content_by_lua_block { ngx.say("fallback ", ngx.status, " ", ngx.var.uri) }
    }
--- request eval
["GET /rw", "GET /ct", "GET /uri?a=1"]
--- error_code eval
[404, 404, 503]
--- response_body eval
["fallback 404 /rw\n", "fallback 404 /ct\n", "errdoc 503 /uri?a=1\n"]



=== TEST 3: a 404 that no Lua code made (the static handler's) leaves ngx.status 0 in the named location, which answers 200
--- config
    location /t {
        error_page 404 = @fallback;
    }
    location @fallback {
        content_by_lua_block { ngx.say("fallback ", ngx.status) }
    }
--- request
GET /t/none
--- response_body
fallback 0
--- error_log
No such file or directory



=== TEST 4: ngx.exit(200) after ngx.status = 201 keeps 201; ngx.exit(201) from access_by_lua without a status set answers 201
--- config
    location = /a {
        content_by_lua_block { ngx.status = 201 ngx.exit(200) }
    }
    location = /b {
        access_by_lua_block { ngx.exit(201) }
    }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[201, 201]



=== TEST 5: ngx.req.socket(true) after ngx.say in an HTTP/1.0 request: nil and "http 1.0 buffering", the held output goes out
--- config
    location = /t {
        content_by_lua_block {
            ngx.say("pre")
            local sock, err = ngx.req.socket(true)
            ngx.say(tostring(sock), " ", err)
        }
    }
--- request
GET /t HTTP/1.0
--- response_body
pre
nil http 1.0 buffering



=== TEST 6: a capture that fails to be set up (an unknown method, a variable that cannot be set) never runs, not even once a later capture waits
--- http_config
    lua_shared_dict ran 1m;
--- config
    location = /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.location.capture, "/sub", {method = 12345, args = "n=1"})
            ngx.say(ok, " ", err)
            ok, err = pcall(ngx.location.capture, "/sub", {vars = {nosuchvar = "x"}, args = "n=2"})
            ngx.say(ok, " ", err)
            local res = ngx.location.capture("/sub", {args = "n=3"})
            ngx.say(res.status, " ", ngx.shared.ran:get("n1"), " ", ngx.shared.ran:get("n2"), " ", ngx.shared.ran:get("n3"))
        }
    }
    location = /sub {
        content_by_lua_block { ngx.shared.ran:incr("n" .. ngx.var.arg_n, 1, 0) }
    }
--- request
GET /t
--- response_body
false failed to adjust the subrequest: -1
false failed to adjust the subrequest: -1
200 nil nil 1
--- error_log
unsupported HTTP method: 12345
variable "nosuchvar" cannot be assigned a value



=== TEST 7: $args changed by ngx.var.args or "set $args" reaches a proxy_pass without a URI part (the client's request target was sent)
--- http_config
    upstream back { server 127.0.0.1:$TEST_NGINX_PORT2; }
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / { content_by_lua_block { ngx.say(ngx.var.request_uri) } }
    }
--- config
    location /p {
        rewrite_by_lua_block { ngx.var.args = "replaced=1&x=" .. ngx.var.arg_x }
        proxy_pass http://back;
    }
    location /s {
        set $args "set=2";
        proxy_pass http://back;
    }
    location /plain {
        proxy_pass http://back;
    }
--- request eval
["GET /p?x=5", "GET /s/a%20b?old=1", "GET /plain/a%20b?keep=1"]
--- response_body eval
["/p?replaced=1&x=5\n", "/s/a%20b?set=2\n", "/plain/a%20b?keep=1\n"]



=== TEST 8: ngx.exit(500) after the response head went out ends the request with an error line
--- config
    location = /t {
        content_by_lua_block {
            ngx.say("sent")
            ngx.flush(true)
            ngx.exit(500)
        }
    }
--- request
GET /t
--- response_body
sent
--- error_log
attempt to set status 500 via ngx.exit after sending out the response status 200



=== TEST 9: ngx.exec to a named location with arguments warns that they are ignored
--- config
    location = /t {
        rewrite_by_lua_block { return ngx.exec("@named", {a = 1}) }
    }
    location @named {
        content_by_lua_block { ngx.say("named ", tostring(ngx.var.args)) }
    }
--- request
GET /t?orig=1
--- response_body
named orig=1
--- error_log
query strings a=1 ignored when exec'ing named location @named



=== TEST 10: $request_body is not found (nil) when the request had no body
--- config
    location = /t {
        lua_need_request_body on;
        content_by_lua_block { ngx.say(tostring(ngx.var.request_body), " ", tostring(ngx.req.get_body_data())) }
    }
--- request
GET /t
--- response_body
nil nil



=== TEST 11: the "closed socket" error line prints its pointers as nginx's %p does (16 upper-case hex digits, zeros for none)
--- config
    location = /t {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            ngx.say(s:send("x"))
            local u = ngx.socket.udp()
            ngx.say(u:send("x"))
        }
    }
--- request
GET /t
--- response_body
nilclosed
nilclosed
--- error_log eval
[qr/attempt to send data on a closed socket: u:[0-9A-F]{16}, c:0{16}, ft:0 eof:0/,
qr/attempt to send data on a closed socket: u:0{16}, c:0{16}/]
