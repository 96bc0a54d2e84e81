# ngx.req.set_body_file(path, auto_clean?): a file becomes the request body (what proxy_pass
# sends, with its Content-Length), get_body_file names it, get_body_data has nothing;
# auto_clean removes it when the request ends; lua-nginx-module's errors.
#
#   prove -I t/lib t/441-lua-set-body-file.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/441-lua-set-body-file.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the file is the body proxy_pass sends; auto_clean removes it afterwards
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/sbf1;
    location /t {
        rewrite_by_lua_block {
            ngx.req.read_body()
            local name = "$TEST_NGINX_SERVROOT/sbf1/mine.txt"
            local f = assert(io.open(name, "w"))
            f:write("from the file\n")
            f:close()
            ngx.req.set_body_file(name, true)
            ngx.req.set_header("X-File", ngx.req.get_body_file():match("[^/]+$"))
            ngx.req.set_header("X-Data", tostring(ngx.req.get_body_data()))
        }
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }
    location /echo {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.var.http_content_length, " ", ngx.var.http_x_file, " ",
                    ngx.var.http_x_data)
            ngx.print(ngx.req.get_body_data())
        }
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/sbf1/; }
--- request eval
["POST /t\nthe client's body", "GET /files/mine.txt"]
--- error_code eval
[200, 404]
--- response_body_like eval
["\\A14 mine.txt nil\nfrom the file\n\\z", "404 Not Found"]



=== TEST 2: without auto_clean the file stays
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/sbf2;
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local name = "$TEST_NGINX_SERVROOT/sbf2/kept.txt"
            local f = assert(io.open(name, "w"))
            f:write("kept")
            f:close()
            ngx.req.set_body_file(name)
            ngx.say(ngx.var.http_content_length, " ", ngx.req.get_body_file() == name)
        }
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/sbf2/; }
--- request eval
["POST /t\nabc", "GET /files/kept.txt"]
--- response_body eval
["4 true\n", "kept"]



=== TEST 3: errors: body not read, a missing file, the argument count
--- config
    location /early {
        content_by_lua_block {
            ngx.say(select(2, pcall(ngx.req.set_body_file, "/etc/hostname")))
        }
    }
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(select(2, pcall(ngx.req.set_body_file, "/nonexistent/x")))
            ngx.say(select(2, pcall(ngx.req.set_body_file)))
            ngx.say(select(2, pcall(ngx.req.set_body_file, "/etc/hostname", true, 1)))
        }
    }
--- request eval
["POST /early\nabc", "POST /t\nabc"]
--- response_body eval
["request body not read yet\n",
 "stat() \"/nonexistent/x\" failed\nexpecting 1 or 2 arguments but seen 0\n" .
 "expecting 1 or 2 arguments but seen 3\n"]
