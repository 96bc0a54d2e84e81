# body_filter_by_lua on an unbuffered proxied response whose head came alone with a body that
# is complete already (Content-Length 0, an upstream's 204 or 304): as nginx, the head is
# flushed first, a call the code sees ("" and false) before the end; and ranges of a static
# file under a body filter: the code sees one range's bytes or the multipart parts (nginx's
# range body filter is before the Lua one), not a broken response. Found in a side-by-side
# survey.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/829-lua-diff-filter-unbuffered.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: unbuffered, a complete empty body: the head's flush, then the end
--- http_config
    init_by_lua_block {
        function calls()
            local seen = ngx.ctx.seen or {}
            ngx.ctx.seen = seen
            seen[#seen + 1] = "[" .. ngx.arg[1] .. "]" .. tostring(ngx.arg[2])
            if ngx.arg[2] then
                ngx.log(ngx.WARN, "calls on ", ngx.status, ": ", table.concat(seen, " "))
            end
        end
    }
--- config
    location /up200 { return 200 ""; }
    location /up204 { return 204; }
    location /up304 { return 304; }
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up$arg_s;
        proxy_buffering off;
        body_filter_by_lua_block { calls() }
    }
--- pipelined_requests eval
["GET /t?s=200", "GET /t?s=204", "GET /t?s=304"]
--- error_code eval
[200, 204, 304]
--- response_body eval
["", "", ""]
--- error_log
calls on 200: []false []true
calls on 204: []false []true
calls on 304: []false []true



=== TEST 2: one range of a static file under a body filter
--- config
    location /f.txt {
        body_filter_by_lua_block { }
    }
--- user_files eval
[["f.txt", "0123456789" x 5000]]
--- request
GET /f.txt
--- more_headers
Range: bytes=2-5
--- error_code: 206
--- response_headers
Content-Range: bytes 2-5/50000
--- response_body: 2345



=== TEST 3: several ranges under a body filter: the code sees the parts
# nginx's range body filter is before the Lua one: the code gets the multipart body (a part's
# bytes with the next part's head in one call, as nginx's copy filter passes them)
--- config
    location /f.txt {
        body_filter_by_lua_block {
            ngx.log(ngx.INFO, "call: [", (ngx.arg[1]:gsub("\r\n", "|")), "] ", ngx.arg[2])
            ngx.arg[1] = ngx.arg[1]:upper()
        }
    }
--- user_files eval
[["f.txt", "abcdefghij" x 5000]]
--- request
GET /f.txt
--- more_headers
Range: bytes=2-5,10-11
--- error_code: 206
--- response_headers_like
Content-Type: multipart/byteranges; boundary=\d{20}
--- response_body_like eval
my $h = "CONTENT-TYPE: TEXT/PLAIN\r\nCONTENT-RANGE: BYTES";
qr{^\r\n--(\d{20})\r\n$h 2-5/50000\r\n\r\nCDEF\r\n--\1\r\n$h 10-11/50000\r\n\r\nAB\r\n--\1--\r\n$}
--- error_log eval
[qr{call: \[\|--\d{20}\|Content-Type: text/plain\|Content-Range: bytes 2-5/50000\|\|\] false},
 qr{call: \[cdef\|--\d{20}\|Content-Type: text/plain\|Content-Range: bytes 10-11/50000\|\|\] false},
 qr{call: \[ab\|--\d{20}--\|\] true}]
