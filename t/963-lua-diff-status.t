# ngx.status as OpenResty 0.10.23 (Debian's nginx with its Lua module) takes it: any
# number, as the C int its FFI makes of it, sent and logged as it is. Found in a
# side-by-side run.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/963-lua-diff-status.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: ngx.status takes a number out of 100-999 and reads it back; out of a C int's range it is INT_MIN
--- config
    location /t {
        content_by_lua_block {
            local out = {}
            for _, v in ipairs({1000, 99, 1, 0, -1, 65536, 1e10, -1e10, "201", 202.7}) do
                local ok = pcall(function() ngx.status = v end)
                out[#out + 1] = tostring(v) .. " " .. tostring(ok) .. " " .. ngx.status
            end
            ngx.status = 200
            ngx.say(table.concat(out, "\n"))
        }
    }
--- request
GET /t
--- response_body
1000 true 1000
99 true 99
1 true 1
0 true 0
-1 true -1
65536 true 65536
10000000000 true -2147483648
-10000000000 true -2147483648
201 true 201
202.7 true 202



=== TEST 2: a status below 100 goes out as three digits, and $status logs it so
--- config
    location /t {
        content_by_lua_block {
            ngx.status = 99
            ngx.say("hi")
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "logged status: ", ngx.var.status, " ", ngx.status)
        }
    }
--- request
GET /t
--- error_code: 099
--- raw_response_headers_like: ^HTTP/1.1 099 \r\n
--- response_body
hi
--- error_log
logged status: 099 99



=== TEST 3: ngx.status = 0 is no status: the response goes out as 200
--- config
    location /t {
        content_by_lua_block {
            ngx.status = 404
            ngx.status = 0
            ngx.print("")
            ngx.say(ngx.status)
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "logged status: ", ngx.var.status)
        }
    }
--- request
GET /t
--- response_body
200
--- error_log
logged status: 200



=== TEST 4: in an error_page location, ngx.status reads the error's code, and a status set there is the one sent and logged
--- config
    error_page 404 /err;
    location /t { return 404; }
    location /err {
        content_by_lua_block {
            local was = ngx.status
            ngx.status = 201
            ngx.say(was, " ", ngx.status)
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "logged status: ", ngx.var.status)
        }
    }
--- request
GET /t
--- error_code: 201
--- response_body
404 201
--- error_log
logged status: 201
