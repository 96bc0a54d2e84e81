# satisfy all|any across allow/deny, auth_basic and auth_request (nginx's access phase: all
# must agree, or one allowing is enough, a 401 winning over a 403 and its challenge dropped once
# another module allows), and limit_except: the block applies to the methods it does not list
# (GET brings HEAD), with its own allow/deny, auth_basic and proxy_pass, the location's rewrite
# directives not running for those methods, and the configuration errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/174-satisfy-limit-except.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use MIME::Base64;

plan 'no_plan';
log_level('info');

sub basic { 'Authorization: Basic ' . encode_base64($_[0], '') }

run_tests();

__DATA__

=== TEST 1: satisfy all (the default): the address and the password must both pass
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        set_real_ip_from 127.0.0.1;
        allow 10.0.0.1;
        deny all;
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    }
--- user_files
>>> pw
a:{PLAIN}b
>>> t/ok
ok
--- request eval
[("GET /t/ok") x 4]
--- more_headers eval
["X-Real-IP: 10.0.0.1", "X-Real-IP: 10.0.0.1\n" . main::basic("a:b"),
 "X-Real-IP: 10.0.0.2\n" . main::basic("a:b"), "X-Real-IP: 10.0.0.2"]
--- error_code eval
[401, 200, 403, 403]



=== TEST 2: satisfy any: the address or the password
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        satisfy any;
        set_real_ip_from 127.0.0.1;
        allow 10.0.0.1;
        deny all;
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    }
--- user_files
>>> pw
a:{PLAIN}b
>>> t/ok
ok
--- request eval
[("GET /t/ok") x 4]
--- more_headers eval
["X-Real-IP: 10.0.0.1", "X-Real-IP: 10.0.0.2\n" . main::basic("a:b"),
 "X-Real-IP: 10.0.0.2\n" . main::basic("a:x"), "X-Real-IP: 10.0.0.2"]
--- error_code eval
[200, 200, 401, 401]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", "WWW-Authenticate: Basic realm=\"r\"",
 "WWW-Authenticate: Basic realm=\"r\""]
--- no_error_log
access forbidden by rule



=== TEST 3: satisfy any with every module denying by address: 403, logged once
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        satisfy any;
        deny all;
    }
--- user_files
>>> t/ok
ok
--- request
GET /t/ok
--- error_code: 403
--- grep_error_log: access forbidden by rule
--- grep_error_log_out
access forbidden by rule



=== TEST 4: satisfy any: the challenge of a denying module goes once another one allows
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        satisfy any;
        deny all;
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
        auth_request /auth;
    }
    location = /auth {
        if ($http_x_auth = yes) {
            return 204;
        }
        return 403;
    }
--- user_files
>>> pw
a:{PLAIN}b
>>> t/ok
ok
--- request eval
["GET /t/ok", "GET /t/ok", "GET /t/ok"]
--- more_headers eval
["X-Auth: yes", "X-Auth: no", "X-Auth: no\n" . main::basic("a:b")]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["!WWW-Authenticate", "WWW-Authenticate: Basic realm=\"r\"", "!WWW-Authenticate"]



=== TEST 5: satisfy any: a 403 from the subrequest does not hide the 401 of the password
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        satisfy any;
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
        auth_request /auth;
    }
    location = /auth {
        return 403;
    }
--- user_files
>>> pw
a:{PLAIN}b
>>> t/ok
ok
--- request
GET /t/ok
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="r"
--- no_error_log
access forbidden by rule



=== TEST 6: satisfy is inherited; a module's error is no denial
--- config
    root $TEST_NGINX_HTML_DIR;
    satisfy any;
    location /t/ {
        deny all;
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/no-such-file;
    }
    location /loop/ {
        deny all;
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pwloop;
    }
--- user_files
>>> t/ok
ok
>>> loop/ok
ok
--- init
    unlink "$HtmlDir/pwloop";
    symlink("pwloop", "$HtmlDir/pwloop") or die "symlink: $!";
--- request eval
["GET /t/ok", "GET /loop/ok"]
--- more_headers eval
[main::basic("a:b"), main::basic("a:b")]
--- error_code eval
[403, 500]
--- error_log eval
[qr/\[error\] .*open\(\) ".*no-such-file" failed/, qr/\[crit\] .*open\(\) ".*\/pwloop" failed/]



=== TEST 7: satisfy any: an access_by_lua entry that ends allows, also after a wait
--- config
    root $TEST_NGINX_HTML_DIR;
    satisfy any;
    deny all;
    location /now/ {
        access_by_lua_block { local x = 1 }
    }
    location /later/ {
        access_by_lua_block { ngx.sleep(0.01) }
    }
    location /exit-ok/ {
        access_by_lua_block { ngx.sleep(0.01) ngx.exit(ngx.OK) }
    }
    location /declined/ {
        access_by_lua_block { ngx.sleep(0.01) ngx.exit(ngx.DECLINED) }
    }
    location /denied/ {
        satisfy all;
        allow all;
        access_by_lua_block { ngx.sleep(0.01) ngx.exit(403) }
    }
