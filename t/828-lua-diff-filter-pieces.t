# body_filter_by_lua on a static file as lua-nginx-module (Debian's nginx 1.22) sees it:
# nginx's copy filter reads the file into output_buffers, so the code gets pieces of their
# size, sendfile on or off; a single buffer (output_buffers 1 N), the first one made, takes a
# whole file under 1.25 times N; with directio the rest under twice N is one piece. Found in a
# side-by-side survey.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/828-lua-diff-filter-pieces.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: pieces of output_buffers' size, sendfile on and off, a single buffer's whole small file
--- http_config
    init_by_lua_block {
        function pieces()
            local sizes = ngx.ctx.sizes or {}
            ngx.ctx.sizes = sizes
            sizes[#sizes + 1] = #ngx.arg[1] .. (ngx.arg[2] and "!" or "")
            if ngx.arg[2] then
                ngx.log(ngx.WARN, ngx.var.uri, " : ", table.concat(sizes, " "))
            end
        end
    }
--- config
    location /a/ {
        alias $TEST_NGINX_HTML_DIR/;
        sendfile off;
        output_buffers 4 4k;
        body_filter_by_lua_block { pieces() }
    }
    location /b/ {
        alias $TEST_NGINX_HTML_DIR/;
        sendfile on;
        output_buffers 1 8k;
        body_filter_by_lua_block { pieces() }
    }
    location /c/ {
        alias $TEST_NGINX_HTML_DIR/;
        output_buffers 2 8k;
        body_filter_by_lua_block { pieces() }
    }
--- user_files eval
[["20k.txt", "a" x 20000], ["9k.txt", "b" x 9000]]
--- pipelined_requests eval
["GET /a/20k.txt", "GET /b/20k.txt", "GET /b/9k.txt", "GET /c/9k.txt"]
--- response_body eval
["a" x 20000, "a" x 20000, "b" x 9000, "b" x 9000]
--- error_log
/a/20k.txt : 4096 4096 4096 4096 3616!
/b/20k.txt : 8192 8192 3616!
/b/9k.txt : 9000!
/c/9k.txt : 8192 808!



=== TEST 2: with directio, a file's rest under twice output_buffers' size is one piece
--- http_config
    init_by_lua_block {
        function pieces()
            local sizes = ngx.ctx.sizes or {}
            ngx.ctx.sizes = sizes
            sizes[#sizes + 1] = #ngx.arg[1] .. (ngx.arg[2] and "!" or "")
            if ngx.arg[2] then
                ngx.log(ngx.WARN, ngx.var.uri, " : ", table.concat(sizes, " "))
            end
        end
    }
--- config
    location /a/ {
        alias $TEST_NGINX_HTML_DIR/;
        directio 4k;
        output_buffers 4 4k;
        body_filter_by_lua_block { pieces() }
    }
    location /b/ {
        alias $TEST_NGINX_HTML_DIR/;
        directio 4k;
        body_filter_by_lua_block { pieces() }
    }
--- user_files eval
[["20k.txt", "a" x 20000], ["40k.txt", "b" x 40000]]
--- pipelined_requests eval
["GET /a/20k.txt", "GET /b/40k.txt"]
--- response_body eval
["a" x 20000, "b" x 40000]
--- error_log
/a/20k.txt : 4096 4096 4096 7712!
/b/40k.txt : 40000!
