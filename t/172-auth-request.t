# auth_request, auth_request_set (ngx_http_auth_request_module): a subrequest decides (2xx
# allows, 401/403 deny with that status and a 401 passes the subrequest's WWW-Authenticate on,
# anything else is a 500 with nginx's line), the subrequest is a GET without the client's body
# and skips the access phase, auth_request_set takes the subrequest's variables ($upstream_http_*
# from a proxied check, $upstream_status) whatever the outcome, "off", and the configuration
# errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/172-auth-request.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# the checking server: the status is the request's X-Want header, with headers to pass back
our $Checker = <<'EOF';
    server {
        listen unix:$TEST_NGINX_SERVROOT/auth.sock;
        location /check {
            add_header X-User "user-of-$http_x_original_uri" always;
            add_header X-Method $request_method always;
            add_header X-Length "[$http_content_length]" always;
            add_header WWW-Authenticate "Bearer realm=\"api\"" always;
            if ($http_x_want = 200) { return 200 "yes"; }
            if ($http_x_want = 204) { return 204; }
            if ($http_x_want = 401) { return 401; }
            if ($http_x_want = 403) { return 403; }
            if ($http_x_want = 404) { return 404; }
            if ($http_x_want = 302) { return 302 /elsewhere; }
            return 500;
        }
    }
EOF

add_block_preprocessor(sub {
    my $b = shift;
    if ($b->name =~ /\bproxied\b/) {
        $b->set_value('http_config', $Checker . ($b->http_config // ''));
    }
});

run_tests();

__DATA__

=== TEST 1: proxied: 2xx allows, 401 and 403 deny, anything else is a 500
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_request /auth;
    }
    location = /auth {
        internal;
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/auth.sock:/check;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Original-URI $request_uri;
    }
--- user_files
>>> t/ok
ok
--- request eval
[("GET /t/ok") x 7]
--- more_headers eval
["X-Want: 200", "X-Want: 204", "X-Want: 401", "X-Want: 403", "X-Want: 404", "X-Want: 302",
 "X-Want: 500"]
--- error_code eval
[200, 200, 401, 403, 500, 500, 500]
--- response_body_like eval
["\\Aok\\n\\z", "\\Aok\\n\\z", "401 Authorization Required", "403 Forbidden", "500 Internal",
 "500 Internal", "500 Internal"]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", "WWW-Authenticate: Bearer realm=\"api\"",
 "!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate"]
--- error_log eval
[qr/\[error\] .*auth request unexpected status: 404/, qr/\[error\] .*auth request unexpected status: 302/,
 qr/\[error\] .*auth request unexpected status: 500/]



=== TEST 2: proxied: auth_request_set takes the subrequest's variables ($upstream_*, $sent_http_*), whatever the outcome
--- config
    location /t/ {
        auth_request /auth;
        auth_request_set $user $upstream_http_x_user;
        auth_request_set $st "status $upstream_status";
        auth_request_set $sent $sent_http_x_user;
        add_header X-User $user always;
        add_header X-Sent $sent always;
        add_header X-St $st always;
        try_files /nonexistent /echo;
    }
    location = /echo {
        return 200 "[$user] [$st] [$sent]\n";
    }
    location = /auth {
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/auth.sock:/check;
        proxy_set_header X-Original-URI $request_uri;
    }
--- request eval
["GET /t/a", "GET /t/b"]
--- more_headers eval
["X-Want: 200", "X-Want: 403"]
--- error_code eval
[200, 403]
--- response_body_like eval
["\\A\\[user-of-/t/a\\] \\[status 200\\] \\[user-of-/t/a\\]\\n\\z", "403 Forbidden"]
--- response_headers eval
["!X-User", "X-User: user-of-/t/b\nX-St: status 403\nX-Sent: user-of-/t/b"]



=== TEST 3: proxied: the subrequest is a GET without the client's body
--- config
    location /t/ {
        auth_request /auth;
        auth_request_set $method $upstream_http_x_method;
        auth_request_set $length $upstream_http_x_length;
        try_files /nonexistent /echo;
    }
    location = /echo {
        return 200 "$request_method: check saw $method $length\n";
    }
    location = /auth {
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/auth.sock:/check;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }
--- request eval
["POST /t/x\nsome body", "HEAD /t/x"]
--- more_headers
X-Want: 200
--- response_body eval
["POST: check saw GET []\n", ""]



=== TEST 4: a local check: its status decides
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_request /auth;
    }
    location = /auth {
        if ($http_x_want = 200) { return 200; }
        if ($http_x_want = 206) { return 206; }
        if ($http_x_want = 401) { return 401; }
        if ($http_x_want = 403) { return 403; }
        return 404;
    }
--- user_files
>>> t/ok
ok
--- request eval
[("GET /t/ok") x 5]
--- more_headers eval
["X-Want: 200", "X-Want: 206", "X-Want: 401", "X-Want: 403", "X-Want: 404"]
--- error_code eval
[200, 200, 401, 403, 500]
--- error_log eval
qr/\[error\] .*auth request unexpected status: 404, client: 127\.0\.0\.1, server: localhost, request: "GET \/t\/ok HTTP\/1\.1"/



=== TEST 5: a check served by a missing file is a 404, so a 500
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_request /no-such-check;
    }
--- user_files
>>> t/ok
ok
--- request
GET /t/ok
--- error_code: 500
--- error_log eval
[qr/open\(\) ".*\/no-such-check" failed \(2: No such file or directory\)/,
 qr/\[error\] .*auth request unexpected status: 404/]



=== TEST 6: the subrequest skips the access phase of its location
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_request /auth;
    }
    location = /auth {
        deny all;
        try_files /nonexistent /auth-ok;
    }
    location = /auth-ok {
        return 204;
    }
--- user_files
>>> t/ok
ok
--- request
GET /t/ok
--- response_body
ok
--- no_error_log
access forbidden by rule



=== TEST 7: auth_request is inherited; "off" turns it off below
--- config
    root $TEST_NGINX_HTML_DIR;
    auth_request /auth;
    location /t/ {
        location /t/open/ {
            auth_request off;
        }
    }
    location = /auth {
        return 403;
    }
--- user_files
>>> t/ok
ok
>>> t/open/ok
open
--- request eval
["GET /t/ok", "GET /t/open/ok"]
--- error_code eval
[403, 200]



=== TEST 8: an auth_request_set variable is not found until the check ran
--- config
    location /t {
        auth_request_set $who $uri;
        return 200 "[$who]\n";
    }
--- request
GET /t
--- response_body
[]



=== TEST 9: auth_request is duplicate
--- config
    location /t {
        auth_request /a;
        auth_request /b;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_request" directive is duplicate in .*\.conf:\d+/



=== TEST 10: auth_request_set needs a variable
--- config
    location /t {
        auth_request_set x $uri;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid variable name "x" in .*\.conf:\d+/



=== TEST 11: auth_request_set cannot write a built-in variable
--- config
    location /t {
        auth_request_set $uri x;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*the duplicate "uri" variable in .*\.conf:\d+/



=== TEST 12: auth_request_set takes two arguments
--- config
    location /t {
        auth_request_set $x;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "auth_request_set" directive in .*\.conf:\d+/



=== TEST 13: not inside limit_except
--- config
    location /t {
        limit_except GET {
            auth_request /a;
        }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_request" directive is not allowed here in .*\.conf:\d+/
