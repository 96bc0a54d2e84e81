# A request body that `return` discarded in one go (all of it came with the head), seen from
# the Lua filters and log_by_lua, found differing in a side-by-side run with Debian's nginx and
# its Lua module (0.10.23): nginx keeps no mark of such a body (only its length drops to 0),
# so the body API answers as for a body never read (a chunked one: as for an empty body read);
# moongate kept it flagged as discarded for good ({} from get_post_args, "already discarded
# asynchronously" from init_body).
#
#   prove -I t/lib t/764-lua-diff-discarded-body.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/764-lua-diff-discarded-body.t

use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: after `return 200`, header_filter_by_lua finds no body to parse and none read
--- config
    location /t {
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.req.get_post_args)
            ngx.header["X-Args"] = tostring(ok) .. " " .. tostring(err)
            ok, err = pcall(ngx.req.init_body)
            ngx.header["X-Init"] = tostring(ok) .. " " .. tostring(err)
        }
        return 200 "ok\n";
    }
--- request
POST /t
a=1&b=2
--- response_headers
X-Args: false no request body found; maybe you should turn on lua_need_request_body?
X-Init: false request body not read yet
--- response_body
ok



=== TEST 2: the same in body_filter_by_lua and log_by_lua
--- config
    location /t {
        body_filter_by_lua_block {
            if ngx.arg[2] then
                local ok, err = pcall(ngx.req.get_post_args)
                ngx.log(ngx.WARN, "body filter: ", tostring(ok), " ", tostring(err))
                ok, err = pcall(ngx.req.init_body)
                ngx.log(ngx.WARN, "body filter: ", tostring(ok), " ", tostring(err))
            end
        }
        log_by_lua_block {
            local ok, err = pcall(ngx.req.get_post_args)
            ngx.log(ngx.WARN, "log: ", tostring(ok), " ", tostring(err))
            ok, err = pcall(ngx.req.init_body)
            ngx.log(ngx.WARN, "log: ", tostring(ok), " ", tostring(err))
        }
        return 200 "ok\n";
    }
--- request
POST /t
a=1&b=2
--- response_body
ok
--- error_log
body filter: false no request body found; maybe you should turn on lua_need_request_body?
body filter: false request body not read yet
log: false no request body found; maybe you should turn on lua_need_request_body?
log: false request body not read yet
--- no_error_log
[error]



=== TEST 3: a body discarded in one go, then read: an empty body, the next request in sync
--- config
    location /t {
        content_by_lua_block {
            ngx.req.discard_body()
            local ok, err = pcall(ngx.req.init_body)
            ngx.say("init: ", tostring(ok), " ", tostring(err))
            ngx.req.read_body()
            ngx.say("read: ", tostring(ngx.req.get_body_data()), " ", next(ngx.req.get_post_args()) == nil)
        }
    }
--- pipelined_requests eval
["POST /t\na=1&b=2", "GET /t"]
--- response_body eval
["init: false request body not read yet\nread: nil true\n", "init: false request body not read yet\nread: nil true\n"]



=== TEST 4: a chunked body discarded in one go leaves nginx's empty body: no args, init_body works
--- config
    location /t {
        header_filter_by_lua_block {
            local ok, args = pcall(ngx.req.get_post_args)
            ngx.header["X-Args"] = tostring(ok) .. " " .. tostring(next(args))
            local ok, err = pcall(ngx.req.init_body)
            ngx.header["X-Init"] = tostring(ok) .. " " .. tostring(err)
        }
        return 200 "ok\n";
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n7\r\na=1&b=2\r\n0\r\n\r\n"
--- response_headers
X-Args: true nil
X-Init: true nil
--- response_body
ok
