# ngx.header and ngx.resp.get_headers: names without case and with "_" for "-", several values
# from a table (and read back as one), removal with nil / {} / "", numbers and other values
# through tostring, the headers nginx keeps as fields (Content-Type, Content-Length,
# Last-Modified, Location, ETag, Cache-Control), control characters escaped as %XX, writes
# after the head went out (an error line, the code goes on), the phases allowed,
# get_headers' limit, raw names and lookup table, and
# lua_transform_underscores_in_response_headers.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/403-lua-header.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a header set in content_by_lua, "_" for "-", read back in any case
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_foo = "bar"
            ngx.header["X-Other"] = "baz"
            ngx.say(ngx.header.x_foo, " ", ngx.header["X-FOO"], " ", ngx.header.X_OTHER,
                    " ", tostring(ngx.header.x_missing))
        }
    }
--- request
GET /t
--- response_headers
X-Foo: bar
X-Other: baz
--- response_body
bar bar baz nil



=== TEST 2: a table gives one line per value, and reads back as a table
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Set-Cookie"] = {"a=1; path=/", "b=2"}
            ngx.header.x_one = {"only"}
            local c = ngx.header.set_cookie
            ngx.say(type(c), " ", #c, " ", c[1], " | ", c[2], " | ", type(ngx.header.x_one))
        }
    }
--- request
GET /t
--- response_headers
Set-Cookie: a=1; path=/, b=2
X-One: only
--- raw_response_headers_like eval
qr/\r\nSet-Cookie: a=1; path=\/\r\nSet-Cookie: b=2\r\n/
--- response_body
table 2 a=1; path=/ | b=2 | string



=== TEST 3: setting again replaces every earlier line of the name
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_multi = {"1", "2", "3"}
            ngx.header["X-MULTI"] = "only"
            ngx.say(ngx.header.x_multi)
        }
    }
--- request
GET /t
--- response_headers
X-Multi: only
--- response_body
only



=== TEST 4: numbers, booleans and other values go through tostring
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_int = 12
            ngx.header.x_float = 3.5
            ngx.header.x_bool = true
            ngx.header.x_list = {1, false, "c"}
            ngx.say(type(ngx.header.x_int), " ", ngx.header.x_int, " ", ngx.header.x_float)
        }
    }
--- request
GET /t
--- response_headers
X-Int: 12
X-Float: 3.5
X-Bool: true
X-List: 1, false, c
--- response_body
string 12 3.5



=== TEST 5: nil, {} and "" remove a header; a table without array part removes too
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_a = "1"
            ngx.header.x_b = {"1", "2"}
            ngx.header.x_c = "1"
            ngx.header.x_d = "1"
            ngx.header.x_e = "kept"
            ngx.header.x_a = nil
            ngx.header.x_b = {}
            ngx.header.x_c = ""
            ngx.header.x_d = {k = "v"}
            ngx.say(tostring(ngx.header.x_a), " ", tostring(ngx.header.x_b), " ",
                    tostring(ngx.header.x_c), " ", tostring(ngx.header.x_d))
        }
    }
--- request
GET /t
--- response_headers
!X-A
!X-B
!X-C
!X-D
X-E: kept
--- response_body
nil nil nil nil



=== TEST 6: Content-Type: set and read; before any output none is set yet
--- config
    location /t {
        content_by_lua_block {
            local before = tostring(ngx.header.content_type)
            ngx.header.content_type = "text/x-mine"
            ngx.say(before, " ", ngx.header["Content-Type"])
        }
    }
--- request
GET /t
--- response_headers
Content-Type: text/x-mine
--- response_body
nil text/x-mine



=== TEST 7: Content-Type set to nil: no default type either
--- config
    location /t {
        default_type text/html;
        content_by_lua_block {
            ngx.header.content_type = nil
            ngx.say("typeless")
        }
    }
--- request
GET /t
--- response_headers
!Content-Type
--- response_body
typeless



