# The upstream's X-Accel-* response headers: X-Accel-Redirect (an internal redirect to a
# URI, GET unless HEAD, the header's own args; or to a named location, method and args
# kept; only nginx's few upstream headers survive it; an unsafe URI is a 404),
# X-Accel-Limit-Rate ($limit_rate), X-Accel-Charset (the charset filter's target),
# X-Accel-Expires (nothing without a cache), all hidden from the client unless
# proxy_pass_header and each turned off by proxy_ignore_headers.  The upstream is a second
# server block of the same instance on $TEST_NGINX_PORT2.
#
#   prove -I t/lib t/314-proxy-accel.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/314-proxy-accel.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $port2 = env_port('TEST_NGINX_PORT2');

our $Backend = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location /ar {
            add_header X-Accel-Redirect $arg_to;
            add_header X-Accel-Limit-Rate $arg_lr;
            add_header X-Accel-Charset $arg_cs;
            add_header X-Accel-Expires $arg_xe;
            add_header Content-Type text/x-up;
            add_header Set-Cookie "a=1; Path=/x";
            add_header Cache-Control "max-age=5";
            add_header Content-Disposition attachment;
            add_header X-Other other;
            add_header Vary vv;
            add_header ETag '"up"';
            return 201 "upstream $request_method\n";
        }
        location /arq { add_header X-Accel-Redirect "/files/a.txt?q=2"; return 200 x; }
        location /unsafe { add_header X-Accel-Redirect "/files/../a.txt"; return 200 x; }
        location /html {
            default_type text/html;
            add_header X-Accel-Charset $arg_cs;
            return 200 "html\n";
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $Backend . ($block->http_config // ''));
});

log_level('info');
run_tests();

__DATA__

=== TEST 1: X-Accel-Redirect to a URI: the file served with GET, the client's args dropped, nginx's upstream headers kept
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar; }
    location /files/ {
        alias $TEST_NGINX_HTML_DIR/;
        add_header X-Method $request_method;
        add_header X-Args "[$args]";
    }
--- user_files
>>> a.txt
file-a
--- request
POST /p?to=/files/a.txt&x=1
body
--- response_headers
X-Method: GET
X-Args: []
Content-Type: text/x-up
Set-Cookie: a=1; Path=/x
Cache-Control: max-age=5
Content-Disposition: attachment
Content-Length: 7
!X-Other
!Vary
!X-Accel-Redirect
--- response_headers_like
ETag: "[0-9a-f]+-7"
--- response_body
file-a



=== TEST 2: X-Accel-Redirect with args: they are the request's after the redirect
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/arq; }
    location /files/ {
        alias $TEST_NGINX_HTML_DIR/;
        add_header X-Args "[$args]";
    }
--- user_files
>>> a.txt
file-a
--- request
GET /p?z=1
--- response_headers
X-Args: [q=2]
--- response_body
file-a



=== TEST 3: X-Accel-Redirect to a named location: method, URI and args kept
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar; }
    location @named { return 200 "named $request_method $uri $args\n"; }
--- request
PUT /p?to=@named&x=1
--- response_headers
Set-Cookie: a=1; Path=/x
!X-Other
--- response_body
named PUT /p to=@named&x=1



=== TEST 4: a HEAD stays a HEAD
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar; }
    location /files/ {
        alias $TEST_NGINX_HTML_DIR/;
        add_header X-Method $request_method;
    }
--- user_files
>>> a.txt
file-a
--- request
HEAD /p?to=/files/a.txt
--- response_headers
X-Method: HEAD
Content-Length: 7
--- response_body



=== TEST 5: an unsafe URI is a 404, logged
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/unsafe; }
--- request
GET /p
--- error_code: 404
--- error_log
unsafe URI "/files/../a.txt" was detected while reading response header from upstream
--- response_headers
!X-Accel-Redirect



=== TEST 6: proxy_ignore_headers X-Accel-Redirect: the upstream's response, the header still hidden
--- config
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar;
        proxy_ignore_headers X-Accel-Redirect;
    }
