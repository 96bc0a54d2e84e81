# mirror, mirror_request_body (ngx_http_mirror_module): a background subrequest per mirror URI
# with the client's method, arguments and body (read first), its response dropped; "off",
# inheritance; try_files before mirror; mirror_request_body off; the client's response is not
# delayed by a slow mirror, but the request is logged and its connection goes on (a pipelined
# request waits) only once the mirrors ended, as in nginx.
#
# The mirrors go to a second server of the same instance, whose access log (into error.log)
# says what each mirror request was and carried; the main server logs its own requests there
# too, so the order of the lines shows what waited for what.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/193-mirror.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

plan 'no_plan';

backend(echo => 'echo');

our $Mirrors = <<'EOF';
    log_format mirror 'mirror-log $request_method $request_uri body=[$request_body]';
    log_format main 'main-log $request_method $request_uri';
    server {
        listen unix:$TEST_NGINX_SERVROOT/mirror.sock;
        location / {
            access_log $TEST_NGINX_SERVROOT/logs/error.log mirror;
            proxy_set_header X-Echo-Delay $arg_delay;
            proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
        }
    }
EOF

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', $Mirrors . ($b->http_config // ''));
});

run_tests();

__DATA__

=== TEST 1: a mirror of a static file: the client's arguments go to the mirror, not its body
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log main;
    location /t {
        mirror /m;
    }
    location = /m {
        internal;
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/mirror.sock:/mirror$uri$is_args$args;
    }
--- user_files
>>> t
static
--- request
GET /t?a=1
--- response_body
static
--- error_log
mirror-log GET /mirror/m?a=1 body=[-]
main-log GET /t?a=1



=== TEST 2: two mirrors of a POST both get its method and body; the main request too
--- config
    location /t {
        mirror /m1;
        mirror /m2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT/main;
    }
    location = /m1 { internal; proxy_pass http://unix:$TEST_NGINX_SERVROOT/mirror.sock:/one; }
    location = /m2 { internal; proxy_pass http://unix:$TEST_NGINX_SERVROOT/mirror.sock:/two; }
--- request
POST /t?x=1
hello
--- response_body_like: \APOST /main\?x=1 HTTP/1\.[01]\n.*\n\nhello\z
--- error_log
mirror-log POST /one?x=1 body=[hello]
mirror-log POST /two?x=1 body=[hello]



=== TEST 3: the body read for the mirrors goes upstream with proxy_request_buffering off too
--- config
    location /t {
        mirror /m;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT/main;
    }
    location = /m { internal; proxy_pass http://unix:$TEST_NGINX_SERVROOT/mirror.sock:/mirror; }
--- request
POST /t
hello there
--- response_body_like: \APOST /main HTTP/1\.[01]\n.*\n\nhello there\z
--- error_log
mirror-log POST /mirror body=[hello there]



=== TEST 4: mirror_request_body off: the mirror goes at once, without the body (nginx's config)
--- config
    location /t {
        mirror /m;
        mirror_request_body off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT/main;
    }
    location = /m {
        internal;
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/mirror.sock:/mirror;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }
--- request
POST /t
hello
--- response_body_like: \APOST /main HTTP/1\.[01]\n.*\n\nhello\z
--- error_log
mirror-log POST /mirror body=[-]



=== TEST 5: inherited; "off" in a nested location; try_files runs first
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log main;
    mirror /m;
    location /in/ {
        location /in/off/ { mirror off; }
    }
    location /tf {
        try_files /nothing @named;
    }
    location @named { mirror off; return 200 "named\n"; }
    location = /m {
        internal;
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/mirror.sock:/mirror$request_uri;
    }
--- user_files
>>> in/a
a
>>> in/off/b
b
--- request eval
["GET /in/a", "GET /in/off/b", "GET /tf"]
--- response_body eval
["a\n", "b\n", "named\n"]
--- error_log
mirror-log GET /mirror/in/a body=[-]
main-log GET /tf
--- no_error_log
mirror-log GET /mirror/in/off/b
mirror-log GET /mirror/tf



=== TEST 6: a slow mirror does not delay the response (read within 4 s of a 6 s mirror)
The mirror's end is awaited: a server stopped with it in flight waits for it (a graceful QUIT).
--- config
    location /t { mirror /m; }
    location = /m {
        internal;
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/mirror.sock:/mirror$is_args$args;
    }
--- user_files
>>> t
fast
--- request
GET /t?delay=6
--- more_headers
Connection: keep-alive
--- timeout: 4
--- response_body
fast
--- error_log
mirror-log GET /mirror?delay=6 body=[-]
--- log_wait: 15



=== TEST 7: the request is logged, and the next one on its connection read, after the mirror
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log main;
    location /t { mirror /m; }
    location /after { }
    location = /m {
        internal;
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/mirror.sock:/mirror$is_args$args;
    }
--- user_files
>>> t
t
>>> after
after
--- pipelined_requests eval
["GET /t?delay=1", "GET /after"]
--- response_body eval
["t\n", "after\n"]
--- error_log
main-log GET /after
--- grep_error_log eval
qr/(?:mirror|main)-log GET \S+/
--- grep_error_log_out
mirror-log GET /mirror?delay=1
main-log GET /t?delay=1
main-log GET /after



=== TEST 8: a mirror that answers an error or cannot connect changes nothing for the client
--- config
    location /t { mirror /m1; mirror /m2; }
    location = /m1 { internal; return 500; }
    location = /m2 { internal; proxy_pass http://unix:$TEST_NGINX_SERVROOT/no-such.sock; }
--- user_files
>>> t
ok
--- request eval
["GET /t", "GET /t"]
--- response_body eval
["ok\n", "ok\n"]



=== TEST 9: "mirror off" after a URI, and the other way round
--- config
    location /t { mirror /m; mirror off; }
--- must_die
--- error_log eval
qr/"mirror" directive is duplicate in \S+:\d+/



=== TEST 10: mirror_request_body takes on or off
--- config
    location /t { mirror_request_body maybe; }
--- must_die
--- error_log eval
qr/invalid value "maybe" in "mirror_request_body" directive, it must be "on" or "off" in \S+:\d+/
