# lua_capture_error_log SIZE and require "ngx.errlog": the process's error log lines as
# written (those the error_log level lets through), from init_by_lua on, taken out by
# get_logs as level, time, line; set_filter_level narrows what is kept, a full buffer drops
# the oldest; raw_log writes a line without the "[lua] file:line:" prefix. Debian's nginx
# lacks OpenResty's capture patch ("lua_capture_error_log" is refused there): moongate_only.
#
#   prove -I t/lib t/444-lua-errlog.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: captured lines with their level and time; get_logs removes what it returns
--- http_config
    lua_capture_error_log 32k;
    init_by_lua_block { ngx.log(ngx.WARN, "from init") }
--- config
    location /t {
        content_by_lua_block {
            local errlog = require "ngx.errlog"
            ngx.log(ngx.ERR, "in content")
            ngx.log(ngx.NOTICE, "below the error_log level")
            local logs = errlog.get_logs(10)
            for i = 1, #logs, 3 do
                ngx.say(logs[i], " ", type(logs[i + 1]),
                        " ", math.abs(logs[i + 1] - ngx.now()) < 60, " ", (logs[i + 2]:gsub("^%d+/%d+/%d+ %d+:%d+:%d+ ", ""):gsub("%d+#%d+", "P")))
            end
            ngx.say(#errlog.get_logs(10))
        }
    }
--- log_level: warn
--- request
GET /t
--- response_body_like chomp
^5 number true \[warn\] P: \[lua\] init_by_lua.*: from init
4 number true \[error\] P: \*\d+ \[lua\] content_by_lua.*: in content, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", host: "localhost"
0
$
--- moongate_only



=== TEST 2: get_logs(max) returns at most max entries, a trailing nil in a given table
--- http_config
    lua_capture_error_log 32k;
--- config
    location /t {
        content_by_lua_block {
            local errlog = require "ngx.errlog"
            for i = 1, 5 do ngx.log(ngx.ERR, "msg ", i) end
            local res = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
            local logs = errlog.get_logs(2, res)
            ngx.say(logs == res, " ", logs[7] == nil, " ", logs[8], " ", logs[3]:match("msg %d"), " ", logs[6]:match("msg %d"))
            logs = errlog.get_logs(0)
            ngx.say(#logs, " ", logs[9]:match("msg %d"))
        }
    }
--- request
GET /t
--- response_body
true true 8 msg 1 msg 2
9 msg 5
--- log_level: warn
--- moongate_only



=== TEST 3: set_filter_level keeps only the more severe; bad levels and a missing argument
--- http_config
    lua_capture_error_log 32k;
    init_by_lua_block {
        local errlog = require "ngx.errlog"
        assert(errlog.set_filter_level(ngx.ERR))
    }
--- config
    location /t {
        content_by_lua_block {
            local errlog = require "ngx.errlog"
            errlog.get_logs(0)
            ngx.log(ngx.WARN, "a warning")
            ngx.log(ngx.CRIT, "a crit")
            local logs = errlog.get_logs()
            ngx.say(#logs, " ", logs[1], " ", logs[3]:match("a %a+"))
            ngx.say(errlog.set_filter_level(9))
            ngx.say(errlog.set_filter_level())
            ngx.say(errlog.get_sys_filter_level() == ngx.WARN)
        }
    }
--- log_level: warn
--- request
GET /t
--- response_body
3 3 a crit
nilbad log level: 9
nilmissing "level" argument
true
--- moongate_only



=== TEST 4: a full buffer drops the oldest lines
--- http_config
    lua_capture_error_log 4k;
--- config
    location /t {
        content_by_lua_block {
            local errlog = require "ngx.errlog"
            errlog.get_logs(0)
            for i = 1, 100 do ngx.log(ngx.ERR, "line ", i) end
            local logs = errlog.get_logs(0)
            local n = #logs / 3
            ngx.say(n > 5 and n < 100, " ", logs[#logs]:match("line %d+"),
                    " ", logs[3]:match("line (%d+)") == tostring(101 - n))
        }
    }
--- request
GET /t
--- response_body
true line 100 true
--- moongate_only



=== TEST 5: without the directive get_logs and set_filter_level say so; raw_log
--- config
    location /t {
        content_by_lua_block {
            local errlog = require "ngx.errlog"
            ngx.say(errlog.get_logs())
            ngx.say(errlog.set_filter_level(ngx.ERR))
            errlog.raw_log(ngx.ERR, "raw line here")
            ngx.say(pcall(errlog.raw_log, 10, "x"))
            ngx.say(pcall(errlog.raw_log, ngx.ERR))
        }
    }
--- request
GET /t
--- response_body
nildirective "lua_capture_error_log" is not set
nildirective "lua_capture_error_log" is not set
falsebad log level
falsebad argument #2 to 'raw_log' (must be a string)
--- error_log eval
qr/\[error\] \d+#\d+: \*\d+ raw line here, client: 127\.0\.0\.1/
--- moongate_only