--- request
GET /p?to=/files/a.txt
--- error_code: 201
--- response_headers
X-Other: other
Vary: vv
!X-Accel-Redirect
--- response_body
upstream GET



=== TEST 7: proxy_pass_header shows it, and it still acts; proxy_ignore_headers inherited
--- config
    proxy_ignore_headers X-Accel-Redirect;
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar;
        proxy_pass_header X-Accel-Redirect;
    }
    location /q {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar;
        proxy_pass_header X-Accel-Redirect;
        proxy_ignore_headers Vary;
    }
    location @named { return 200 "named\n"; }
--- request eval
["GET /p?to=\@named", "GET /q?to=\@named"]
--- error_code eval
[201, 200]
--- response_headers eval
["X-Accel-Redirect: \@named", "!X-Accel-Redirect"]
--- response_body eval
["upstream GET\n", "named\n"]



=== TEST 8: X-Accel-Limit-Rate sets $limit_rate (a number; anything else is ignored), across the redirect too
--- config
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar;
        add_header X-LR $limit_rate;
    }
    location /i {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar;
        proxy_ignore_headers X-Accel-Limit-Rate;
        add_header X-LR $limit_rate;
    }
    location /files/ {
        alias $TEST_NGINX_HTML_DIR/;
        add_header X-LR $limit_rate;
    }
--- user_files
>>> a.txt
file-a
--- request eval
["GET /p?lr=100000", "GET /p?lr=1k", "GET /p?lr=100000&to=/files/a.txt", "GET /i?lr=100000"]
--- error_code eval
[201, 201, 200, 201]
--- response_headers eval
["X-LR: 100000\n!X-Accel-Limit-Rate", "X-LR: 0", "X-LR: 100000", "X-LR: 0"]



=== TEST 9: X-Accel-Charset: the charset the response is labelled with; unknown ones are logged
--- http_config
    charset_map koi8-r windows-1251 { }
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/html; }
    location /i {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/html;
        proxy_ignore_headers X-Accel-Charset;
    }
--- request eval
["GET /p?cs=koi8-r", "GET /p?cs=nosuch", "GET /i?cs=koi8-r"]
--- response_headers eval
["Content-Type: text/html; charset=koi8-r\n!X-Accel-Charset", "Content-Type: text/html", "Content-Type: text/html"]
--- error_log
unknown charset "nosuch" to override while reading response header from upstream



=== TEST 10: X-Accel-Expires: hidden, and without a cache it changes nothing
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar; }
--- request
GET /p?xe=60
--- error_code: 201
--- response_headers
!X-Accel-Expires
!Expires
Cache-Control: max-age=5



=== TEST 11: proxy_ignore_headers: an unknown value
--- config
    location /p { proxy_ignore_headers X-Accel-Redirect Foo; }
--- must_die
--- error_log eval
qr/invalid value "Foo" in \S+:\d+/



=== TEST 12: proxy_ignore_headers: a value named twice is accepted (a warning)
--- config
    location /p {
        proxy_ignore_headers Vary Vary;
        return 200 "ok\n";
    }
--- request
GET /p
--- response_body
ok



=== TEST 13: after the redirect, $upstream_* and the error log still tell of the upstream, as nginx
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ar; }
    location /files/ {
        alias $TEST_NGINX_HTML_DIR/;
        add_header X-UA "[$upstream_addr][$upstream_status][$upstream_http_x_accel_redirect]" always;
    }
--- user_files
>>> a.txt
file-a
--- request eval
["GET /p?to=/files/a.txt", "GET /p?to=/files/nope.txt"]
--- error_code eval
[200, 404]
--- response_headers_like eval
["X-UA: \\[127\\.0\\.0\\.1:\\d+\\]\\[201\\]\\[/files/a\\.txt\\]", "X-UA: \\[127\\.0\\.0\\.1:\\d+\\]\\[201\\]\\[/files/nope\\.txt\\]"]
--- error_log eval
qr/open\(\) "[^"]*nope\.txt" failed \(2: No such file or directory\), client: .*, upstream: "http:\/\/127\.0\.0\.1:\d+\/ar\?to=\/files\/nope\.txt"/
