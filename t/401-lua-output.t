# The response from Lua: ngx.say/ngx.print with every value type, ngx.flush, ngx.eof,
# ngx.exit in each phase and with each kind of code, ngx.redirect, ngx.exec (URI, args,
# named location), ngx.status and ngx.headers_sent, and the phase rules of these calls.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/401-lua-output.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: say and print with strings, numbers, booleans, nil and ngx.null
--- config
    location /t {
        content_by_lua_block {
            ngx.print("a", 1, " ", 2.5, " ", true, false, nil, ngx.null)
            ngx.say()
            ngx.say(-0.125, " ", 1e15, " ", 2^53)
        }
    }
--- request
GET /t
--- response_body
a1 2.5 truefalsenilnull
-0.125 1e+15 9.007199254741e+15



=== TEST 2: nested array tables print their elements in order
--- config
    location /t {
        content_by_lua_block {
            ngx.say({"a", {"b", {"c", 1}}, true, ngx.null})
            ngx.say({})
        }
    }
--- request
GET /t
--- response_body eval
"abc1truenull\n\n"



=== TEST 3: a hash table is refused with the argument's number
--- config
    location /t {
        content_by_lua_block { ngx.say("x", {a = 1}) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #2 to 'say' (non-array table found)



=== TEST 4: a function argument is refused
--- config
    location /t {
        content_by_lua_block { ngx.print(print) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #1 to 'print' (string, number, boolean, nil, ngx.null, or array table expected, but got function)



=== TEST 5: say returns 1; after eof it returns nil and "seen eof"
--- config
    location /t {
        content_by_lua_block {
            local ok = ngx.say("first")
            ngx.eof()
            local ok2, err = ngx.say("second")
            ngx.log(ngx.WARN, "say: ", ok, " then: ", ok2, " ", err)
        }
    }
--- request
GET /t
--- response_body
first
--- error_log
say: 1 then: nil seen eof



=== TEST 6: code after ngx.eof still runs; the response is complete before it ends
--- config
    location /t {
        content_by_lua_block {
            ngx.say("done")
            ngx.eof()
            ngx.log(ngx.WARN, "after eof, headers sent: ", ngx.headers_sent)
        }
    }
--- request
GET /t
--- response_body
done
--- error_log
after eof, headers sent: true



=== TEST 7: ngx.flush(true) waits for the client to take the data
--- config
    location /t {
        content_by_lua_block {
            local chunk = string.rep("x", 65536)
            for i = 1, 64 do
                ngx.print(chunk)
                local ok, err = ngx.flush(true)
                if not ok then ngx.log(ngx.ERR, "flush: ", err) return end
            end
            ngx.say()
            ngx.say("4 MiB sent")
        }
    }
--- request
GET /t
--- response_body eval
("x" x 4194304) . "\n4 MiB sent\n"
--- no_error_log
[error]



=== TEST 8: ngx.exit(200) with nothing sent: an empty 200
--- config
    location /t {
        content_by_lua_block { ngx.exit(200) ngx.say("not reached") }
    }
--- request
GET /t
--- error_code: 200
--- response_body eval
""



=== TEST 9: ngx.status and ngx.exit(ngx.OK)
--- config
    location /t {
        content_by_lua_block {
            ngx.status = 201
            ngx.say("created ", ngx.status)
            ngx.exit(ngx.OK)
        }
    }
--- request
GET /t
--- error_code: 201
--- response_body
created 201



=== TEST 10: ngx.exit with an error status gives nginx's error page
--- config
    location /t {
        content_by_lua_block { ngx.exit(ngx.HTTP_FORBIDDEN) }
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: <title>403 Forbidden</title>



=== TEST 11: ngx.exit with an error status uses error_page
--- config
    location /t {
        error_page 404 /nf;
        content_by_lua_block { ngx.exit(404) }
    }
    location /nf {
        content_by_lua_block { ngx.say("custom not found, status ", ngx.status) }
    }
--- request
GET /t
--- error_code: 404
--- response_body
custom not found, status 404



=== TEST 12: ngx.exit(500) after output ends the response normally
--- config
    location /t {
        content_by_lua_block { ngx.say("partial") ngx.exit(500) }
    }
--- request
GET /t
--- error_code: 200
--- response_body
partial



=== TEST 13: ngx.exit(ngx.ERROR) closes the connection without a response
--- config
    location /t {
        content_by_lua_block { ngx.exit(ngx.ERROR) }
    }
--- request
GET /t
--- ignore_response
--- no_error_log
[crit]



=== TEST 14: ngx.exit(444) closes the connection
--- config
    location /t {
        content_by_lua_block { ngx.exit(444) }
    }
--- request
GET /t
--- ignore_response
--- no_error_log
[error]



=== TEST 15: access_by_lua denies, content never runs
--- config
    location /t {
        access_by_lua_block {
            if ngx.var.arg_key ~= "secret" then
                ngx.exit(ngx.HTTP_FORBIDDEN)
            end
        }
        content_by_lua_block { ngx.say("welcome") }
    }
--- request eval
["GET /t", "GET /t?key=secret"]
--- error_code eval
[403, 200]
--- response_body_like eval
["403 Forbidden", "^welcome\$"]



=== TEST 16: ngx.exit(ngx.OK) in access goes on to content
--- config
    location /t {
        access_by_lua_block { ngx.exit(ngx.OK) }
        content_by_lua_block { ngx.say("content ran") }
    }
--- request
GET /t
--- response_body
content ran



=== TEST 17: output in rewrite_by_lua ends the request there
--- config
    location /t {
        rewrite_by_lua_block { ngx.say("from rewrite") }
        content_by_lua_block { ngx.say("content") }
    }
--- request
GET /t
--- response_body
from rewrite



=== TEST 18: ngx.exit(200) in access after output ends the request
--- config
    location /t {
        access_by_lua_block { ngx.say("access says") ngx.exit(200) }
        content_by_lua_block { ngx.say("content") }
    }
--- request
GET /t
--- response_body
access says



=== TEST 19: ngx.redirect with the default 302 and a relative Location
--- config
    location /t {
        content_by_lua_block { ngx.redirect("/elsewhere?a=1") }
    }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: /elsewhere?a=1
--- response_body_like: 302 Found



=== TEST 20: ngx.redirect with 301 and an absolute URL
--- config
    location /t {
        rewrite_by_lua_block { return ngx.redirect("http://example.com/x", ngx.HTTP_MOVED_PERMANENTLY) }
    }
--- request
GET /t
--- error_code: 301
--- response_headers
Location: http://example.com/x



=== TEST 21: ngx.redirect with a status it does not allow
--- config
    location /t {
        content_by_lua_block { ngx.redirect("/x", 200) }
    }
--- request
GET /t
--- error_code: 500
--- error_log
only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed



=== TEST 22: ngx.redirect after output is an error
--- config
    location /t {
        content_by_lua_block { ngx.say("x") ngx.redirect("/y") }
    }
--- request
GET /t
--- ignore_response
--- error_log
attempt to call ngx.redirect after sending out the headers



=== TEST 23: ngx.exec to a URI with arguments
--- config
    location /t {
        content_by_lua_block { ngx.exec("/target", "a=1&b=2") }
    }
    location /target {
        content_by_lua_block { ngx.say("target: ", ngx.var.uri, " ", ngx.var.args) }
    }
--- request
GET /t
--- response_body
target: /target a=1&b=2



=== TEST 24: ngx.exec with arguments in the URI and as a table
--- config
    location /t {
        rewrite_by_lua_block { ngx.exec("/target?x=1", { y = "2" }) }
    }
    location /target {
        content_by_lua_block { ngx.say(ngx.var.args) }
    }
--- request
GET /t
--- response_body
x=1&y=2



=== TEST 25: ngx.exec to a named location; ngx.ctx does not survive it
--- config
    location /t {
        access_by_lua_block {
            ngx.ctx.mark = "set before exec"
            ngx.exec("@named")
        }
    }
    location @named {
        content_by_lua_block { ngx.say("named, ctx: ", tostring(ngx.ctx.mark)) }
    }
--- request
GET /t
--- response_body
named, ctx: nil



=== TEST 26: ngx.exec after output is an error
--- config
    location /t {
        content_by_lua_block { ngx.say("x") ngx.exec("/y") }
    }
--- request
GET /t
--- ignore_response
--- error_log
attempt to call ngx.exec after sending out response headers



=== TEST 27: ngx.status after the head was sent is logged, not raised
--- config
    location /t {
        content_by_lua_block {
            ngx.say("a")
            ngx.status = 404
            ngx.say(ngx.status)
        }
    }
--- request
GET /t
--- response_body
a
200
--- error_log
attempt to set ngx.status after sending out response headers



=== TEST 28: ngx.say is not allowed in header_filter_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.say, "x")
            ngx.log(ngx.WARN, "say in header filter: ", err)
        }
    }
--- request
GET /t
--- response_body
body
--- error_log
API disabled in the context of header_filter_by_lua*



=== TEST 29: ngx.exit is not allowed in log_by_lua
--- config
    location /t {
        content_by_lua_block { ngx.say("body") }
        log_by_lua_block {
            local ok, err = pcall(ngx.exit, 200)
            ngx.log(ngx.WARN, "exit in log: ", err)
        }
    }
--- request
GET /t
--- response_body
body
--- error_log
API disabled in the context of log_by_lua*



=== TEST 30: HEAD gets the head only
--- config
    location /t {
        content_by_lua_block { ngx.say("a body") }
    }
--- request
HEAD /t
--- response_headers
Content-Type: text/plain
--- response_body eval
""



=== TEST 31: ngx.exit cannot be caught by pcall
--- config
    location /t {
        content_by_lua_block {
            local ok = pcall(function() ngx.say("in pcall") ngx.exit(200) end)
            ngx.say("after pcall: not reached")
        }
    }
--- request
GET /t
--- response_body
in pcall



=== TEST 32: the content type follows the URI's extension, else default_type
--- config
    location /t.html {
        content_by_lua_block { ngx.say("<p>hi</p>") }
    }
    location /t {
        default_type application/json;
        content_by_lua_block { ngx.say("{}") }
    }
--- request eval
["GET /t.html", "GET /t"]
--- response_headers eval
["Content-Type: text/html", "Content-Type: application/json"]



=== TEST 33: a large response from many ngx.print calls arrives whole
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 20000 do ngx.print(string.format("%05d\n", i)) end
        }
    }
