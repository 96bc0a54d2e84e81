# OpenResty's Test::Nginx::Socket itself (not t/lib's Test::Moongate) driving objs/moongate:
# the sections and modes this project's harness does not have (master + workers, pipelined
# requests, grep_error_log, shutdown_error_log, user_files, $TEST_NGINX_* in the config,
# env_to_nginx). Run by `make test-nginx TEST_NGINX_LIB=.../test-nginx/lib`.

use Cwd ();
use File::Basename ();
BEGIN {
    # before Test::Nginx::Util loads: it reads TEST_NGINX_BINARY once
    $ENV{TEST_NGINX_BINARY} ||= Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..')
        . '/objs/moongate';
    $ENV{MOONGATE_T_GREETING} = 'hello from the harness';
    if (!eval { require Test::Nginx::Socket; 1 }) {
        print "1..0 # SKIP Test::Nginx::Socket not on \@INC (make test-nginx TEST_NGINX_LIB=...)\n";
        exit 0;
    }
}
use Test::Nginx::Socket 'no_plan';

master_on();
workers(2);
env_to_nginx('MOONGATE_T_GREETING');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: master and two workers; the pid Test::Nginx reads is the master's
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.worker.count(), " ", require("ngx.process").type(),
                    " ", ngx.worker.pid() ~= tonumber(io.open("$TEST_NGINX_SERVER_ROOT/logs/nginx.pid"):read("*l")))
        }
    }
--- request
GET /t
--- response_body
2 worker true
--- no_error_log
[error]

=== TEST 2: pipelined requests on one connection, more_headers, response_headers
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-Got"] = ngx.var.http_x_sent
            ngx.say(ngx.var.uri)
        }
    }
--- pipelined_requests eval
["GET /t/a", "GET /t/b"]
--- more_headers
X-Sent: yes
--- response_headers eval
["X-Got: yes", "X-Got: yes"]
--- response_body eval
["/t/a\n", "/t/b\n"]

=== TEST 3: grep_error_log and error_code
--- config
    location /t {
        content_by_lua_block {
            ngx.log(ngx.WARN, "step one")
            ngx.log(ngx.WARN, "step two")
            ngx.exit(403)
        }
    }
--- request
GET /t
--- error_code: 403
--- grep_error_log eval: qr/step \w+/
--- grep_error_log_out
step one
step two

=== TEST 4: user_files under html/, env_to_nginx
--- user_files
>>> greeting.txt
static file
--- config
    location /t {
        content_by_lua_block {
            ngx.say(os.getenv("MOONGATE_T_GREETING"))
            local res = ngx.location.capture("/greeting.txt")
            ngx.print(res.body)
        }
    }
--- request
GET /t
--- response_body
hello from the harness
static file

=== TEST 5: shutdown_error_log: the exit_worker handler's line when the harness stops the server
--- http_config
    exit_worker_by_lua_block { ngx.log(ngx.NOTICE, "leaving worker ", ngx.worker.id() ~= nil) }
--- config
    location /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- shutdown_error_log
leaving worker true
