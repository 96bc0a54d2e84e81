# body_filter_by_lua on an unbuffered proxied response whose head came alone with a body that
# is complete already (Content-Length 0, an upstream's 204 or 304): as nginx, the head is
# flushed first, a call the code sees ("" and false) before the end; and ranges of a static
# file under a body filter: one range is cut from the pieces the code passes on, several
# (which need the body whole) get the whole 200 instead of a broken response. Found in a
# side-by-side survey.
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



=== TEST 3: several ranges under a body filter: the whole 200
# moongate_only: nginx's range filter is before the Lua filter in its body chain, so the code
# sees the multipart parts; here it sees the file, which the range filter can only cut one
# range from as it streams by
--- moongate_only
--- config
    location /f.txt {
        body_filter_by_lua_block { }
    }
--- user_files eval
[["f.txt", "0123456789" x 5000]]
--- request
GET /f.txt
--- more_headers
Range: bytes=2-5,10-11
--- response_headers
Content-Length: 50000
--- response_body eval
"0123456789" x 5000
