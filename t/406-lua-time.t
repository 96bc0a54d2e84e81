# The ngx.* clock and date functions (lua/time.c): time/now from the cached clock and
# update_time, today/localtime/utctime, http_time and cookie_time (checked against os.date),
# parse_http_time on the three HTTP date formats and on nginx's edge cases, argument errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/406-lua-time.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: ngx.time and ngx.now: numbers, now is time plus milliseconds
--- config
    location /t {
        content_by_lua_block {
            local t, now = ngx.time(), ngx.now()
            ngx.say(type(t), " ", type(now), " ", t == math.floor(t), " ", math.floor(now) == t)
            local ms = now * 1000
            ngx.say(math.abs(ms - math.floor(ms + 0.5)) < 0.01, " ", t > 1600000000)
        }
    }
--- request
GET /t
--- response_body
number number true true
true true



=== TEST 2: the clock is cached while Lua runs; update_time refreshes it
--- config
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            local c = os.clock()
            repeat until os.clock() - c > 0.005  -- 5 ms of CPU, so at least 5 ms of wall time
            ngx.say("cached: ", ngx.now() == t0)
            ngx.say("returns: ", select("#", ngx.update_time()))
            ngx.say("updated: ", ngx.now() > t0)
            local t1, n = ngx.now(), 0
            repeat
                ngx.update_time()
                n = n + 1
            until ngx.now() > t1 or n > 10000000
            ngx.say("advances: ", ngx.now() > t1, " ", ngx.now() - t1 < 1)
        }
    }
--- request
GET /t
--- response_body
cached: true
returns: 0
updated: true
advances: true true



=== TEST 3: today, localtime and utctime: formats, and the cached second as os.date shows it
--- config
    location /t {
        content_by_lua_block {
            local t = ngx.time()
            local today, lt, ut = ngx.today(), ngx.localtime(), ngx.utctime()
            ngx.say(today:match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil, " ", today == os.date("%Y-%m-%d", t))
            ngx.say(lt:match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$") ~= nil, " ",
                    lt == os.date("%Y-%m-%d %H:%M:%S", t))
            ngx.say(ut:match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$") ~= nil, " ",
                    ut == os.date("!%Y-%m-%d %H:%M:%S", t))
            ngx.say(lt:sub(1, 10) == today)
        }
    }
--- request
GET /t
--- response_body
true true
true true
true true
true



=== TEST 4: http_time: RFC 1123 dates, fractions cut, nginx's range (1970 to 9999)
--- config
    location /t {
        content_by_lua_block {
            for _, t in ipairs({ 0, 1290079655, 1290079655.9, 951782400, 2147483648, 4102444800 }) do
                local h = ngx.http_time(t)
                ngx.say(h, " ", h == os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(t)))
            end
            ngx.say(ngx.http_time(-1))
            ngx.say(ngx.http_time(-1e10))
            ngx.say(ngx.http_time(253402300799))
            ngx.say(ngx.http_time(253402300800))
            ngx.say(ngx.http_time(1e12))
        }
    }
--- request
GET /t
--- response_body
Thu, 01 Jan 1970 00:00:00 GMT true
Thu, 18 Nov 2010 11:27:35 GMT true
Thu, 18 Nov 2010 11:27:35 GMT true
Tue, 29 Feb 2000 00:00:00 GMT true
Tue, 19 Jan 2038 03:14:08 GMT true
Fri, 01 Jan 2100 00:00:00 GMT true
Thu, 01 Jan 1970 00:00:00 GMT
Thu, 01 Jan 1970 00:00:00 GMT
Fri, 31 Dec 9999 23:59:59 GMT
Fri, 31 Dec 9999 23:59:59 GMT
Fri, 31 Dec 9999 23:59:59 GMT



=== TEST 5: cookie_time: dashes, two-digit years up to 2037 and four after
--- config
    location /t {
        content_by_lua_block {
            for _, t in ipairs({ 0, 1290079655, 1290079655.5, 2145916799, 2145916800, 2208988800 }) do
                local c = ngx.cookie_time(t)
                local fmt = t < 2145916800 and "!%a, %d-%b-%y %H:%M:%S GMT" or "!%a, %d-%b-%Y %H:%M:%S GMT"
                ngx.say(c, " ", c == os.date(fmt, math.floor(t)))
            end
            ngx.say(ngx.cookie_time(-86400))
        }
    }
