# OpenResty's Test::Nginx::Socket driving the server over the sections a module author's
# tests use most: http_config/main_config/config, main_config env, request eval, raw_request,
# more_headers, the *_like checks, error_code, error_log regexes, log_level, each block twice
# (repeat_each). Run by `make test-nginx`.

use Cwd ();
use File::Basename ();
BEGIN {
    $ENV{TEST_NGINX_BINARY} ||= Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..')
        . '/objs/moongate';
    $ENV{MOONGATE_T_COLOUR} = 'teal';
    if (!eval { require Test::Nginx::Socket; 1 }) {
        print "1..0 # SKIP Test::Nginx::Socket not on \@INC (make test-nginx TEST_NGINX_LIB=...)\n";
        exit 0;
    }
}
use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: http_config and main_config: a shared dict, an init_by_lua value, env from main_config
--- main_config
env MOONGATE_T_COLOUR;
--- http_config
    lua_shared_dict counts 1m;
    init_by_lua_block {
        local d = ngx.shared.counts
        d:set("boot", 41)
    }
--- config
    location = /t {
        content_by_lua_block {
            local d = ngx.shared.counts
            ngx.say("boot ", d:incr("boot", 1) >= 42, " colour ", os.getenv("MOONGATE_T_COLOUR"))
        }
    }
--- request
GET /t
--- response_body
boot true colour teal
--- no_error_log
[error]
[warn]

=== TEST 2: request eval builds a POST body; Content-Length from the harness
--- config
    location = /echo {
        content_by_lua_block {
            ngx.req.read_body()
            local body = ngx.req.get_body_data()
            ngx.say(ngx.req.get_method(), " ", #body, " ", body:sub(1, 3), "..", body:sub(-3))
        }
    }
--- request eval
"POST /echo\n" . ("ab" x 500) . "xyz"
--- response_body
POST 1003 aba..xyz

=== TEST 3: raw_request: the bytes as written (HTTP/1.1, own Host, Connection: close)
--- config
    location = /raw {
        content_by_lua_block {
            local h = ngx.req.get_headers()
            ngx.say(ngx.req.http_version(), " ", h["x-one"], " ", h["x-two"], " ", ngx.var.host)
        }
    }
--- raw_request eval
"GET /raw HTTP/1.1\r
Host: raw.example\r
X-One: 1\r
X-Two: 2\r
Connection: close\r
\r
"
--- response_body
1.1 1 2 raw.example

=== TEST 4: more_headers, response_headers_like, response_body_like, error_code
--- config
    location = /h {
        content_by_lua_block {
            ngx.status = 201
            ngx.header["X-Trace"] = "id-" .. ngx.var.http_x_req_id
            ngx.header["Cache-Control"] = "no-store"
            ngx.say("created at ", ngx.time())
        }
    }
--- request
GET /h
--- more_headers
X-Req-Id: 777
User-Agent: harness-probe
--- error_code: 201
--- response_headers_like
X-Trace: ^id-7{3}$
Cache-Control: no-\w+
--- response_body_like chop
^created at \d{10}$

=== TEST 5: error_log with regexes and plain strings, log_level info
--- log_level: info
--- config
    location = /log {
        content_by_lua_block {
            ngx.log(ngx.INFO, "answer=", 6 * 7, " from ", ngx.var.request_uri)
            ngx.log(ngx.ERR, "bad thing #", 3)
            ngx.say("logged")
        }
    }
--- request
GET /log?q=1
--- response_body
logged
--- error_log eval
[qr/\[info\] .*answer=42 from \/log\?q=1/, qr/\[error\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(nginx\.conf:\d+\):\d+: bad thing #3, client: 127\.0\.0\.1, server: localhost, request: "GET \/log\?q=1 HTTP\/1\.1", host: "localhost"/]
--- no_error_log
[crit]
[alert]

=== TEST 6: the default log_level (debug in Test::Nginx) lets ngx.DEBUG lines through
--- config
    location = /dbg {
        content_by_lua_block {
            ngx.log(ngx.DEBUG, "tiny detail ", 99)
            ngx.say("ok")
        }
    }
--- request
GET /dbg
--- response_body
ok
--- error_log
tiny detail 99

=== TEST 7: log_level warn filters info lines out
--- log_level: warn
--- config
    location = /quiet {
        content_by_lua_block {
            ngx.log(ngx.INFO, "should not appear")
            ngx.log(ngx.WARN, "should appear")
            ngx.say("ok")
        }
    }
--- request
GET /quiet
--- response_body
ok
--- error_log
should appear
--- no_error_log
should not appear