=== TEST 8: a table for a header nginx keeps one of sets its last value
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_type = {"text/a", "text/b"}
            ngx.header.expires = {"x", "Thu, 01 Jan 1970 00:00:01 GMT"}
            ngx.say("ok")
        }
    }
--- request
GET /t
--- response_headers
Content-Type: text/b
Expires: Thu, 01 Jan 1970 00:00:01 GMT
--- response_body
ok



=== TEST 9: Content-Length from a number, read back as a string
--- config
    location /t {
        content_by_lua_block {
            local body = "exactly\n"
            ngx.header.content_length = #body
            local cl = ngx.header.content_length
            ngx.header.x_cl = type(cl) .. " " .. cl
            ngx.print(body)
        }
    }
--- request
GET /t
--- response_headers
Content-Length: 8
X-Cl: string 8
!Transfer-Encoding
--- response_body
exactly



=== TEST 10: Content-Length that is no number is an error
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function() ngx.header.content_length = "abc" end)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false .*failed to set header$



=== TEST 11: a static file's headers read in header_filter_by_lua
--- config
    location /a.txt {
        header_filter_by_lua_block {
            ngx.header.x_cl = ngx.header.content_length
            ngx.header.x_ct = ngx.header.content_type
            ngx.header.x_lm = ngx.header.last_modified
            ngx.header.x_etag = ngx.header.etag
        }
    }
--- user_files
>>> a.txt 201501010000.00
hello world
--- request
GET /a.txt
--- response_headers
X-Cl: 12
X-Ct: text/plain
X-Lm: Thu, 01 Jan 2015 00:00:00 GMT
X-Etag: "54a48e00-c"
--- response_body
hello world



=== TEST 12: header_filter_by_lua clears Content-Length and replaces ETag
--- config
    location /a.txt {
        header_filter_by_lua_block {
            ngx.header.content_length = nil
            ngx.header.etag = '"mine"'
            ngx.header.last_modified = nil
        }
    }
--- user_files
>>> a.txt 201501010000.00
hello world
--- request
GET /a.txt
--- response_headers
!Content-Length
Transfer-Encoding: chunked
ETag: "mine"
!Last-Modified
--- response_body
hello world



=== TEST 13: Last-Modified from Lua answers If-Modified-Since with 304
--- config
    location /t {
        content_by_lua_block {
            ngx.header.last_modified = "Thu, 01 Jan 2015 00:00:01 GMT"
            ngx.say("body")
        }
    }
--- request
GET /t
--- more_headers
If-Modified-Since: Thu, 01 Jan 2015 00:00:01 GMT
--- error_code: 304
--- response_headers
Last-Modified: Thu, 01 Jan 2015 00:00:01 GMT
--- response_body



=== TEST 14: a Last-Modified that is no date goes out as it is but reads as nil
--- config
    location /t {
        content_by_lua_block {
            ngx.header.last_modified = "not a date"
            ngx.say(tostring(ngx.header.last_modified))
        }
    }
--- request
GET /t
--- response_headers
Last-Modified: not a date
--- response_body
nil



=== TEST 15: a relative Location stays relative, with a redirect status too
--- config
    location /t {
        content_by_lua_block {
            ngx.header.location = "/elsewhere?a=1"
            ngx.exit(301)
        }
    }
--- request
GET /t
--- error_code: 301
--- response_headers
Location: /elsewhere?a=1



=== TEST 16: an absolute Location; headers set before ngx.exit(404) stay
--- config
    location /t {
        content_by_lua_block {
            ngx.header.location = "http://example.com/x"
            ngx.header.x_kept = "yes"
            ngx.exit(302)
        }
    }
    location /e {
        content_by_lua_block {
            ngx.header.x_kept = "yes"
            ngx.exit(404)
        }
    }
--- request eval
["GET /t", "GET /e"]
--- error_code eval
[302, 404]
--- response_headers eval
["Location: http://example.com/x\nX-Kept: yes", "X-Kept: yes"]



