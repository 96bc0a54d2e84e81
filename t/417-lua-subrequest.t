# ngx.location.capture and capture_multi: a subrequest's status, headers (multi-valued ones as
# tables), body and truncated flag; the options (method, body, args as a string or a table,
# vars, copy_all_vars, share_all_vars, ctx, always_forward_body) and the request body's
# forwarding rules; error statuses (no error page: the status, an empty body, truncated);
# subrequests in parallel (counted while they sleep), nested ones (and nginx's depth limit), from
# rewrite/access/content and light threads; proxy_pass targets (the server itself, a streamed
# body, upstream keepalive, a body broken off); a client request that ends while its
# subrequests still run; misuse.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/417-lua-subrequest.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(echo  => 'echo');
backend(trunc => 'truncate');
backend(slow  => 'echo', delay => 1);

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: status, headers, body and truncated of a content_by_lua child
--- config
    location = /sub {
        internal;
        content_by_lua_block {
            ngx.status = 201
            ngx.header["X-One"] = "1"
            ngx.header["Set-Cookie"] = {"a=1", "b=2"}
            ngx.say("child body, sub: ", tostring(ngx.is_subrequest))
        }
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.say("status: ", res.status)
            ngx.say("truncated: ", tostring(res.truncated))
            ngx.say("X-One: ", res.header["X-One"])
            ngx.say("cookies: ", table.concat(res.header["Set-Cookie"], " "))
            ngx.say("type: ", res.header["Content-Type"])
            ngx.print("body: ", res.body)
            ngx.say("main sub: ", tostring(ngx.is_subrequest))
        }
    }
--- request
GET /t
--- response_body
status: 201
truncated: false
X-One: 1
cookies: a=1 b=2
type: text/plain
body: child body, sub: true
main sub: false



=== TEST 2: an internal location is reachable by a subrequest only
--- config
    location = /hidden {
        internal;
        return 200 "hidden\n";
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/hidden")
            ngx.print(res.status, " ", res.body)
        }
    }
--- request eval
["GET /t", "GET /hidden"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^200 hidden\n\$", "404"]



=== TEST 3: the child's request line, $request_uri and $request_method are the client's
--- config
    location = /vars {
        return 200 "uri=$uri args=$args request_uri=$request_uri method=$request_method request=$request\n";
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/vars?a=1", { method = ngx.HTTP_PUT })
            ngx.print(res.body)
        }
    }
--- request
GET /t?x=y
--- response_body
uri=/vars args=a=1 request_uri=/t?x=y method=GET request=GET /t?x=y HTTP/1.1



=== TEST 4: args as a string, as a table, and added to the URI's own
--- config
    location = /args {
        content_by_lua_block {
            ngx.say(ngx.var.args)
        }
    }
    location = /t {
        content_by_lua_block {
            ngx.print(ngx.location.capture("/args", { args = "a=1&b=2" }).body)
            ngx.print(ngx.location.capture("/args", { args = { c = "x y" } }).body)
            ngx.print(ngx.location.capture("/args?u=1", { args = "v=2" }).body)
            ngx.print(ngx.location.capture("/args?u=1").body)
        }
    }
--- request
GET /t
--- response_body
a=1&b=2
c=x%20y
u=1&v=2
u=1



=== TEST 5: method and body; HEAD drops the body; the child reads its body
--- config
    location = /echo {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_method(), " [", ngx.req.get_body_data(), "] ",
                    ngx.var.http_content_length)
        }
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/echo", { method = ngx.HTTP_POST, body = "hello" })
            ngx.print(res.body)
            res = ngx.location.capture("/echo", { method = ngx.HTTP_PUT, body = "" })
            ngx.print(res.body)
            res = ngx.location.capture("/echo", { method = ngx.HTTP_HEAD })
            ngx.say("head: ", res.status, " [", res.body, "]")
            res = ngx.location.capture("/echo", { method = ngx.HTTP_DELETE })
            ngx.print(res.body)
        }
    }
--- request
GET /t
--- response_body
POST [hello] 5
PUT [nil] 0
head: 200 []
DELETE [nil] nil



