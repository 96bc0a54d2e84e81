# The context nginx appends to an error-log line about a request: client, server, request,
# then the subrequest the line is about (its URI) and that subrequest's upstream, then host
# and referrer. Checked for an upstream failing under a main request and under subrequests
# (auth_request, ngx.location.capture), and for ngx.log from Lua run in a subrequest.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/156-error-log-context.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

plan 'no_plan';
log_level('info');

backend(gone => 'refused');

run_tests();

__DATA__

=== TEST 1: the main request's upstream: no subrequest part
--- config
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_GONE_PORT/up;
    }
--- request
GET /t
--- more_headers
Referer: http://ref.test/
--- error_code: 502
--- error_log eval
qr{\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", upstream: "http://127\.0\.0\.1:\d+/up", host: "localhost", referrer: "http://ref\.test/"$}
--- no_error_log
subrequest:

=== TEST 2: auth_request's subrequest and its upstream are named
--- config
    location /t {
        auth_request /auth;
    }
    location = /auth {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_GONE_PORT/check;
    }
--- user_files
>>> t
ok
--- request
GET /t?a=1
--- error_code: 500
--- error_log eval
qr{\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /t\?a=1 HTTP/1\.1", subrequest: "/auth", upstream: "http://127\.0\.0\.1:\d+/check", host: "localhost"$}

=== TEST 3: ngx.log in a captured subrequest names it; the parent's own line does not
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/sub")
            ngx.log(ngx.WARN, "parent got ", res.status)
            ngx.print(res.body)
        }
    }
    location = /sub {
        content_by_lua_block {
            ngx.log(ngx.WARN, "in the child")
            ngx.say("child")
        }
    }
--- request
GET /t
--- response_body
child
--- error_log eval
[qr{\[warn\] .*in the child, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", subrequest: "/sub", host: "localhost"$},
 qr{\[warn\] .*parent got 200, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", host: "localhost"$}]

=== TEST 4: a captured subrequest's proxy failure
--- config
    location /t {
        content_by_lua_block {
            local res = ngx.location.capture("/p")
            ngx.say(res.status)
        }
    }
    location = /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_GONE_PORT/deep;
    }
--- request
GET /t
--- response_body
502
--- error_log eval
qr{\[error\] .*while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", subrequest: "/p", upstream: "http://127\.0\.0\.1:\d+/deep", host: "localhost"$}
