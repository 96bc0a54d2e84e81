# lua_malloc_trim (malloc_trim(1) every N requests that reach the log phase, seen in the debug
# log; 0 turns it off; 1000 by default where log_by_lua* is used, as lua-nginx-module's log
# handler counts), lua_thread_cache_max_entries (finished entry threads reused: the next
# request runs on the same Lua thread object, never with 0, one kept with 1), their
# configuration errors, and ngx.socket.stream, the other name of ngx.socket.tcp.
#
#   prove -I t/lib t/459-lua-trim-thread-cache.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/459-lua-trim-thread-cache.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

use_bad_conf_blocks();

run_tests();

__DATA__

=== TEST 1: lua_malloc_trim 3: six requests trim twice
--- http_config
    lua_malloc_trim 3;
--- config
    location /hit {
        return 204;
    }
    location /t {
        content_by_lua_block {
            -- N requests on one connection, each logged before its answer is read
            local sock = ngx.socket.tcp()
            sock:settimeout(5000)
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            local n = 0
            for i = 1, tonumber(ngx.var.arg_n) do
                assert(sock:send("GET /hit HTTP/1.1\r\nHost: localhost\r\n\r\n"))
                local line = assert(sock:receive("*l"))
                if line:find(" 204 ", 1, true) then
                    n = n + 1
                end
                repeat
                    line = assert(sock:receive("*l"))
                until line == ""
            end
            sock:close()
            ngx.say(n, " answered")
        }
    }
--- request
GET /t?n=6
--- response_body
6 answered
--- grep_error_log eval
qr/malloc_trim\(1\) returned/
--- grep_error_log_out
malloc_trim(1) returned
malloc_trim(1) returned



=== TEST 2: lua_malloc_trim 0 never trims; given twice, the last value holds
--- http_config
    lua_malloc_trim 1;
    lua_malloc_trim 0;
--- config
    location /hit {
        return 204;
    }
    location /t {
        content_by_lua_block {
            -- N requests on one connection, each logged before its answer is read
            local sock = ngx.socket.tcp()
            sock:settimeout(5000)
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            local n = 0
            for i = 1, tonumber(ngx.var.arg_n) do
                assert(sock:send("GET /hit HTTP/1.1\r\nHost: localhost\r\n\r\n"))
                local line = assert(sock:receive("*l"))
                if line:find(" 204 ", 1, true) then
                    n = n + 1
                end
                repeat
                    line = assert(sock:receive("*l"))
                until line == ""
            end
            sock:close()
            ngx.say(n, " answered")
        }
    }
--- request
GET /t?n=4
--- response_body
4 answered
--- no_error_log
malloc_trim(1)



=== TEST 3: with log_by_lua, by default the 1000th request trims, and only it
--- http_config
    log_by_lua_block { local logged = true }
--- config
    location /hit {
        return 204;
    }
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(5000)
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            local req = "GET /hit HTTP/1.1\r\nHost: localhost\r\n\r\n"
            local n = 0
            for i = 1, 1000 do
                assert(sock:send(req))
                local line = assert(sock:receive("*l"))
                if line:find(" 204 ", 1, true) then
                    n = n + 1
                end
                repeat
                    line = assert(sock:receive("*l"))
                until line == ""
            end
            sock:close()
            ngx.say(n, " answered")
        }
    }
--- request
GET /t
--- response_body
1000 answered
--- timeout: 30
--- grep_error_log eval
qr/malloc_trim\(1\) returned/
--- grep_error_log_out
malloc_trim(1) returned



=== TEST 4: by default, without log_by_lua, nothing trims
--- config
    location /hit {
        return 204;
    }
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(5000)
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            local req = "GET /hit HTTP/1.1\r\nHost: localhost\r\n\r\n"
            local n = 0
            for i = 1, 1000 do
                assert(sock:send(req))
                local line = assert(sock:receive("*l"))
                if line:find(" 204 ", 1, true) then
                    n = n + 1
                end
                repeat
                    line = assert(sock:receive("*l"))
                until line == ""
            end
            sock:close()
            ngx.say(n, " answered")
        }
    }
--- request
GET /t
--- response_body
1000 answered
--- timeout: 30
--- no_error_log
malloc_trim(1)



=== TEST 5: lua_malloc_trim is an http{} setting
--- bad_conf
lua_malloc_trim 10;
--- error_log
"lua_malloc_trim" directive is not allowed here in %F:1



