# A real redis-server driven through ngx.socket.tcp: a small RESP client written in the
# test's init_by_lua (commands as arrays of bulk strings, replies of every RESP type), SET/GET,
# INCR, LPUSH/LRANGE, pipelined commands sent as one nested table, an error reply, a blocking
# BLPOP in a light thread while the handler pushes on another connection, and the keepalive
# pool: the second request gets the first one's connection (getreusedtimes and CLIENT ID).
# redis-server (Debian's, ./configure --install-deps) is started here on 127.0.0.1 on a free
# port without persistence and stopped at the end; the file is skipped when it is missing.
#
#   prove -I t/lib t/413-lua-redis.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/413-lua-redis.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRedis;

my $RedisPort = Test::MoongateRedis::start()
    or Test::More::plan(skip_all => $Test::MoongateRedis::Why);
$ENV{TEST_NGINX_REDIS_PORT} = $RedisPort;

# the RESP client, as package "resp": resp.connect(port, opts) -> client;
# client:call(cmd, ...) -> reply | false, "error text" | nil, socket error;
# client:pipeline({{cmd, ...}, ...}) -> {reply, ...}; client:keepalive(); client.sock
add_block_preprocessor(sub {
    my $block = shift;
    return if defined $block->http_config;
    $block->set_value(http_config => <<'_EOC_');
    init_by_lua_block {
        local resp = {}
        local mt = { __index = resp }

        function resp.connect(port, opts)
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            local ok, err = sock:connect("127.0.0.1", port, opts)
            if not ok then
                return nil, err
            end
            return setmetatable({ sock = sock }, mt)
        end

        -- a command as a nested table of pieces: send() joins them
        local function encode(args)
            local t = { "*", #args, "\r\n" }
            for _, a in ipairs(args) do
                a = tostring(a)
                t[#t + 1] = { "$", #a, "\r\n", a, "\r\n" }
            end
            return t
        end

        local function read_reply(sock)
            local line, err = sock:receive()
            if not line then
                return nil, err
            end
            local kind, rest = line:sub(1, 1), line:sub(2)
            if kind == "+" then
                return rest
            elseif kind == "-" then
                return false, rest
            elseif kind == ":" then
                return tonumber(rest)
            elseif kind == "$" then
                local n = tonumber(rest)
                if n < 0 then
                    return ngx.null
                end
                local data, err = sock:receive(n + 2)
                if not data then
                    return nil, err
                end
                return data:sub(1, n)
            elseif kind == "*" then
                local n = tonumber(rest)
                if n < 0 then
                    return ngx.null
                end
                local list = {}
                for i = 1, n do
                    local v, err = read_reply(sock)
                    if v == nil then
                        return nil, err
                    end
                    list[i] = v
                end
                return list
            end
            return nil, "bad reply: " .. line
        end

        function resp:call(...)
            local ok, err = self.sock:send(encode({ ... }))
            if not ok then
                return nil, err
            end
            return read_reply(self.sock)
        end

        function resp:pipeline(cmds)
            local req = {}
            for i, c in ipairs(cmds) do
                req[i] = encode(c)
            end
            local ok, err = self.sock:send(req)
            if not ok then
                return nil, err
            end
            local replies = {}
            for i = 1, #cmds do
                local v, e = read_reply(self.sock)
                if v == nil then
                    return nil, e
                end
                replies[i] = v == false and ("error: " .. e) or v
            end
            return replies
        end

        function resp:keepalive()
            return self.sock:setkeepalive(10000, 10)
        end

        package.loaded.resp = resp
    }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: SET, GET, a missing key, INCR, an error reply
--- config
    location /t {
        content_by_lua_block {
            local r = assert(require("resp").connect($TEST_NGINX_REDIS_PORT))
            ngx.say("flushdb: ", r:call("FLUSHDB"))
            ngx.say("set: ", r:call("SET", "greeting", "hello, redis"))
            ngx.say("get: ", r:call("GET", "greeting"))
            ngx.say("missing: ", r:call("GET", "nothing") == ngx.null)
            ngx.say("incr: ", r:call("INCR", "counter"), " ", r:call("INCRBY", "counter", 41))
            ngx.say("incr a string: ", select(2, r:call("INCR", "greeting")))
            ngx.say("bytes: ", #r:call("SET", "bin", "a\r\nb\0c") , " ", r:call("STRLEN", "bin"))
            r.sock:close()
        }
    }
--- request
GET /t
--- response_body
flushdb: OK
set: OK
get: hello, redis
missing: true
incr: 1 42
incr a string: ERR value is not an integer or out of range
bytes: 2 6
--- no_error_log
[error]



=== TEST 2: lists: LPUSH and LRANGE
--- config
    location /t {
        content_by_lua_block {
            local r = assert(require("resp").connect($TEST_NGINX_REDIS_PORT))
            r:call("DEL", "list")
            ngx.say("lpush: ", r:call("LPUSH", "list", "a", "b", "c"))
            ngx.say("lrange: ", table.concat(r:call("LRANGE", "list", 0, -1), ","))
            ngx.say("empty: ", #r:call("LRANGE", "nolist", 0, -1))
            r.sock:close()
        }
    }
--- request
GET /t
--- response_body
lpush: 3
lrange: c,b,a
empty: 0



=== TEST 3: pipelined commands in one send, replies read in order, an error among them
--- config
    location /t {
        content_by_lua_block {
            local r = assert(require("resp").connect($TEST_NGINX_REDIS_PORT))
            local replies = assert(r:pipeline({
                {"DEL", "p:n", "p:l", "p:s"},
                {"SET", "p:s", "x"},
                {"INCR", "p:n"},
                {"INCR", "p:n"},
                {"LPUSH", "p:l", 1, 2},
                {"LRANGE", "p:l", 0, -1},
                {"LPUSH", "p:s", "wrong type"},
                {"GET", "p:s"},
            }))
            for i, v in ipairs(replies) do
                ngx.say(i, ": ", type(v) == "table" and table.concat(v, " ") or v)
            end
            r.sock:close()
        }
    }
--- request
GET /t
--- response_body
1: 0
2: OK
3: 1
4: 2
5: 2
6: 2 1
7: error: WRONGTYPE Operation against a key holding the wrong kind of value
8: x



=== TEST 4: the keepalive pool: the second request reuses the first one's connection
--- config
    location /t {
        content_by_lua_block {
            local r = assert(require("resp").connect($TEST_NGINX_REDIS_PORT))
            local id = r:call("CLIENT", "ID")
            local reused = r.sock:getreusedtimes()
            local seen = r:call("GET", "conn:id")
            r:call("SET", "conn:id", id)
            ngx.say("reused: ", reused, ", same connection as before: ",
                    seen ~= ngx.null and tonumber(seen) == id)
            assert(r:keepalive())
        }
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["reused: 0, same connection as before: false\n",
 "reused: 1, same connection as before: true\n",
 "reused: 2, same connection as before: true\n"]



=== TEST 5: a blocking BLPOP waits in a light thread while the handler pushes on another connection
--- config
    location /t {
        content_by_lua_block {
            local resp = require("resp")
            local r1 = assert(resp.connect($TEST_NGINX_REDIS_PORT))
            r1:call("DEL", "jobs")
            local waiter = ngx.thread.spawn(function()
                return r1:call("BLPOP", "jobs", 2)
            end)
            local r2 = assert(resp.connect($TEST_NGINX_REDIS_PORT))
            ngx.say("pushed: ", r2:call("RPUSH", "jobs", "job-1"))
            local ok, res = ngx.thread.wait(waiter)
            ngx.say("popped: ", ok, " ", table.concat(res, " "))
            r1:keepalive()
            r2:keepalive()
        }
    }
--- request
GET /t
--- response_body
pushed: 1
popped: true jobs job-1