--- request
GET /t
--- response_body
Thu, 01-Jan-70 00:00:00 GMT true
Thu, 18-Nov-10 11:27:35 GMT true
Thu, 18-Nov-10 11:27:35 GMT true
Thu, 31-Dec-37 23:59:59 GMT true
Fri, 01-Jan-2038 00:00:00 GMT true
Sun, 01-Jan-2040 00:00:00 GMT true
Thu, 01-Jan-70 00:00:00 GMT



=== TEST 6: argument errors
--- config
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.http_time, "12"))
            ngx.say(pcall(ngx.http_time))
            ngx.say(pcall(ngx.cookie_time, nil))
            ngx.say(pcall(ngx.parse_http_time, 12))
            ngx.say(pcall(ngx.parse_http_time))
        }
    }
--- request
GET /t
--- response_body
falsenumber argument only
falsenumber argument only
falsenumber argument only
falsestring argument only
falsestring argument only



=== TEST 7: parse_http_time: RFC 1123, RFC 850 and asctime dates; the zone is not read
--- config
    location /t {
        content_by_lua_block {
            for _, s in ipairs({
                "Thu, 18 Nov 2010 11:27:35 GMT", "Thursday, 18-Nov-10 11:27:35 GMT",
                "Thu Nov 18 11:27:35 2010", "Thu Nov  8 11:27:35 2010",
                "Thu, 18 Nov 2010 11:27:35", "Thu, 18 Nov 2010 11:27:35 UTC",
                "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 01-Jan-70 00:00:00 GMT",
                "Sat, 18-Nov-69 11:27:35 GMT", "Wed, 29 Feb 2012 00:00:00 GMT",
                "Fri, 31 Dec 9999 23:59:59 GMT",
            }) do
                ngx.say(s, " -> ", ngx.parse_http_time(s))
            end
        }
    }
--- request
GET /t
--- response_body
Thu, 18 Nov 2010 11:27:35 GMT -> 1290079655
Thursday, 18-Nov-10 11:27:35 GMT -> 1290079655
Thu Nov 18 11:27:35 2010 -> 1290079655
Thu Nov  8 11:27:35 2010 -> 1289215655
Thu, 18 Nov 2010 11:27:35 -> 1290079655
Thu, 18 Nov 2010 11:27:35 UTC -> 1290079655
Thu, 01 Jan 1970 00:00:00 GMT -> 0
Fri, 01-Jan-70 00:00:00 GMT -> 0
Sat, 18-Nov-69 11:27:35 GMT -> 3151999655
Wed, 29 Feb 2012 00:00:00 GMT -> 1330473600
Fri, 31 Dec 9999 23:59:59 GMT -> 253402300799



=== TEST 8: parse_http_time undoes http_time and cookie_time
--- config
    location /t {
        content_by_lua_block {
            local bad = 0
            for i = 0, 2000 do
                local t = i * 1234567 + i % 7
                if ngx.parse_http_time(ngx.http_time(t)) ~= t then bad = bad + 1 end
                if t < 2145916800 and ngx.parse_http_time(ngx.cookie_time(t)) ~= t then
                    bad = bad + 1
                end
            end
            ngx.say("mismatches: ", bad)
        }
    }
--- request
GET /t
--- response_body
mismatches: 0



=== TEST 9: parse_http_time: nil for what is not a date
--- config
    location /t {
        content_by_lua_block {
            for _, s in ipairs({
                "", "junk", "Thu, 18 Nov 2010", "Thu, 18 Nov 2010 11:27", "Thu, 18 Nov 2010 11:27:3",
                "Thu, 18 Nov 2010 24:00:00 GMT", "Thu, 18 Nov 2010 11:60:00 GMT",
                "Thu, 18 nov 2010 11:27:35 GMT", "Thu, 18 Nov 10 11:27:35 GMT",
                "Thu, 18-Nov-2010 11:27:35 GMT", "18 Nov 2010 11:27:35 GMT",
                "Thu, 18 Nov 2010 1:27:35 GMT", "Thu Nov 18 11:27:35 10",
            }) do
                ngx.say("[", s, "] ", tostring(ngx.parse_http_time(s)))
            end
        }
    }
