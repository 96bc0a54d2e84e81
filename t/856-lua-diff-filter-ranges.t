# body_filter_by_lua under byte ranges, as Debian's nginx 1.22 runs it: nginx's range body
# filter comes before the Lua one, so the code sees one range's bytes (with the end in the same
# call) or the multipart parts; a proxied response the range filter may cut (proxy_force_ranges)
# likewise, several ranges of it giving the whole 200; content_by_lua's output takes no ranges;
# a 416's page passes through the code. moongate's range filter cut its range from what the
# code had passed on. Found in a side-by-side audit (issue 12).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/856-lua-diff-filter-ranges.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: one range of a static file: the code sees the range's bytes and the end at once
--- config
    location /f.txt {
        body_filter_by_lua_block {
            ngx.log(ngx.INFO, "call: [", ngx.arg[1], "] ", ngx.arg[2])
            ngx.arg[1] = ngx.arg[1]:upper()
        }
    }
--- user_files eval
[["f.txt", "abcdefghijklmnop"]]
--- request
GET /f.txt
--- more_headers
Range: bytes=2-5
--- error_code: 206
--- response_headers
Content-Range: bytes 2-5/16
Content-Length: 4
--- response_body: CDEF
--- error_log
call: [cdef] true
--- no_error_log
call: [abc



=== TEST 2: a filter that lengthens one range: the range's bytes, then its own
--- config
    location /f.txt {
        body_filter_by_lua_block {
            if ngx.arg[1] ~= "" then ngx.arg[1] = "<" .. ngx.arg[1] .. ">" end
        }
    }
--- user_files eval
[["f.txt", "abcdefghijklmnop"]]
--- request
GET /f.txt
--- more_headers
Range: bytes=2-
--- error_code: 206
--- response_headers
Content-Range: bytes 2-15/16
Content-Length: 14
--- response_body: <cdefghijklmno



=== TEST 3: a proxied response the range filter cuts: the code sees the range
--- config
    location /up/ { alias html/; }
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up/f.txt;
        proxy_set_header Range "";
        proxy_force_ranges on;
        body_filter_by_lua_block {
            ngx.log(ngx.INFO, "call: [", ngx.arg[1], "] ", ngx.arg[2])
            ngx.arg[1] = ngx.arg[1]:upper()
        }
    }
--- user_files eval
[["f.txt", "abcdefghijklmnop"]]
--- request
GET /t
--- more_headers
Range: bytes=-3
--- error_code: 206
--- response_headers
Content-Range: bytes 13-15/16
--- response_body: NOP
--- error_log
call: [nop] true
--- no_error_log
call: [abc



=== TEST 4: several ranges of a proxied response: the whole 200, the code seeing it all
--- config
    location /up/ { alias html/; }
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up/f.txt;
        proxy_set_header Range "";
        proxy_force_ranges on;
        body_filter_by_lua_block { ngx.arg[1] = ngx.arg[1]:upper() }
    }
--- user_files eval
[["f.txt", "abcdefghijklmnop"]]
--- request
GET /t
--- more_headers
Range: bytes=0-1,4-5
--- error_code: 200
--- response_headers
Accept-Ranges: bytes
Content-Length: 16
--- response_body: ABCDEFGHIJKLMNOP



=== TEST 5: content_by_lua's output takes no range
--- config
    location /t {
        content_by_lua_block {
            ngx.header.content_length = 16
            ngx.print("abcdefghijklmnop")
        }
        body_filter_by_lua_block { ngx.arg[1] = ngx.arg[1]:upper() }
    }
--- request
GET /t
--- more_headers
Range: bytes=2-5
--- error_code: 200
--- response_body: ABCDEFGHIJKLMNOP



=== TEST 6: an unsatisfiable range: the 416 page passes through the code
--- config
    location /f.txt {
        body_filter_by_lua_block { ngx.arg[1] = ngx.arg[1]:upper() }
    }
--- user_files eval
[["f.txt", "abcdefghijklmnop"]]
--- request
GET /f.txt
--- more_headers
Range: bytes=20-30
--- error_code: 416
--- response_headers
Content-Range: bytes */16
--- response_body_like: <TITLE>416 REQUESTED RANGE NOT SATISFIABLE</TITLE>
