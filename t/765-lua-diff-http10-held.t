# HTTP/1.0 output that lua_http10_buffering holds for its Content-Length, found differing in a
# side-by-side run with Debian's nginx and its Lua module (0.10.23): what rewrite_by_lua or
# access_by_lua printed without ngx.exit waits while the phases go on (content_by_lua adds to
# it, another content handler's response replaces it), and at the end the held output and the
# last buffer pass body_filter_by_lua apart, so a filter dropping the non-final data drops it.
#
#   prove -I t/lib t/765-lua-diff-http10-held.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/765-lua-diff-http10-held.t

use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: access_by_lua's output without ngx.exit waits: content_by_lua adds to it
--- config
    location /t {
        access_by_lua_block { ngx.say("from access") }
        content_by_lua_block { ngx.say("from content") }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_headers
Content-Length: 25
--- response_body
from access
from content



=== TEST 2: rewrite_by_lua's and access_by_lua's outputs both wait for content_by_lua's end
--- config
    location /t {
        rewrite_by_lua_block { ngx.say("from rewrite") }
        access_by_lua_block { ngx.say("from access") }
        content_by_lua_block { ngx.print("end") }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_headers
Content-Length: 28
--- response_body chomp
from rewrite
from access
end



=== TEST 3: another content handler's response replaces the held output
--- config
    location /t {
        access_by_lua_block { ngx.header["X-Access"] = "1" ngx.say("dropped") }
    }
--- user_files
>>> t
static file
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_headers
Content-Length: 12
X-Access: 1
--- response_body
static file



=== TEST 4: ngx.exit(ngx.OK) in access_by_lua sends the held output and ends the request
--- config
    location /t {
        access_by_lua_block { ngx.say("from access") ngx.exit(ngx.OK) }
        content_by_lua_block { ngx.say("not reached") }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_headers
Content-Length: 12
--- response_body
from access



=== TEST 5: the held output reaches body_filter_by_lua as non-final data, then the last buffer alone
--- config
    location /t {
        body_filter_by_lua_block {
            ngx.log(ngx.WARN, "filter: [", (ngx.arg[1]:gsub("\n", "|")), "] ", tostring(ngx.arg[2]))
        }
        content_by_lua_block { ngx.say("abc") ngx.say("def") }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_headers
Content-Length: 8
--- response_body
abc
def
--- grep_error_log eval
qr/filter: \[[^\]]*\] \w+/
--- grep_error_log_out
filter: [abc|def|] false
filter: [] true



=== TEST 6: a filter that drops the non-final data leaves the Content-Length and no body
--- config
    location /t {
        body_filter_by_lua_block {
            if not ngx.arg[2] then
                ngx.arg[1] = nil
            end
        }
        content_by_lua_block { ngx.say("abc") }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_incomplete
--- response_headers
Content-Length: 4
--- response_body chomp