=== TEST 6: the client's body goes to POST and PUT children, to others only when asked
--- config
    location = /echo {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_method(), " [", ngx.req.get_body_data(), "] ",
                    ngx.var.http_content_length)
        }
    }
    location = /t {
        content_by_lua_block {
            ngx.req.read_body()
            local M = { ngx.HTTP_POST, ngx.HTTP_PUT, ngx.HTTP_GET }
            for _, m in ipairs(M) do
                ngx.print(ngx.location.capture("/echo", { method = m }).body)
            end
            ngx.print(ngx.location.capture("/echo", { always_forward_body = true }).body)
            ngx.print(ngx.location.capture("/echo", { method = ngx.HTTP_POST,
                                                      body = "own" }).body)
        }
    }
--- request
POST /t
parent-body
--- response_body
POST [parent-body] 11
PUT [parent-body] 11
GET [nil] nil
GET [parent-body] 11
POST [own] 3



=== TEST 7: vars, copy_all_vars and share_all_vars
--- config
    location = /other {
        set $dog "$dog world";
        return 200 "dog: $dog, cat: $cat\n";
    }
    location = /t {
        set $dog "hello";
        set $cat "meow";
        content_by_lua_block {
            ngx.print(ngx.location.capture("/other").body)
            ngx.print(ngx.location.capture("/other", { vars = { dog = "hi", cat = 5 } }).body)
            ngx.print(ngx.location.capture("/other", { copy_all_vars = true }).body)
            ngx.say("parent: ", ngx.var.dog)
            ngx.print(ngx.location.capture("/other", { share_all_vars = true }).body)
            ngx.say("parent: ", ngx.var.dog)
        }
    }
--- request
GET /t
--- response_body
dog:  world, cat: 
dog: hi world, cat: 5
dog: hello world, cat: meow
parent: hello
dog: hello world, cat: meow
parent: hello world



=== TEST 8: ctx: the child's ngx.ctx is the table given; without it the child has its own
--- config
    location = /sub {
        content_by_lua_block {
            ngx.ctx.seen = (ngx.ctx.seen or 0) + 1
            ngx.say("child: ", ngx.ctx.from or "nothing")
        }
    }
    location = /t {
        content_by_lua_block {
            ngx.ctx.from = "parent"
            local shared = { from = "given" }
            ngx.print(ngx.location.capture("/sub", { ctx = shared }).body)
            ngx.print(ngx.location.capture("/sub").body)
            ngx.say("given.seen: ", shared.seen, " parent.seen: ", tostring(ngx.ctx.seen))
            ngx.print(ngx.location.capture("/sub", { ctx = ngx.ctx }).body)
            ngx.say("parent.seen: ", ngx.ctx.seen)
        }
    }
--- request
GET /t
--- response_body
child: given
child: nothing
given.seen: 1 parent.seen: nil
child: parent
parent.seen: 1



=== TEST 9: error statuses: the status, no error page, an empty body, truncated
--- config
    location = /nf {
        error_page 404 /custom;
        return 404;
    }
    location = /custom {
        return 200 "custom page\n";
    }
    location = /r302 {
        return 302 /elsewhere;
    }
    location = /lua403 {
        content_by_lua_block { ngx.exit(403) }
    }
    location = /lua404body {
        content_by_lua_block {
            ngx.status = 404
            ngx.say("a body of its own")
        }
    }
    location = /missing {
        root html;
    }
    location = /t {
        content_by_lua_block {
            for _, u in ipairs({ "/nf", "/r302", "/lua403", "/lua404body", "/missing" }) do
                local res = ngx.location.capture(u)
                ngx.say(u, ": ", res.status, " ", tostring(res.truncated), " [", res.body, "] ",
                        res.header["Location"] or "-")
            end
        }
    }
--- request
GET /t
--- response_body
/nf: 404 true [] -
/r302: 302 true [] /elsewhere
/lua403: 403 true [] -
/lua404body: 404 false [a body of its own
] -
/missing: 404 true [] -
--- error_log
open() "