--- request
GET /t
--- response_body eval
CORE::join("", map { sprintf("%05d\n", $_) } 1 .. 20000)



=== TEST 34: work after ngx.eof goes on through a sleep; the request waits for it
--- config
    location /t {
        content_by_lua_block {
            ngx.say("answered")
            ngx.eof()
            ngx.sleep(0.2)
            ngx.log(ngx.WARN, "background work done after eof")
        }
    }
--- request
GET /t
--- response_body
answered
--- error_log
background work done after eof



=== TEST 35: ngx.exit(503) in header_filter_by_lua: nginx's 503 page replaces the response,
headers and all; the filter runs again on the page, where its ngx.exit is ignored
--- config
    location /t {
        header_filter_by_lua_block {
            ngx.log(ngx.WARN, "header filter saw ", ngx.status)
            ngx.header["X-Filter"] = "ran"
            ngx.exit(503)
        }
        content_by_lua_block {
            ngx.header["X-Content"] = "set"
            ngx.say("the content's body")
        }
    }
--- request
GET /t
--- error_code: 503
--- response_headers
X-Filter: ran
Content-Type: text/html
! X-Content
--- response_body_like: <title>503 Service Temporarily Unavailable</title>
--- grep_error_log eval: qr/header filter saw \d+/
--- grep_error_log_out
header filter saw 200
header filter saw 503



