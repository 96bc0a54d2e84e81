# Found by running the same configs on Debian's nginx 1.22 and moongate: the error log's
# "while ..." context after an upstream's answer. An internal redirect (an error_page URI for an
# intercepted error, an X-Accel-Redirect URI) clears it, as nginx's request handler does; a named
# location keeps it: "sending to client" once the upstream is finalized (an intercepted error),
# "reading response header from upstream" for an X-Accel-Redirect to a named location.
#
#   prove -I t/lib t/728-diff-log-action-redirect.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/728-diff-log-action-redirect.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: an intercepted error sent to an error_page URI: its lines have no context
--- config
    location /up { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b404; proxy_intercept_errors on; error_page 404 = /deny; }
    location /deny { deny all; }
    location /b404 { return 404; }
--- request
GET /up
--- error_code: 403
--- error_log
access forbidden by rule, client: 127.0.0.1
--- no_error_log
access forbidden by rule while



=== TEST 2: an intercepted error sent to a named location: "while sending to client"
--- config
    location /up { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b404; proxy_intercept_errors on; error_page 404 @deny; }
    location @deny { deny all; }
    location /b404 { return 404; }
--- request
GET /up
--- error_code: 403
--- error_log
access forbidden by rule while sending to client, client: 127.0.0.1



=== TEST 3: an X-Accel-Redirect to a URI: the redirect's lines have no context
--- config
    location /xa { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/bxa; }
    location /bxa { add_header X-Accel-Redirect /nonexistent; return 200; }
--- request
GET /xa
--- error_code: 404
--- error_log eval
qr/open\(\) "[^"]*nonexistent" failed \(2: No such file or directory\), client: 127\.0\.0\.1/



=== TEST 4: an X-Accel-Redirect to a named location keeps the upstream's context
--- config
    location /xa { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/bxa; }
    location /bxa { add_header X-Accel-Redirect @n; return 200; }
    location @n { deny all; }
--- request
GET /xa
--- error_code: 403
--- error_log
access forbidden by rule while reading response header from upstream, client: 127.0.0.1
