# body_filter_by_lua and set_by_lua, with ngx.arg: the chunks a body filter sees (one per
# output call, a static file in pieces of 32 KiB) and its end flag, replacing a chunk with a
# string or a table of strings, dropping it, ending the response early, errors in the filter
# and in what it assigns; set_by_lua* in order with the rewrite module's set/if/return, its
# arguments (with variables) as ngx.arg, what its return value becomes, the APIs it may not
# use, and a failure as 500.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/408-lua-filters.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

use_bad_conf_blocks();
run_tests();

__DATA__

=== TEST 1: one chunk per output call, an empty one for ngx.flush, the end flag last
--- config
    location /t {
        content_by_lua_block {
            ngx.say("one")
            ngx.flush()
            ngx.print("two")
            ngx.say("three")
        }
        body_filter_by_lua_block {
            local seen = ngx.ctx.seen or {}
            ngx.ctx.seen = seen
            seen[#seen + 1] = "[" .. ngx.arg[1] .. "]" .. tostring(ngx.arg[2])
            if ngx.arg[2] then
                ngx.arg[1] = table.concat(seen, " "):gsub("\n", "|") .. "\n"
            end
        }
    }
--- request
GET /t
--- response_body
one
twothree
[one|]false []false [two]false [three|]false []true



=== TEST 2: a chunk replaced by a string, and read back as replaced
--- config
    location /t {
        content_by_lua_block { ngx.say("hello") ngx.say("world") }
        body_filter_by_lua_block {
            ngx.arg[1] = string.upper(ngx.arg[1])
            ngx.arg[1] = ngx.arg[1] .. (ngx.arg[2] and "" or "-")
        }
    }
--- request
GET /t
--- response_body eval
"HELLO\n-WORLD\n-"



=== TEST 3: a table of strings and numbers, nested tables flattened in order
--- config
    location /t {
        content_by_lua_block { ngx.say("x") }
        body_filter_by_lua_block {
            if ngx.arg[1] == "x\n" then
                ngx.arg[1] = {"a", 1, {"b", {2.5}}, "\n"}
            end
        }
    }
--- request
GET /t
--- response_body
a1b2.5



=== TEST 4: nil and "" drop a chunk
--- config
    location /t {
        content_by_lua_block { ngx.say("keep") ngx.say("drop") ngx.say("empty") ngx.say("end") }
        body_filter_by_lua_block {
            local a = ngx.arg[1]
            if a == "drop\n" then
                ngx.arg[1] = nil
            elseif a == "empty\n" then
                ngx.arg[1] = ""
            end
        }
    }
--- request
GET /t
--- response_body
keep
end



=== TEST 5: ngx.arg[2] = true ends the response; the filter sees nothing after it
--- config
    location /t {
        content_by_lua_block { ngx.say("one") ngx.say("two") ngx.say("three") }
        body_filter_by_lua_block {
            ngx.log(ngx.WARN, "filter saw: ", ngx.arg[1])
            if ngx.arg[1] == "two\n" then
                ngx.arg[2] = true
            end
        }
    }
--- request
GET /t
--- response_body
one
two
--- error_log
filter saw: two
--- no_error_log
filter saw: three



=== TEST 6: a true value in ngx.arg[2] is true
--- config
    location /t {
        content_by_lua_block { ngx.say("one") ngx.say("two") }
        body_filter_by_lua_block {
            ngx.arg[1] = 55
            ngx.arg[2] = "yes"
        }
    }
--- request
GET /t
--- response_body chop
55



=== TEST 7: a static file reaches the filter in pieces of 32 KiB, the end flag on the last
--- config
    location /big.txt {
        body_filter_by_lua_block {
            local sizes = ngx.ctx.sizes or {}
            ngx.ctx.sizes = sizes
            sizes[#sizes + 1] = #ngx.arg[1] .. (ngx.arg[2] and "!" or "")
            if ngx.arg[2] then
                ngx.log(ngx.WARN, "pieces: ", table.concat(sizes, " "))
            end
        }
    }
--- user_files eval
[["big.txt", "a" x 100000]]
--- request
GET /big.txt
--- response_headers
Content-Length: 100000
--- response_body eval
"a" x 100000
--- error_log
pieces: 32768 32768 32768 1696!



=== TEST 8: a static file changed by the filter, Content-Length cleared in the header filter
--- config
    location /big.txt {
        header_filter_by_lua_block { ngx.header.content_length = nil }
        body_filter_by_lua_block { ngx.arg[1] = (string.gsub(ngx.arg[1], "a", "aa")) }
    }
--- user_files eval
[["big.txt", CORE::join("", map { "a$_\n" } 1 .. 30000)]]
--- request
GET /big.txt
--- more_headers
Connection: keep-alive
--- response_headers
!Content-Length
Transfer-Encoding: chunked
--- response_body eval
CORE::join("", map { "aa$_\n" } 1 .. 30000)



=== TEST 9: a filter that keeps the length leaves Content-Length (as OpenResty does)
--- config
    location /a.txt {
        body_filter_by_lua_block { ngx.arg[1] = string.upper(ngx.arg[1]) }
    }
--- user_files
>>> a.txt
hello world
--- request
GET /a.txt
--- response_headers
Content-Length: 12
--- response_body
HELLO WORLD



=== TEST 10: a static file cut short by the filter
--- config
    location /big.txt {
        header_filter_by_lua_block { ngx.header.content_length = nil }
        body_filter_by_lua_block {
            ngx.arg[1] = string.sub(ngx.arg[1], 1, 5)
            ngx.arg[2] = true
        }
    }
--- user_files eval
[["big.txt", "0123456789" x 10000]]
--- request
GET /big.txt
--- response_body chop
01234



=== TEST 11: a filter on a large file with sendfile on passes what it does not change
--- config
    sendfile on;
    location /big.txt {
        body_filter_by_lua_block { ngx.ctx.n = (ngx.ctx.n or 0) + #ngx.arg[1] }
        log_by_lua_block { ngx.log(ngx.WARN, "filtered bytes: ", ngx.ctx.n) }
    }
--- user_files eval
[["big.txt", CORE::join("", map { sprintf "%07d\n", $_ } 0 .. 49999)]]
--- request
GET /big.txt
--- response_body eval
CORE::join("", map { sprintf "%07d\n", $_ } 0 .. 49999)
--- error_log
filtered bytes: 400000



=== TEST 12: the filter sees the plain body before gzip compresses it
--- config
    location /t {
        gzip on;
        gzip_min_length 1;
        gzip_types text/plain;
        content_by_lua_block { ngx.say(string.rep("abc", 100)) }
        body_filter_by_lua_block {
            if ngx.arg[1] ~= "" then
                ngx.log(ngx.WARN, "filter chunk starts: ", ngx.arg[1]:sub(1, 6))
            end
        }
    }
--- request
GET /t
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- error_log
filter chunk starts: abcabc



=== TEST 13: no body filter for HEAD
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        body_filter_by_lua_block { ngx.log(ngx.WARN, "body filter ran") }
    }
--- request
HEAD /t
--- response_body
--- no_error_log
body filter ran



=== TEST 14: bad values for ngx.arg[1] and a bad index are errors; the chunk stays as it was
--- config
    location /t {
        content_by_lua_block { ngx.say("x") }
        body_filter_by_lua_block {
            if ngx.arg[1] ~= "x\n" then
                return
            end
            local function try(f)
                local ok, err = pcall(f)
                ngx.log(ngx.WARN, "assign: ", err)
            end
            try(function() ngx.arg[1] = true end)
            try(function() ngx.arg[1] = {"a", true} end)
            try(function() ngx.arg[1] = {"a", nil, "b"} end)
            try(function() ngx.arg[1] = {"a", k = "v"} end)
            try(function() ngx.arg[3] = "x" end)
            ngx.log(ngx.WARN, "after: ", ngx.arg[1]:gsub("\n", "|"), " ", tostring(ngx.arg[3]))
        }
    }
--- request
GET /t
--- response_body
x
--- error_log eval
[qr/assign: .*bad chunk data type: boolean/,
 qr/assign: .*bad argument #3 to '\?*_*newindex'? \(bad data type boolean found\)/,
 qr/assign: .*\(bad data type nil found\)/,
 qr/assign: .*\(non-array table found\)/,
 qr/assign: .*bad index: 3/,
 qr/after: x\| nil/]



=== TEST 15: ngx.arg outside set_by_lua and body_filter_by_lua is refused
--- config
    location /t {
        content_by_lua_block {
            local ok, err = pcall(function() return ngx.arg[1] end)
            ngx.say(ok, " ", err)
            ok, err = pcall(function() ngx.arg[1] = "x" end)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^false .*API disabled in the .*\nfalse .*API disabled in the context of content_by_lua\*\n$



=== TEST 16: a runtime error in the body filter is logged and breaks the response off
--- config
    location /t {
        content_by_lua_block { ngx.say("hi") }
        body_filter_by_lua_block { error("filter failed") }
    }
--- request
GET /t
--- ignore_response
--- error_log eval
qr/\[error\] .*failed to run body_filter_by_lua\*: body_filter_by_lua\(\w+\.conf:\d+\):1: filter failed/



=== TEST 17: the body filter may read the response headers and ngx.var, not set headers
--- config
    location /t {
        set $v "var-value";
        content_by_lua_block { ngx.header.x_h = "h" ngx.say("x") }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                ngx.header.x_late = "1"
                ngx.arg[1] = ngx.header.x_h .. " " .. ngx.var.v .. " " .. ngx.status .. "\n"
            end
        }
    }
--- request
GET /t
--- response_body
x
h var-value 200
--- error_log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 18: set_by_lua with arguments: literals and variables as ngx.arg
--- config
    location /t {
        set $a "A";
        set_by_lua $b 'return ngx.arg[1] .. "+" .. ngx.arg[2] .. " " .. tostring(ngx.arg[3])' $a "lit $a";
        return 200 "b=$b\n";
    }
--- request
GET /t
--- response_body
b=A+lit A nil



=== TEST 19: set_by_lua_block: numbers as text, nil, booleans and tables as ""
--- config
    location /t {
        set_by_lua_block $n { return 42 }
        set_by_lua_block $f { return 2.5 }
        set_by_lua_block $nil { return nil }
        set_by_lua_block $none { return }
        set_by_lua_block $bool { return true }
        set_by_lua_block $tab { return {1} }
        set_by_lua_block $two { return "first", "second" }
        return 200 "$n $f [$nil] [$none] [$bool] [$tab] $two\n";
    }
--- request
GET /t
--- response_body
42 2.5 [] [] [] [] first



=== TEST 20: set_by_lua runs in order with set, and reads what set wrote before it
--- config
    location /t {
        set $n 1;
        set_by_lua_block $n { return ngx.var.n + 1 }
        set_by_lua_block $n { return ngx.var.n * 10 }
        set $m "$n!";
        return 200 "n=$n m=$m\n";
    }
--- request
GET /t
--- response_body
n=20 m=20!



=== TEST 21: set_by_lua inside if, and at the server level
--- config
    set_by_lua_block $srv { return "server" }
    location /t {
        set $v "outside";
        if ($arg_in) {
            set_by_lua_block $v { return "inside if " .. ngx.var.arg_in }
        }
        return 200 "$srv $v\n";
    }
--- request eval
["GET /t?in=yes", "GET /t"]
--- response_body eval
["server inside if yes\n", "server outside\n"]



=== TEST 22: set_by_lua before return; rewrite_by_lua runs after the rewrite module's list
--- config
    location /t {
        set_by_lua_block $x { return "from set" }
        rewrite_by_lua_block { ngx.var.x = ngx.var.x .. ", then rewrite_by_lua" }
        content_by_lua_block { ngx.say(ngx.var.x) }
    }
--- request
GET /t
--- response_body
from set, then rewrite_by_lua



=== TEST 23: set_by_lua_file with arguments
--- config
    location /t {
        set_by_lua_file $f html/set.lua $arg_x "two";
        return 200 "f=$f\n";
    }
--- user_files
>>> set.lua
return "file:" .. ngx.arg[1] .. ":" .. ngx.arg[2]
--- request
GET /t?x=7
--- response_body
f=file:7:two



=== TEST 24: in set_by_lua, ngx.var works; output, ngx.exit and ngx.sleep do not
--- config
    location /t {
        set $y "";
        set_by_lua_block $x {
            local r = {ngx.get_phase(), ngx.var.uri}
            r[#r + 1] = tostring(pcall(ngx.say, "x"))
            r[#r + 1] = tostring(pcall(ngx.sleep, 0.001))
            ngx.var.y = "written"
            return table.concat(r, " ")
        }
        return 200 "$x $y\n";
    }
--- request
GET /t
--- response_body
set /t false false written



=== TEST 25: an error in set_by_lua gives 500 and the error
--- config
    location /t {
        set_by_lua_block $x { error("set failed") }
        return 200 "x=$x\n";
    }
--- request
GET /t
--- error_code: 500
--- error_log eval
qr/\[error\] .*failed to run set_by_lua\*: set_by_lua\(\w+\.conf:\d+\):1: set failed/



=== TEST 26: ngx.exit in set_by_lua is refused (500)
--- config
    location /t {
        set_by_lua_block $x { ngx.exit(403) }
        return 200 "x=$x\n";
    }
--- request
GET /t
--- error_code: 500
--- error_log
API disabled in the context of set_by_lua*



=== TEST 27: set_by_lua needs a variable name
--- bad_conf
location /t {
    set_by_lua x 'return 1';
}
--- error_log eval
qr/\[emerg\] .*invalid variable name "x" in .*bad\.conf:2/



=== TEST 28: set_by_lua_block takes the variable only
--- bad_conf
location /t {
    set_by_lua_block $x $y { return 1 }
}
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "set_by_lua_block" directive in .*bad\.conf:2/



=== TEST 29: a filter that changes the length of a response with Content-Length closes the connection
# moongate_only: nginx sends the extra bytes on a connection it keeps, where the client
# would read them as the start of the next response
--- moongate_only
--- log_level: info
--- config
    location /a.txt {
        body_filter_by_lua_block { ngx.arg[1] = string.upper(ngx.arg[1]) .. "extra" }
    }
--- user_files
>>> a.txt
hello world
--- request
GET /a.txt
--- more_headers
Connection: keep-alive
--- response_headers
Content-Length: 12
--- response_body
HELLO WORLD
--- error_log
body_filter_by_lua sent 17 bytes for a Content-Length of 12: closing the connection