=== TEST 36: the same for other producers (return, a static file, a proxied response, output
from access_by_lua), and error_page applies
--- user_files
>>> f.txt
a file
--- config
    header_filter_by_lua_block {
        if ngx.var.arg_exit and ngx.var.uri ~= "/up" and ngx.var.uri ~= "/err" then
            ngx.exit(tonumber(ngx.var.arg_exit))
        end
    }
    location /r { return 200 "return's body\n"; }
    location /f.txt { }
    location /up { return 200 "upstream's body\n"; }
    location /p { proxy_pass http://127.0.0.1:$server_port/up; }
    location /a {
        access_by_lua_block { ngx.say("access's body") }
        content_by_lua_block { ngx.log(ngx.ERR, "content ran") }
    }
    location /e {
        error_page 503 /err;
        return 200 "not this\n";
    }
    location /err { return 200 "the error page\n"; }
--- request eval
["GET /r?exit=403", "GET /f.txt?exit=404", "GET /p?exit=502", "GET /a?exit=503", "GET /e?exit=503"]
--- error_code eval
[403, 404, 502, 503, 503]
--- response_body_like eval
["<title>403 Forbidden</title>", "<title>404 Not Found</title>", "<title>502 Bad Gateway</title>",
 "<title>503 Service Temporarily Unavailable</title>", "^the error page\n\\z"]
--- no_error_log
content ran



=== TEST 37: ngx.exit(200) and ngx.exit(201) in header_filter_by_lua: an empty response
--- config
    location /t {
        header_filter_by_lua_block { ngx.exit(tonumber(ngx.var.arg_exit)) }
        content_by_lua_block {
            ngx.header["X-Content"] = "set"
            ngx.say("the content's body")
        }
    }
--- request eval
["GET /t?exit=200", "GET /t?exit=201"]
--- error_code eval
[200, 201]
--- response_headers eval
["Content-Length: 0\n! X-Content\n! Content-Type", "Content-Length: 0\n! X-Content"]
--- response_body eval
["", ""]
