# Request bodies on disk, as Lua sees them (lua-nginx-module): a body beyond
# client_body_buffer_size is in a temporary file, ngx.req.get_body_file() names it,
# get_body_data() and get_post_args() have nothing, and the file goes with the request even
# under client_body_in_file_only on (OpenResty cleans what Lua read); set_body_data replaces
# it with a body in memory; a capture's subrequest and proxy_pass send it on.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/422-lua-body-file.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

our $Body = join('', map { sprintf "%07d\n", $_ } 1 .. 2500) . "end";    # 20,003 bytes

run_tests();

__DATA__

=== TEST 1: a large body: get_body_file names it, its bytes are the body, get_body_data is nil
--- config
    client_body_buffer_size 1k;
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt1 1;
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local name = ngx.req.get_body_file()
            local f = assert(io.open(name))
            local data = f:read("*a")
            f:close()
            ngx.say(name:match("/cbt1/.*$"), " ", #data, " ", data:sub(1, 8) == "0000001\n")
            ngx.say(tostring(ngx.req.get_body_data()))
            ngx.say(ngx.var.request_body_file == name, " ", tostring(ngx.var.request_body))
        }
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/cbt1/; }
--- request eval
["POST /t\n$main::Body", "GET /files/1/0000000001"]
--- error_code eval
[200, 404]
--- response_body_like eval
["\\A/cbt1/1/0000000001 20003 true\nnil\ntrue nil\n\\z", "404 Not Found"]



=== TEST 2: client_body_in_file_only on: Lua's read still removes the file at the end
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt2;
    location /t {
        client_body_in_file_only on;
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(ngx.req.get_body_file():match("/cbt2/.*$"), " ", tostring(ngx.req.get_body_data()))
        }
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/cbt2/; }
--- request eval
["POST /t\nsmall", "GET /files/0000000001"]
--- error_code eval
[200, 404]
--- response_body_like eval
["\\A/cbt2/0000000001 nil\n\\z", "404 Not Found"]



=== TEST 3: a small body stays in memory: no file
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say(tostring(ngx.req.get_body_file()), " ", ngx.req.get_body_data())
        }
    }
--- request
POST /t
hello
--- response_body
nil hello



=== TEST 4: a chunked body beyond the buffer: in a file, whole
--- config
    client_body_buffer_size 2k;
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local f = assert(io.open(ngx.req.get_body_file()))
            local data = f:read("*a")
            f:close()
            ngx.say(#data, " ", ngx.md5(data) == ngx.md5(string.rep("0123456789", 1000)))
        }
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. CORE::join('', map { "3e8\r\n" . ("0123456789" x 100) . "\r\n" } 1 .. 10) . "0\r\n\r\n"
--- response_body
10000 true



=== TEST 5: lua_need_request_body and get_post_args with a body in a file
--- config
    client_body_buffer_size 1k;
    location /t {
        lua_need_request_body on;
        content_by_lua_block {
            local args, err = ngx.req.get_post_args()
            ngx.say(tostring(args), " ", err, " ", ngx.req.get_body_file() ~= nil)
        }
    }
--- request eval
"POST /t\n" . ("a=b&" x 1000)
--- response_body
nil request body in temp file not supported true



=== TEST 6: set_body_data replaces a body in a file with one in memory
--- config
    client_body_buffer_size 1k;
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.req.set_body_data("new body")
            ngx.say(ngx.req.get_body_data(), " ", tostring(ngx.req.get_body_file()))
        }
    }
--- request eval
"POST /t\n$main::Body"
--- response_body
new body nil



=== TEST 7: a capture forwards the body in its file to a proxied location
--- config
    client_body_buffer_size 1k;
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            local res = ngx.location.capture("/p", { method = ngx.HTTP_POST })
            ngx.print(res.body)
        }
    }
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/count; }
    location /count {
        content_by_lua_block {
            ngx.req.read_body()
            local data = ngx.req.get_body_data()
            if not data then
                local f = assert(io.open(ngx.req.get_body_file()))
                data = f:read("*a")
                f:close()
            end
            ngx.say(#data, " ", ngx.var.http_content_length, " ", data:sub(-3))
        }
    }
--- request eval
"POST /t\n$main::Body"
--- response_body
20003 20003 end