=== TEST 17: Cache-Control with several values
--- config
    location /t {
        content_by_lua_block {
            ngx.header.cache_control = {"no-cache", "no-store"}
            local cc = ngx.header["Cache-Control"]
            ngx.say(type(cc), " ", table.concat(cc, ","))
        }
    }
--- request
GET /t
--- raw_response_headers_like eval
qr/\r\ncache-control: no-cache\r\ncache-control: no-store\r\n/i
--- response_body
table no-cache,no-store



=== TEST 18: CR, LF and other control characters in a value are escaped, TAB is kept
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_split = "a\r\nInjected: yes"
            ngx.header.x_ctl = "a\0b\tc\127d\1"
            ngx.say(ngx.header.x_split)
        }
    }
--- request
GET /t
--- response_headers
!Injected
X-Split: a%0D%0AInjected: yes
--- raw_response_headers_like eval
qr/\r\nX-Ctl: a%00b\tc%7Fd%01\r\n/i
--- response_body
a%0D%0AInjected: yes



=== TEST 19: a name's separators, spaces and control characters are escaped
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-Bad\r\nName: x"] = "v"
            ngx.header["X(y)"] = "w"
            ngx.say("ok")
        }
    }
--- request
GET /t
--- raw_response_headers_like eval
qr/\r\nX-Bad%0D%0AName%3A%20x: v\r\nX%28y%29: w\r\n/
--- response_body
ok



=== TEST 20: setting after the head went out logs an error and the code goes on
--- config
    location /t {
        content_by_lua_block {
            ngx.say("first")
            ngx.header.x_late = "1"
            ngx.say("late: ", tostring(ngx.header.x_late))
        }
    }
--- request
GET /t
--- response_headers
!X-Late
--- response_body
first
late: nil
--- error_log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 21: log_by_lua reads the headers sent; writing there is too late
--- config
    location /t {
        content_by_lua_block {
            ngx.header.x_seen = "v"
            ngx.say("ok")
        }
        log_by_lua_block {
            ngx.header.x_new = "1"
            ngx.log(ngx.WARN, "seen: ", ngx.header.x_seen, " new: ", tostring(ngx.header.x_new))
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
attempt to set ngx.header.HEADER after sending out response headers
seen: v new: nil



=== TEST 22: header_filter_by_lua changes what another handler produced
--- config
    location /t {
        return 200 "from return\n";
        header_filter_by_lua_block {
            ngx.header.x_filtered = ngx.header.content_type
            ngx.header.content_type = "text/x-filtered"
        }
    }
--- request
GET /t
--- response_headers
X-Filtered: text/plain
Content-Type: text/x-filtered
--- response_body
from return



=== TEST 23: set_by_lua and the rewrite phase may set headers too
--- config
    location /t {
        set_by_lua_block $x { ngx.header.x_from_set = "s"; return "" }
        rewrite_by_lua_block { ngx.header.x_from_rewrite = "r" }
        access_by_lua_block { ngx.header.x_from_access = "a" }
        content_by_lua_block { ngx.say(ngx.header.x_from_set, ngx.header.x_from_rewrite,
                                       ngx.header.x_from_access) }
    }
--- request
GET /t
--- response_headers
X-From-Set: s
X-From-Rewrite: r
X-From-Access: a
--- response_body
sra



=== TEST 24: a number key, an empty name (ignored), and Server replaced
--- config
    location /t {
        content_by_lua_block {
            ngx.header[1] = "one"
            ngx.header[""] = "nothing"
            ngx.header.server = "mine"
            ngx.say(ngx.header[1], " ", tostring(ngx.header[""]))
        }
    }
--- request
GET /t
--- response_headers
1: one
Server: mine
--- response_body
one nil



=== TEST 25: ngx.header outside a request is refused
--- http_config
    init_worker_by_lua_block {
        local ok, err = pcall(function() return ngx.header.foo end)
        ngx.log(ngx.WARN, "header in init_worker: ", ok, " ", err)
        ok, err = pcall(ngx.resp.get_headers)
        ngx.log(ngx.WARN, "get_headers in init_worker: ", ok, " ", err)
    }
--- config
    location /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/header in init_worker: false .*API disabled in the/,
 qr/get_headers in init_worker: false .*API disabled in the/]



=== TEST 26: ngx.resp.get_headers: lowercase names, tables for repeats, the core's fields
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_type = "text/a"
            ngx.header.content_length = 7
            ngx.header.X_A = "1"
            ngx.header.X_B = {"2", "3"}
            local h, err = ngx.resp.get_headers()
            local keys = {}
            for k, v in pairs(h) do
                keys[#keys + 1] = k .. "=" .. (type(v) == "table" and table.concat(v, "|") or v)
            end
            table.sort(keys)
            ngx.header.content_length = nil
            ngx.say(table.concat(keys, " "), " err=", tostring(err))
            ngx.say(h.Content_Type, " ", h["X-A"], " ", h.x_b[2])
        }
    }