=== TEST 6: lua_malloc_trim takes a number
--- include_in: http
--- bad_conf
lua_malloc_trim many;
--- error_log
"lua_malloc_trim" directive invalid number in the 1st argument in %F:1



=== TEST 7: the thread cache (1024 by default): the next request runs on the finished thread
--- http_config
    init_by_lua_block { seen = {} }
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.running()
            ngx.say(seen[1] == co)
            seen[1] = co
        }
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["false\n", "true\n", "true\n"]



=== TEST 8: lua_thread_cache_max_entries 0: a new thread for every request
--- http_config
    lua_thread_cache_max_entries 0;
    init_by_lua_block { seen = {} }
--- config
    location /t {
        content_by_lua_block {
            local co = coroutine.running()
            ngx.say(seen[1] == co)
            seen[1] = co
        }
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["false\n", "false\n", "false\n"]



=== TEST 9: lua_thread_cache_max_entries 1: of three threads finished at once one is kept
--- http_config
    lua_thread_cache_max_entries 1;
    lua_shared_dict meet 1m;
    init_by_lua_block { seen = {} }
--- config
    location /pair {
        content_by_lua_block {
            -- two requests at once, each on its own entry thread, names what they ran on
            local function get(uri)
                local sock = ngx.socket.tcp()
                sock:settimeout(5000)
                assert(sock:connect("127.0.0.1", ngx.var.server_port))
                assert(sock:send("GET " .. uri .. " HTTP/1.0\r\n\r\n"))
                local body = assert(sock:receive("*a"))
                sock:close()
                return body:match("\r\n\r\n(.*)")
            end
            local a = ngx.thread.spawn(get, "/slow?k=" .. ngx.var.arg_k .. "1")
            local b = ngx.thread.spawn(get, "/slow?k=" .. ngx.var.arg_k .. "2")
            seen[ngx.var.arg_k .. "0"] = coroutine.running()
            ngx.thread.wait(a)
            ngx.thread.wait(b)
            ngx.say("done")
        }
    }
    location /slow {
        content_by_lua_block {
            seen[ngx.var.arg_k] = coroutine.running()
            -- both requests of a pair run at once: each waits (5 s at most) for the other
            local pair = ngx.var.arg_k:sub(1, 1)
            ngx.shared.meet:add(pair, 0)
            ngx.shared.meet:incr(pair, 1)
            local deadline = ngx.now() + 5
            while ngx.shared.meet:get(pair) < 2 and ngx.now() < deadline do
                ngx.sleep(0.01)
            end
            ngx.say("ok")
        }
    }
    location /check {
        content_by_lua_block {
            -- how many of the second pair's three threads are the first pair's
            local n = 0
            for i = 0, 2 do
                for j = 0, 2 do
                    if seen["y" .. i] == seen["x" .. j] then
                        n = n + 1
                    end
                end
            end
            ngx.say(n, " reused")
        }
    }
--- request eval
["GET /pair?k=x", "GET /pair?k=y", "GET /check"]
--- response_body eval
["done\n", "done\n", "1 reused\n"]



=== TEST 10: lua_thread_cache_max_entries takes a number, once
--- include_in: http
--- bad_conf
lua_thread_cache_max_entries 10;
lua_thread_cache_max_entries 20;
--- error_log
"lua_thread_cache_max_entries" directive is duplicate in %F:2



=== TEST 11: lua_thread_cache_max_entries with no number
--- include_in: http
--- bad_conf
lua_thread_cache_max_entries -1;
--- error_log
"lua_thread_cache_max_entries" directive invalid number in %F:1



=== TEST 12: ngx.socket.stream is ngx.socket.tcp: a request over it
--- config
    location /hello {
        return 200 "hello\n";
    }
    location /t {
        content_by_lua_block {
            ngx.say(ngx.socket.stream == ngx.socket.tcp)
            local sock = ngx.socket.stream()
            sock:settimeout(5000)
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            assert(sock:send("GET /hello HTTP/1.0\r\nHost: localhost\r\n\r\n"))
            local res = assert(sock:receive("*a"))
            sock:close()
            ngx.print(res:match("^HTTP/1%.1 200 OK\r\n") and "200 " or "no 200 ",
                      res:match("\r\n\r\n(.*)"))
        }
    }
--- request
GET /t
--- response_body
true
200 hello