--- request
GET /t
--- response_body
[] nil
[junk] nil
[Thu, 18 Nov 2010] nil
[Thu, 18 Nov 2010 11:27] nil
[Thu, 18 Nov 2010 11:27:3] nil
[Thu, 18 Nov 2010 24:00:00 GMT] nil
[Thu, 18 Nov 2010 11:60:00 GMT] nil
[Thu, 18 nov 2010 11:27:35 GMT] nil
[Thu, 18 Nov 10 11:27:35 GMT] nil
[Thu, 18-Nov-2010 11:27:35 GMT] nil
[18 Nov 2010 11:27:35 GMT] nil
[Thu, 18 Nov 2010 1:27:35 GMT] nil
[Thu Nov 18 11:27:35 10] nil



=== TEST 10: parse_http_time follows nginx's parser on the edge cases too
--- config
    location /t {
        content_by_lua_block {
            for _, s in ipairs({
                "Thu, 8 Nov 2010 11:27:35 GMT",     -- RFC 1123 days have two digits
                "Thu Nov 8 11:27:35 2010",          -- asctime days have one or two
                "Thu, 31 Feb 2010 11:27:35 GMT",    -- no 31 Feb
                "Mon, 29 Feb 2010 00:00:00 GMT",    -- 2010 is no leap year
                "Thu, 31 Apr 2010 11:27:35 GMT",
                "Thu, 00 Nov 2010 11:27:35 GMT",    -- day 0 is 31 Oct
                "Thu, 18 Nov 2010 11:27:60 GMT",    -- no leap seconds
                "Thu, 01 Jan 1969 00:00:00 GMT",    -- before 1970: negative
                "Thu, 18 Nov 2010  11:27:35 GMT",   -- one space between fields
                "   Thu, 18 Nov 2010 11:27:35 GMT",
                "Thu,   18 Nov 2010 11:27:35 GMT",  -- but any after the comma
                ", 18 Nov 2010 11:27:35 GMT",       -- the weekday is not read
                "Thu, 18 Nov 2010 11:27:35GMT",
                "Thu, 18 Nov 2010 11:27:35 GMT and then a long tail of anything at all, 80 bytes",
                "Thu, 18 Noq 2010 11:27:35 GMT",    -- months by their first letters
                "Thu, 18 Jux 2010 11:27:35 GMT",
                "Thu, 18 Mxy 2010 11:27:35 GMT",
            }) do
                ngx.say("[", s, "] ", tostring(ngx.parse_http_time(s)))
            end
        }
    }
--- request
GET /t
--- response_body
[Thu, 8 Nov 2010 11:27:35 GMT] nil
[Thu Nov 8 11:27:35 2010] 1289215655
[Thu, 31 Feb 2010 11:27:35 GMT] nil
[Mon, 29 Feb 2010 00:00:00 GMT] nil
[Thu, 31 Apr 2010 11:27:35 GMT] nil
[Thu, 00 Nov 2010 11:27:35 GMT] 1288524455
[Thu, 18 Nov 2010 11:27:60 GMT] nil
[Thu, 01 Jan 1969 00:00:00 GMT] -31536000
[Thu, 18 Nov 2010  11:27:35 GMT] nil
[   Thu, 18 Nov 2010 11:27:35 GMT] nil
[Thu,   18 Nov 2010 11:27:35 GMT] 1290079655
[, 18 Nov 2010 11:27:35 GMT] 1290079655
[Thu, 18 Nov 2010 11:27:35GMT] 1290079655
[Thu, 18 Nov 2010 11:27:35 GMT and then a long tail of anything at all, 80 bytes] 1290079655
[Thu, 18 Noq 2010 11:27:35 GMT] 1290079655
[Thu, 18 Jux 2010 11:27:35 GMT] 1279452455
[Thu, 18 Mxy 2010 11:27:35 GMT] 1274182055
