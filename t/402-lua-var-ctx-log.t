# ngx.var (read, write, captures, unknown and unchangeable variables; a value log_by_lua sets
# reaches the access log, which runs after it), ngx.ctx (per request, across phases,
# replaceable, separate per request), ngx.log and print (levels, the "[lua] file:line:
# function():" prefix, values), the constants, ngx.null, ngx.config and ngx.worker.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/402-lua-var-ctx-log.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: reading variables: built-in, prefixed families, unknown ones are nil
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.var.uri, " ", ngx.var.args, " ", ngx.var.arg_b, " ", ngx.var.http_x_test)
            ngx.say(ngx.var.request_method, " ", ngx.var.REQUEST_METHOD, " ", ngx.var.host)
            ngx.say(tostring(ngx.var.no_such_variable), " ", tostring(ngx.var.arg_missing))
        }
    }
--- request
GET /t?a=1&b=two
--- more_headers
X-Test: header value
--- response_body
/t a=1&b=two two header value
GET GET localhost
nil nil



=== TEST 2: writing a variable declared with set; the rewrite module sees the new value
--- config
    location /t {
        set $target "unset";
        rewrite_by_lua_block { ngx.var.target = "from lua" }
        content_by_lua_block { ngx.say(ngx.var.target) }
    }
--- request
GET /t
--- response_body
from lua



=== TEST 3: writing $args changes the arguments
--- config
    location /t {
        content_by_lua_block {
            ngx.var.args = "x=1&y=2"
            ngx.say(ngx.var.args, " ", ngx.var.arg_y)
        }
    }
--- request
GET /t?old=1
--- response_body
x=1&y=2 2



=== TEST 4: writing an undeclared variable is an error
--- config
    location /t {
        content_by_lua_block { ngx.var.undeclared = "x" }
    }
--- request
GET /t
--- error_code: 500
--- error_log
variable "undeclared" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $undeclared '';" in the config file to define it first



=== TEST 5: regex captures by number
--- config
    location ~ ^/t/(\w+)/(\d+)$ {
        content_by_lua_block {
            ngx.say(ngx.var[1], " ", ngx.var[2], " ", tostring(ngx.var[3]))
        }
    }
--- request
GET /t/abc/42
--- response_body
abc 42 nil



=== TEST 6: a variable set to nil reads as nil
--- config
    location /t {
        set $v "something";
        content_by_lua_block {
            ngx.var.v = nil
            ngx.say("[", tostring(ngx.var.v), "]")
        }
    }
--- request
GET /t
--- response_body
[nil]



=== TEST 7: ngx.ctx is per request
--- config
    location /t {
        content_by_lua_block {
            ngx.ctx.n = (ngx.ctx.n or 0) + 1
            ngx.say("n = ", ngx.ctx.n)
        }
    }
--- request eval
["GET /t", "GET /t"]
--- response_body eval
["n = 1\n", "n = 1\n"]



=== TEST 8: ngx.ctx can be replaced by a table, and nothing else
--- config
    location /t {
        rewrite_by_lua_block { ngx.ctx = { from = "rewrite" } }
        content_by_lua_block {
            ngx.say(ngx.ctx.from)
            local ok, err = pcall(function() ngx.ctx = "a string" end)
            ngx.say(ok)
        }
    }
--- request
GET /t
--- response_body
rewrite
false



=== TEST 9: ngx.ctx reaches the log phase
--- config
    location /t {
        content_by_lua_block { ngx.ctx.user = "alice" ngx.say("ok") }
        log_by_lua_block { ngx.log(ngx.WARN, "user was ", ngx.ctx.user) }
    }
--- request
GET /t
--- response_body
ok
--- error_log
user was alice



=== TEST 10: ngx.log levels, the prefix with the chunk, line and function name
--- log_level: info
--- config
    location /t {
        content_by_lua_block {
            local function helper()
                ngx.log(ngx.ERR, "an error: ", 42, " ", true, " ", nil)
            end
            helper()
            ngx.log(ngx.WARN, "a warning")
            ngx.log(ngx.DEBUG, "debug is below the log level")
            print("via print ", 1.5)
            ngx.say("done")
        }
    }