=== TEST 10: ngx.exit in the child after output
--- config
    location = /exit0 {
        content_by_lua_block {
            ngx.print("partial ")
            ngx.exit(ngx.OK)
            ngx.print("never")
        }
    }
    location = /exit200 {
        content_by_lua_block {
            ngx.print("before ")
            ngx.exit(200)
        }
    }
    location = /t {
        content_by_lua_block {
            for _, u in ipairs({ "/exit0", "/exit200" }) do
                local res = ngx.location.capture(u)
                ngx.say(u, ": ", res.status, " ", tostring(res.truncated), " [", res.body, "]")
            end
        }
    }
--- request
GET /t
--- response_body
/exit0: 200 false [partial ]
/exit200: 200 false [before ]



=== TEST 11: capture_multi runs its children in parallel and keeps their order
--- http_config
    lua_shared_dict running 1m;
--- config
    location = /sleep {
        content_by_lua_block {
            local s = tonumber(ngx.var.arg_s)
            local d = ngx.shared.running
            local now = d:incr("now", 1, 0)
            if now > (d:get("max") or 0) then d:set("max", now) end
            ngx.sleep(s)
            d:incr("now", -1)
            ngx.say("slept ", s)
        }
    }
    location = /t {
        content_by_lua_block {
            local t0 = ngx.now()
            local a, b, c = ngx.location.capture_multi({
                { "/sleep", { args = "s=0.3" } },
                { "/sleep?s=0.1" },
                { "/sleep", { args = { s = 0.2 } } },
            })
            local dt = ngx.now() - t0
            ngx.print(a.body, b.body, c.body)
            -- parallel: all three slept at once (counted, not timed: a loaded machine may
            -- stretch the 0.3 s), and the call waited for the longest
            local max = ngx.shared.running:get("max")
            ngx.say(max == 3 and dt >= 0.25 and "parallel"
                    or ("took " .. dt .. ", " .. tostring(max) .. " at once"))
        }
    }
--- request
GET /t
--- response_body
slept 0.3
slept 0.1
slept 0.2
parallel



=== TEST 12: nested subrequests: a child that captures
--- config
    location = /leaf {
        return 200 "leaf($arg_n)";
    }
    location = /mid {
        content_by_lua_block {
            local a, b = ngx.location.capture_multi({ { "/leaf?n=1" }, { "/leaf?n=2" } })
            ngx.print("mid[", a.body, b.body, "]")
        }
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/mid")
            ngx.say(res.status, " ", res.body)
        }
    }
--- request
GET /t
--- response_body
200 mid[leaf(1)leaf(2)]



=== TEST 13: captures from rewrite_by_lua, access_by_lua and a light thread
--- config
    location = /part {
        return 200 "$arg_p";
    }
    location = /t {
        rewrite_by_lua_block {
            ngx.ctx.r = ngx.location.capture("/part?p=rewrite").body
        }
        access_by_lua_block {
            ngx.ctx.a = ngx.location.capture("/part?p=access").body
        }
        content_by_lua_block {
            local th = ngx.thread.spawn(function()
                return ngx.location.capture("/part?p=thread").body
            end)
            local c = ngx.location.capture("/part?p=content").body
            local ok, t = ngx.thread.wait(th)
            ngx.say(ngx.ctx.r, " ", ngx.ctx.a, " ", c, " ", t)
        }
    }
--- request
GET /t
--- response_body
rewrite access content thread



=== TEST 14: add_header and expires are not applied to a subrequest; header_filter_by_lua is
--- config
    location = /sub {
        add_header X-Added yes;
        expires 1h;
        header_filter_by_lua_block { ngx.header["X-Filter"] = "ran" }
        content_by_lua_block { ngx.say("sub") }
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.print(tostring(res.header["X-Added"]), " ", tostring(res.header["Expires"]), " ",
                      tostring(res.header["X-Filter"]), " ", res.body)
        }
    }
--- request
GET /t
--- response_body
nil nil ran sub



