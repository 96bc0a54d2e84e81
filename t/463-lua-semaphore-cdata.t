# require "ngx.semaphore"'s sem field is an FFI cdata pointer, as lua-resty-core's (type()
# "cdata"), freed by its finalizer when the semaphore is dropped; a cdata new() did not make is
# not taken for a semaphore; a semaphore whose last reference goes while a coroutine waits on
# it stays until the wait ends.
#
#   prove -I t/lib t/463-lua-semaphore-cdata.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/463-lua-semaphore-cdata.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# ASan keeps freed memory in its quarantine, so the process's size says nothing about frees there
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(moongate_skip => 'memory is not measured under a sanitizer')
        if defined $block->{rss_bound} && $ENV{ASAN_OPTIONS};
});
add_known_sections('rss_bound');

run_tests();

__DATA__

=== TEST 1: sem is a cdata; the methods take it through another table too
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new(2)
            ngx.say(type(s), " ", type(s.sem), " ", tostring(s.sem):match("^cdata<.+>: 0x%x+$") ~= nil)
            local other = { sem = s.sem }
            ngx.say(semaphore.count(other), " ", s:wait(0), " ", semaphore.count(other))
        }
    }
--- request
GET /t
--- response_body
table cdata true
2 true 1



=== TEST 2: dropped semaphores are freed: the process's memory stays bounded over 200k new()s
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local function rss()
                local f = io.open("/proc/self/statm")
                local pages = f:read("*n") and f:read("*n")
                f:close()
                return pages * 4096
            end
            local function churn(n)
                for i = 1, n do
                    local s = semaphore.new(1)
                    s:post(1)
                    if i % 1000 == 0 then collectgarbage() end
                end
                collectgarbage()
                collectgarbage()
            end
            churn(20000) -- the allocators' pools grown once
            local before = rss()
            churn(200000)
            local grown = rss() - before
            ngx.say(grown < 8 * 1024 * 1024 or grown)
        }
    }
--- request
GET /t
--- response_body
true
--- rss_bound
--- timeout: 30



=== TEST 3: the last reference dropped while a coroutine waits: the wait still ends (timeout, then a post)
--- config
    location /t {
        content_by_lua_block {
            local semaphore = require "ngx.semaphore"
            local holder = { sem = semaphore.new(0).sem }
            local th = ngx.thread.spawn(function()
                return semaphore.wait(holder, 0.2)
            end)
            holder.sem = nil
            collectgarbage()
            collectgarbage()
            ngx.say(ngx.thread.wait(th))
            local s = semaphore.new(0)
            local h2 = { sem = s.sem }
            s = nil
            ngx.thread.spawn(function()
                ngx.sleep(0.01)
                semaphore.post(h2)
                h2.sem = nil
                collectgarbage()
                collectgarbage()
            end)
            ngx.say(semaphore.wait(h2, 5))
        }
    }
--- request
GET /t
--- response_body
truefalsetimeout
truenil
--- timeout: 10



=== TEST 4: a cdata new() did not make is not a semaphore
--- moongate_only
lua-resty-core takes any cdata for one (type(sem) == "cdata") and reads through it: a NULL
pointer crashes the worker; moongate knows the ones it made.
--- config
    location /t {
        content_by_lua_block {
            local ffi = require "ffi"
            local semaphore = require "ngx.semaphore"
            local s = semaphore.new(1)
            ngx.say(select(2, pcall(semaphore.count, { sem = ffi.cast("void *", 0) })))
            ngx.say(select(2, pcall(semaphore.count, { sem = ffi.cast(ffi.typeof(s.sem), 0) })))
            ngx.say(select(2, pcall(semaphore.post, { sem = ffi.new("int[1]") })))
            ngx.say(s:count())
        }
    }
--- request
GET /t
--- response_body
not a semaphore instance
not a semaphore instance
not a semaphore instance
1