--- request
GET /t
--- response_body
connection=close content-length=7 content-type=text/a x-a=1 x-b=2|3 err=nil
text/a 1 3



=== TEST 27: get_headers(max): the core's fields count but are always there; 0 is no limit
--- config
    location /t {
        content_by_lua_block {
            ngx.header.A = "1"
            ngx.header.B = {"2", "3"}
            ngx.header.C = "4"
            local function dump(h, err)
                local keys = {}
                for k, v in pairs(h) do
                    keys[#keys + 1] = k .. "=" .. (type(v) == "table" and table.concat(v, "|") or v)
                end
                table.sort(keys)
                return table.concat(keys, " ") .. " err=" .. tostring(err)
            end
            local out = {dump(ngx.resp.get_headers(5)), dump(ngx.resp.get_headers(3)),
                         dump(ngx.resp.get_headers(1)), dump(ngx.resp.get_headers(0))}
            ngx.say(table.concat(out, "\n"))
        }
    }
--- request
GET /t
--- response_body
a=1 b=2|3 c=4 connection=close err=nil
a=1 b=2 connection=close err=truncated
a=1 connection=close err=truncated
a=1 b=2|3 c=4 connection=close err=nil



=== TEST 28: get_headers(nil, true): names as set, no lookup table
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-Mixed-Case"] = "v"
            local h = ngx.resp.get_headers(nil, true)
            ngx.say(h["X-Mixed-Case"], " ", tostring(h["x-mixed-case"]), " ",
                    tostring(getmetatable(h)))
        }
    }
--- request
GET /t
--- response_body
v nil nil



=== TEST 29: get_headers in the body filter sees what was sent, chunked framing included
--- config
    location /t {
        content_by_lua_block { ngx.say("ok") }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                local keys = {}
                for k in pairs(ngx.resp.get_headers()) do keys[#keys + 1] = k end
                table.sort(keys)
                ngx.log(ngx.WARN, "sent headers: ", table.concat(keys, " "))
            end
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
sent headers: connection content-type transfer-encoding



=== TEST 30: get_headers with a bad limit is an error
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(ngx.resp.get_headers, "many")
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false .*number expected, got string.*$



=== TEST 31: lua_transform_underscores_in_response_headers off keeps "_" in names
--- config
    location /t {
        lua_transform_underscores_in_response_headers off;
        content_by_lua_block {
            ngx.header.x_raw = "1"
            ngx.header["X-Dash"] = "2"
            local h = ngx.resp.get_headers()
            ngx.say(ngx.header.x_raw, " ", tostring(ngx.header["x-raw"]), " ",
                    tostring(ngx.header.x_dash), " ", h.x_raw, " ", h.x_dash)
        }
    }
--- request
GET /t
--- raw_response_headers_like eval
qr/\r\nx_raw: 1\r\n/
--- response_body
1 nil nil 1 2