=== TEST 15: a subrequest is not compressed, nor answered 304, even when the client asks
--- config
    location = /file.txt {
        root html;
        gzip on;
        gzip_min_length 1;
        gzip_types text/plain;
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/file.txt")
            ngx.print(res.status, " ", tostring(res.header["Content-Encoding"]), " ",
                      res.header["Content-Length"], " ", res.body)
        }
    }
--- user_files
>>> file.txt
plain text content
--- request
GET /t
--- more_headers
Accept-Encoding: gzip
If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT
--- response_body
200 nil 19 plain text content



=== TEST 16: proxy_pass to the server itself: a streamed, chunked body into the capture
--- config
    location = /backend {
        content_by_lua_block {
            for i = 1, 100 do
                ngx.print(string.rep(string.char(96 + i % 26 + 1), 1023), "\n")
                ngx.flush(true)
            end
        }
    }
    location = /up {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/up")
            local ok = true
            for i = 1, 100 do
                local line = res.body:sub((i - 1) * 1024 + 1, i * 1024)
                if line ~= string.rep(string.char(96 + i % 26 + 1), 1023) .. "\n" then
                    ok = false
                end
            end
            ngx.say(res.status, " ", #res.body, " ", tostring(ok), " ",
                    tostring(res.truncated))
        }
    }
--- request
GET /t
--- response_body
200 102400 true false



=== TEST 17: proxy_pass children in parallel over a kept-alive upstream connection
--- http_config
    upstream self {
        server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        keepalive 4;
    }
--- config
    location = /backend {
        return 200 "conn=$connection req=$connection_requests\n";
    }
    location = /up {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://self/backend;
    }
    location = /t {
        content_by_lua_block {
            local a = ngx.location.capture("/up")
            local b = ngx.location.capture("/up")
            local ca = a.body:match("conn=(%d+)")
            local cb, rb = b.body:match("conn=(%d+) req=(%d+)")
            ngx.say("same connection: ", tostring(ca == cb), ", request ", rb)
        }
    }
--- request
GET /t
--- response_body
same connection: true, request 2



=== TEST 18: proxy_pass to a backend: the child's method, body and the client's headers
--- config
    location = /up {
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT/echoed;
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/up", { method = ngx.HTTP_POST, body = "payload",
                                                     args = "q=1" })
            ngx.say(res.status, " ", res.header["X-Backend"])
            ngx.print(res.body)
        }
    }
--- request
GET /t
--- more_headers
X-Client: abc
--- response_body_like chomp
^200 echo
POST /echoed\?q=1 HTTP/1.0
(.*\n)*X-Client: abc
(.*\n)*
payload$



=== TEST 19: an upstream body broken off: what came, truncated; the client request goes on
--- config
    location = /up {
        proxy_pass http://127.0.0.1:$TEST_NGINX_TRUNC_PORT;
    }
    location = /t {
        content_by_lua_block {
            local res = ngx.location.capture("/up")
            ngx.say(res.status, " ", tostring(res.truncated), " ", #res.body)
        }
    }
--- request
GET /t
--- response_body
200 true 10
--- error_log
upstream prematurely closed connection



=== TEST 20: ngx.exit while a light thread's capture is pending is refused (nginx closes the
connection, moongate answers 500; the child goes with the request either way)
--- config
    location = /sleepy {
        content_by_lua_block {
            ngx.sleep(0.2)
            ngx.say("woke")
        }
    }
    location = /t {
        content_by_lua_block {
            ngx.thread.spawn(function()
                ngx.location.capture("/sleepy")
            end)
            ngx.exit(200)
        }
    }
--- request
GET /t
--- ignore_response
--- error_log
attempt to abort with pending subrequests
--- no_error_log
[alert]