--- user_files
>>> now/ok
ok
>>> later/ok
ok
>>> exit-ok/ok
ok
>>> declined/ok
ok
>>> denied/ok
ok
--- request eval
["GET /now/ok", "GET /later/ok", "GET /exit-ok/ok", "GET /declined/ok", "GET /denied/ok"]
--- error_code eval
[200, 200, 200, 403, 403]



=== TEST 8: limit_except GET: GET and HEAD pass, other methods meet the block
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        limit_except GET {
            deny all;
        }
    }
--- user_files
>>> t/ok
ok
--- request eval
["GET /t/ok", "HEAD /t/ok", "POST /t/ok", "DELETE /t/ok", "OPTIONS /t/ok", "PROPFIND /t/ok",
 "FOO /t/ok"]
--- error_code eval
[200, 200, 403, 403, 403, 403, 403]
--- error_log eval
qr/\[error\] .*access forbidden by rule, client: 127\.0\.0\.1, server: localhost, request: "DELETE \/t\/ok HTTP\/1\.1"/



=== TEST 9: limit_except HEAD does not bring GET; several methods, any case
--- config
    root $TEST_NGINX_HTML_DIR;
    location /h/ {
        limit_except HEAD {
            deny all;
        }
    }
    location /m/ {
        limit_except put delete {
            deny all;
        }
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/le.sock:/;
    }
--- http_config
    server {
        listen unix:$TEST_NGINX_SERVROOT/le.sock;
        location / {
            return 200 "backend $request_method\n";
        }
    }
--- user_files
>>> h/ok
ok
--- request eval
["HEAD /h/ok", "GET /h/ok", "PUT /m/x", "DELETE /m/x", "GET /m/x", "PATCH /m/x"]
--- error_code eval
[200, 403, 200, 200, 403, 403]
--- response_body_like eval
["", "403 Forbidden", "backend PUT", "backend DELETE", "403 Forbidden", "403 Forbidden"]



=== TEST 10: proxy_pass inside limit_except serves the other methods
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        limit_except GET {
            proxy_pass http://unix:$TEST_NGINX_SERVROOT/le.sock;
        }
    }
--- http_config
    server {
        listen unix:$TEST_NGINX_SERVROOT/le.sock;
        location / {
            return 200 "backend $request_method $uri\n";
        }
    }
--- user_files
>>> t/ok
static
--- request eval
["GET /t/ok", "POST /t/ok"]
--- response_body eval
["static\n", "backend POST /t/ok\n"]



=== TEST 11: the location's rewrite directives do not run for the methods of the block
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        limit_except GET {
            allow all;
        }
        return 200 "rewrite $request_method\n";
    }
--- user_files
>>> t/ok
ok
--- request eval
["GET /t/ok", "POST /t/ok"]
--- error_code eval
[200, 405]
--- response_body_like eval
["\\Arewrite GET\\n\\z", "405 Not Allowed"]



=== TEST 12: the block inherits the location's settings
--- config
    location /t/ {
        alias $TEST_NGINX_HTML_DIR/data/;
        limit_except GET {
            allow 127.0.0.1;
        }
    }
--- user_files
>>> data/ok
aliased
--- request eval
["GET /t/ok", "OPTIONS /t/ok"]
--- error_code eval
[200, 405]
--- response_body_like eval
["\\Aaliased\\n\\z", "405 Not Allowed"]



=== TEST 13: satisfy takes one of all or any
--- config
    location /t {
        satisfy some;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "some" in .*\.conf:\d+/



=== TEST 14: satisfy is duplicate
--- config
    location /t {
        satisfy any;
        satisfy all;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"satisfy" directive is duplicate in .*\.conf:\d+/



=== TEST 15: limit_except with an unknown method
--- config
    location /t {
        limit_except GET FETCH { deny all; }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid method "FETCH" in .*\.conf:\d+/



=== TEST 16: TRACE is no method limit_except knows
--- config
    location /t {
        limit_except TRACE { deny all; }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid method "TRACE" in .*\.conf:\d+/



=== TEST 17: limit_except is duplicate
--- config
    location /t {
        limit_except GET { deny all; }
        limit_except POST { deny all; }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"limit_except" directive is duplicate in .*\.conf:\d+/



=== TEST 18: limit_except needs a method
--- config
    location /t {
        limit_except { deny all; }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "limit_except" directive in .*\.conf:\d+/



=== TEST 19: limit_except is a block
--- config
    location /t {
        limit_except GET;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*directive "limit_except" has no opening "\{" in .*\.conf:\d+/



=== TEST 20: only access directives inside limit_except
--- config
    location /t {
        limit_except GET { root /tmp; }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"root" directive is not allowed here in .*\.conf:\d+/



=== TEST 21: satisfy is not for limit_except blocks
--- config
    location /t {
        limit_except GET { satisfy any; }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"satisfy" directive is not allowed here in .*\.conf:\d+/



=== TEST 22: limit_except only in a location
--- config
    limit_except GET { deny all; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"limit_except" directive is not allowed here in .*\.conf:\d+/



=== TEST 23: proxy_pass with a URI part inside limit_except
--- config
    location /t {
        limit_except GET { proxy_pass http://127.0.0.1:1/x; }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block in .*\.conf:\d+/
