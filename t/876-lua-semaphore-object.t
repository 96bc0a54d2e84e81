# require "ngx.semaphore"'s object as a user's code sees it on OpenResty (issue 12): new gives
# a table (type, tostring) whose sem field holds the state and whose metatable's __index is the
# module; the methods take any table with that sem; a bad self or argument raises at the
# caller's line, as lua-resty-core's error(msg, 2) (nothing when pcall calls the method).
#
#   prove -I t/lib t/876-lua-semaphore-object.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/876-lua-semaphore-object.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a semaphore is a table: type, tostring, its one field, the module as __index
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new(1)
            ngx.say(type(s), " ", tostring(s):match("^table: 0x%x+$") ~= nil)
            for k in pairs(s) do
                ngx.say("field ", k)
            end
            local mt = getmetatable(s)
            ngx.say(mt.__index == semaphore, " ", s.new == semaphore.new, " ",
                    s.version == semaphore.version, " ", getmetatable(semaphore.new(0)) == mt)
            ngx.say(s:count(), " ", s:wait(0), " ", s:count())
        }
    }
--- request
GET /t
--- response_body
table true
field sem
true true true true
1 true 0



=== TEST 2: the methods work on another table holding the same sem
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new(0)
            local other = { sem = s.sem }
            semaphore.post(other, 2)
            ngx.say(s:count(), " ", semaphore.count(other))
            ngx.say(other.wait == nil, " ", semaphore.wait(other, 0), " ", s:count())
        }
    }
--- request
GET /t
--- response_body
2 2
true true 1



=== TEST 3: a bad self: "not a semaphore instance" at the caller's line, none under pcall
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new(1)
            ngx.say(select(2, pcall(s.count, "x")))
            ngx.say(select(2, pcall(s.post, {})))
            ngx.say(select(2, pcall(s.wait, { sem = {} }, 0)))
            ngx.say(select(2, pcall(function() local n = s.count(s.sem) end)))
            ngx.say(select(2, pcall(function() local n = semaphore.count({ sem = newproxy(true) }) end)))
        }
    }
--- request
GET /t
--- response_body_like chomp
\Anot a semaphore instance
not a semaphore instance
not a semaphore instance
content_by_lua\(\w+\.conf:\d+\):7: not a semaphore instance
content_by_lua\(\w+\.conf:\d+\):8: not a semaphore instance
\z



=== TEST 4: bad numbers: the caller's line, as lua-resty-core's error(msg, 2); no seconds its own
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new()
            ngx.say(select(2, pcall(semaphore.new, -1)))
            ngx.say(select(2, pcall(s.post, s, 0)))
            ngx.say(select(2, pcall(s.wait, s, -1)))
            ngx.say(select(2, pcall(function() local x = semaphore.new(-1) end)))
            ngx.say(select(2, pcall(function() s:post(0) end)))
            ngx.say(select(2, pcall(function() local ok = s:wait(-1) end)))
            ngx.say(select(2, pcall(function() local ok = s:wait() end)))
            ngx.say(select(2, pcall(function() local ok = s:wait("x") end)))
            ngx.say(s:wait("0"))
        }
    }
--- request
GET /t
--- response_body_like chomp
\Ano negative number
positive number required
no negative number
content_by_lua\(\w+\.conf:\d+\):7: no negative number
content_by_lua\(\w+\.conf:\d+\):8: positive number required
content_by_lua\(\w+\.conf:\d+\):9: no negative number
\S*ngx/semaphore\.lua:\d+: attempt to perform arithmetic on a nil value
\S*ngx/semaphore\.lua:\d+: attempt to perform arithmetic on a nil value
niltimeout
\z



=== TEST 5: wait in init_by_lua, no request: ngx/semaphore.lua's line, not the caller's
--- http_config
    init_by_lua_block {
        local s = require("ngx.semaphore").new(1)
        init_wait_error = select(2, pcall(function() local ok = s:wait(0) end))
    }
--- config
    location /t {
        content_by_lua_block {
            ngx.say(init_wait_error)
        }
    }
--- request
GET /t
--- response_body_like chomp
\A\S*ngx/semaphore\.lua:\d+: no request found
\z