=== TEST 21: misuse: bad options and arguments, as OpenResty words them
--- config
    location = /s {
        return 200 "s";
    }
    location = /t {
        content_by_lua_block {
            local cases = {
                function() return ngx.location.capture() end,
                function() return ngx.location.capture("") end,
                function() return ngx.location.capture("/../x") end,
                function() return ngx.location.capture("/s", "x") end,
                function() return ngx.location.capture("/s", { args = true }) end,
                function() return ngx.location.capture("/s", { method = "GET" }) end,
                function() return ngx.location.capture("/s", { body = {} }) end,
                function() return ngx.location.capture("/s", { vars = 1 }) end,
                function() return ngx.location.capture("/s", { vars = { [1] = "x" } }) end,
                function() return ngx.location.capture("/s", { vars = { a = {} } }) end,
                function() return ngx.location.capture("/s", { vars = { nope = "x" } }) end,
                function() return ngx.location.capture("/s", { ctx = 1 }) end,
                function() return ngx.location.capture("/s", { copy_all_vars = 1 }) end,
                function() return ngx.location.capture_multi() end,
                function() return ngx.location.capture_multi({}) end,
                function() return ngx.location.capture_multi({ "/s" }) end,
                function() return ngx.location.capture_multi({ {} }) end,
            }
            for i, f in ipairs(cases) do
                local ok, err = pcall(f)
                ngx.say(i, ": ", tostring(ok), " ", ok and err.status or err)
            end
        }
    }
--- request
GET /t
--- response_body
1: false expecting one or two arguments
2: false unsafe uri in argument #1: 
3: false unsafe uri in argument #1: /../x
4: false expecting table as the 2nd argument for subrequest 0, but got string
5: false Bad args option value
6: false Bad http request method
7: false Bad http request body
8: false Bad vars option value
9: false attempt to use a non-string key in the "vars" option table
10: false attempt to use bad variable value type table
11: false failed to adjust the subrequest: -1
12: false Bad ctx option value type number, expected a Lua table
13: false Bad copy_all_vars option value
14: false only one argument is expected, but got 0
15: false at least one subrequest should be specified
16: false the query argument 0 is not a table, but a string
17: false query argument 0 expecting one or two arguments
--- error_log
variable "nope" cannot be assigned a value



=== TEST 22: not allowed outside rewrite, access and content
--- config
    location = /t {
        set_by_lua_block $x {
            local ok, err = pcall(ngx.location.capture, "/s")
            return err
        }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.location.capture, "/s")
            ngx.header["X-Err"] = err
        }
        return 200 "$x\n";
    }
--- request
GET /t
--- response_body
API disabled in the context of set_by_lua*
--- response_headers
X-Err: API disabled in the context of header_filter_by_lua*



=== TEST 23: the client goes away while a capture waits; the server goes on
The client leaves after 2 s (its read timeout), while /up still waits for the slow
backend (4 s, counted from when it got the request); GET /ok then has as long (0.3 s, then
0.8, were little on a loaded machine).
--- config
    location = /sleepy {
        content_by_lua_block {
            ngx.sleep(0.5)
            ngx.say("woke")
        }
    }
    location = /up {
        proxy_set_header X-Echo-Delay 4;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
    location = /t {
        content_by_lua_block {
            local a, b = ngx.location.capture_multi({ { "/sleepy" }, { "/up" } })
            ngx.say(a.body, b.status)
        }
    }
    location = /fast {
        return 200 "fast\n";
    }
    location = /ok {
        content_by_lua_block {
            ngx.print(ngx.location.capture("/fast").body)
        }
    }
--- request eval
["GET /t", "GET /ok"]
--- timeout: 2
--- abort
--- response_body eval
["", "fast\n"]
--- no_error_log
[alert]
[crit]



=== TEST 24: nesting: 51 levels of subrequests, as nginx; the 51st cannot make another
--- config
    location ~ ^/(a|b)$ {
        content_by_lua_block {
            local n = tonumber(ngx.var.arg_n)
            local ok, res = pcall(ngx.location.capture,
                                  (ngx.var.uri == "/a" and "/b" or "/a") .. "?n=" .. n + 1)
            if not ok then
                ngx.print(n, ": ", res)
                return
            end
            ngx.print(res.body)
        }
    }
--- request
GET /a?n=0
--- response_body chomp
51: failed to issue subrequest: -1
--- error_log
lua subrequests cycle while processing "/a"