--- request
GET /t
--- response_body
done
--- error_log eval
[qr/\[error\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(\w+\.conf:\d+\):3: helper\(\): an error: 42 true nil, client: 127\.0\.0\.1, server: localhost, request: "GET \/t HTTP\/1\.1"/,
qr/\[warn\] .*\[lua\] content_by_lua\(\w+\.conf:\d+\):6: a warning,/,
qr/\[notice\] .*\[lua\] content_by_lua\(\w+\.conf:\d+\):8: via print 1\.5,/]
--- no_error_log
debug is below the log level



=== TEST 11: ngx.log with a bad level or a table value
--- config
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.log, 100, "x"))
            ngx.say(pcall(ngx.log, ngx.ERR, {}))
        }
    }
--- request
GET /t
--- response_body_like chomp
^false.*bad log level: 100.*
false.*expected table to have __tostring metamethod



=== TEST 12: log level constants and return codes
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.STDERR, ngx.EMERG, ngx.ALERT, ngx.CRIT, ngx.ERR, ngx.WARN, ngx.NOTICE, ngx.INFO, ngx.DEBUG)
            ngx.say(ngx.OK, " ", ngx.ERROR, " ", ngx.AGAIN, " ", ngx.DONE, " ", ngx.DECLINED)
        }
    }
--- request
GET /t
--- response_body
012345678
0 -1 -2 -4 -5



=== TEST 13: HTTP status and method constants
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.HTTP_OK, " ", ngx.HTTP_CREATED, " ", ngx.HTTP_MOVED_PERMANENTLY, " ",
                    ngx.HTTP_NOT_MODIFIED, " ", ngx.HTTP_BAD_REQUEST, " ", ngx.HTTP_UNAUTHORIZED, " ",
                    ngx.HTTP_FORBIDDEN, " ", ngx.HTTP_NOT_FOUND, " ", ngx.HTTP_TOO_MANY_REQUESTS, " ",
                    ngx.HTTP_INTERNAL_SERVER_ERROR, " ", ngx.HTTP_SERVICE_UNAVAILABLE, " ",
                    ngx.HTTP_GATEWAY_TIMEOUT)
            ngx.say(ngx.HTTP_GET, " ", ngx.HTTP_HEAD, " ", ngx.HTTP_POST, " ", ngx.HTTP_PUT, " ",
                    ngx.HTTP_DELETE, " ", ngx.HTTP_OPTIONS, " ", ngx.HTTP_PATCH)
        }
    }
--- request
GET /t
--- response_body
200 201 301 304 400 401 403 404 429 500 503 504
2 4 8 16 32 512 16384



=== TEST 14: ngx.null is a light userdata NULL, distinct from nil
--- config
    location /t {
        content_by_lua_block {
            ngx.say(type(ngx.null), " ", ngx.null == nil, " ", tostring(ngx.null))
        }
    }
--- request
GET /t
--- response_body
userdata false userdata: NULL



=== TEST 15: ngx.config
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.config.subsystem, " ", type(ngx.config.debug), " ",
                    ngx.config.ngx_lua_version >= 10000, " ", ngx.config.nginx_version >= 1000000)
            ngx.say(ngx.config.prefix() == ngx.var.document_root:gsub("html/?$", ""))
            ngx.say(type(ngx.config.nginx_configure()))
        }
    }
--- request
GET /t
--- response_body
http boolean true true
true
string



=== TEST 16: ngx.worker
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.worker.pid() > 1, " ", ngx.worker.id(), " ", ngx.worker.count(), " ",
                    ngx.worker.exiting())
        }
    }
--- request
GET /t
--- response_body
true 0 1 false



=== TEST 17: ngx.worker.id() is 0 in init_by_lua (the master), as in OpenResty 0.10.23
--- http_config
    init_by_lua_block { id_in_init = tostring(ngx.worker.id()) }
--- config
    location /t {
        content_by_lua_block { ngx.say(id_in_init) }
    }
--- request
GET /t
--- response_body
0



=== TEST 18: require "ngx" gives the ngx table
--- config
    location /t {
        content_by_lua_block { ngx.say(require("ngx") == ngx) }
    }
--- request
GET /t
--- response_body
true



=== TEST 19: log_by_lua runs before access_log: a variable it sets is what the access log shows
--- http_config
    log_format lv '$uri $who';
--- config
    location /t {
        set $who "unset";
        access_log logs/lv.log lv;
        log_by_lua_block { ngx.var.who = "set in log_by_lua" }
        return 200 "ok\n";
    }
    location /read {
        access_log off;
        content_by_lua_block {
            local f = assert(io.open(ngx.config.prefix() .. "logs/lv.log"))
            ngx.print(f:read("*a"))
            f:close()
        }
    }
--- pipelined_requests eval
["GET /t", "GET /read"]
--- response_body eval
["ok\n", "/t set in log_by_lua\n"]
