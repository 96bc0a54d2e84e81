# The reverse proxy's core path: proxy_pass forms and nginx's URI rules
# (prefix locations with and without a URI part, after rewrite, variables),
# the request sent upstream (Host, Connection, proxy_set_header and its
# inheritance, X-Forwarded-For, hop-by-hop headers, request bodies), the
# response (hidden and hop-by-hop headers, proxy_redirect, chunked,
# close-delimited and large bodies streamed), 502 on a refused port with
# nginx's log line, and the $upstream_* variables.  The upstream is a second
# server block of the same instance (on $TEST_NGINX_PORT2) or an echo backend.
# Misbehaving upstreams are t/302-proxy-failures.t.
#
#   prove -I t/lib t/300-proxy-basic.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/300-proxy-basic.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

our $port2 = env_port('TEST_NGINX_PORT2');

backend(echo  => 'echo');
backend(chunk => 'echo', mode => 'chunked', size => 300000);
backend(close => 'echo', mode => 'close', size => 300000);
backend(gone  => 'refused');

our $Big = 'x' x 1048576;

# the backend: a second server of the same instance, echoing what it got
our $Backend = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        server_name backend;
        location / {
            return 200 "uri=$request_uri host=$http_host conn=$http_connection xff=$http_x_forwarded_for ka=$http_keep_alive te=$http_te up=$http_upgrade x=$http_x_a\n";
        }
        location /redir { return 302 http://127.0.0.1:$TEST_NGINX_PORT2/q/there; }
        location /hdrs {
            add_header Upgrade websocket;
            add_header X-Accel-Buffering no;
            add_header X-Pad pad;
            add_header X-Other other;
            add_header Keep-Alive timeout=5;
            return 200 "hdrs\n";
        }
        location /missing { return 404; }
        location /big { root $TEST_NGINX_HTML_DIR; }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $Backend . ($block->http_config // ''));
});

log_level('info');
run_tests();

__DATA__

=== TEST 1: proxy_pass without a URI part sends the request target as the client sent it
--- config
    location /n/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- request
GET /n/a%20b/../c?x=1&y
--- response_body eval
"uri=/n/a%20b/../c?x=1&y host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=\n"
--- no_error_log
[error]



=== TEST 2: a URI part replaces the location's prefix (the rest is escaped again)
--- config
    location /p/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/q/; }
--- request
GET /p/a%20b/./c?x=1
--- response_body eval
"uri=/q/a%20b/c?x=1 host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=\n"



=== TEST 3: "/" as the URI part
--- config
    location /p/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/; }
--- request
GET /p/deep/er
--- response_body eval
"uri=/deep/er host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=\n"



=== TEST 4: a prefix location without a trailing slash: the rest is glued on
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/q; }
--- request
GET /pxy
--- response_body eval
"uri=/qxy host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=\n"



=== TEST 5: after "rewrite ... break" the changed URI is sent (no URI part)
--- config
    location /r/ {
        rewrite ^/r/(.*)$ /new/$1 break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
    }
--- request
GET /r/x?a=1
--- response_body eval
"uri=/new/x?a=1 host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=\n"



=== TEST 6: a regex location may not have a URI part
--- config
    location ~ ^/re { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/q/; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"proxy_pass" cannot have URI part in location given by regular expression, or inside named location, or inside "if" statement, or inside "limit_except" block in /



=== TEST 7: a regex location without a URI part passes the request target
--- config
    location ~ ^/re { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- request
GET /re/x?k=v
--- response_body eval
"uri=/re/x?k=v host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=\n"



=== TEST 8: proxy_pass with variables: the URL is used as is, args included
--- config
    location /v/ {
        set $up 127.0.0.1:$TEST_NGINX_PORT2;
        proxy_pass http://$up/fixed?$args;
    }
--- request
GET /v/ignored?a=b
--- response_body eval
"uri=/fixed?a=b host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=\n"



=== TEST 9: proxy_pass with variables and no URI part: the request target
--- config
    location /v/ {
        set $up 127.0.0.1:$TEST_NGINX_PORT2;
        proxy_pass http://$up;
    }
--- request
GET /v/x%41?q
--- response_body eval
"uri=/v/x%41?q host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=\n"



=== TEST 10: an upstream{} name: Host is the group's name
--- http_config
    upstream backend_group { server 127.0.0.1:$TEST_NGINX_PORT2; }
--- config
    location /u/ { proxy_pass http://backend_group/q/; }
--- request
GET /u/z
--- response_body
uri=/q/z host=backend_group conn=close xff= ka= te= up= x=



=== TEST 11: proxy_set_header, $proxy_add_x_forwarded_for, $proxy_host, an empty value removes
--- config
    location /s/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_set_header Host "h-$proxy_host-$proxy_port";
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-A "";
    }
--- request
GET /s/
--- more_headers
X-Forwarded-For: 10.0.0.1
X-A: dropped
--- response_body eval
"uri=/s/ host=h-127.0.0.1:$ENV{TEST_NGINX_PORT2}-$ENV{TEST_NGINX_PORT2} conn=close xff=10.0.0.1, 127.0.0.1 ka= te= up= x=\n"



=== TEST 12: a level with its own proxy_set_header drops the parent's
--- config
    proxy_set_header X-A from-server;
    location /i1/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
    location /i2/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_set_header X-Forwarded-For own;
    }
--- request eval
["GET /i1/", "GET /i2/"]
--- response_body eval
["uri=/i1/ host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=from-server\n",
 "uri=/i2/ host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff=own ka= te= up= x=\n"]



=== TEST 13: hop-by-hop request headers are not passed on
--- config
    location /h/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- request
GET /h/
--- more_headers
Keep-Alive: timeout=5
TE: trailers
Upgrade: websocket
X-A: kept
--- response_body eval
"uri=/h/ host=127.0.0.1:$ENV{TEST_NGINX_PORT2} conn=close xff= ka= te= up= x=kept\n"



=== TEST 14: response: Keep-Alive and X-Accel-*/X-Pad headers hidden, the others passed (Upgrade too, as nginx)
--- config
    location /hdrs { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- request
GET /hdrs
--- response_headers
X-Other: other
Upgrade: websocket
X-Accel-Buffering:
X-Pad:
Keep-Alive:
Content-Length: 5
--- response_body
hdrs



=== TEST 15: proxy_hide_header and proxy_pass_header
--- config
    location /hdrs {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_hide_header X-Other;
        proxy_pass_header X-Pad;
    }
--- request
GET /hdrs
--- response_headers
X-Other:
X-Pad: pad



=== TEST 16: proxy_redirect default maps the upstream's URL back to the location
--- config
    location /p/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/; }
--- request
GET /p/redir
--- error_code: 302
--- response_headers eval
"Location: http://localhost:$ENV{TEST_NGINX_SERVER_PORT}/p/q/there"



=== TEST 17: proxy_redirect off, and an explicit replacement
--- config
    location /o/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/; proxy_redirect off; }
    location /e/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
        proxy_redirect http://127.0.0.1:$TEST_NGINX_PORT2/q/ http://example.com/z/;
    }
--- request eval
["GET /o/redir", "GET /e/redir"]
--- error_code eval
[302, 302]
--- response_headers eval
["Location: http://127.0.0.1:$ENV{TEST_NGINX_PORT2}/q/there",
 "Location: http://example.com/z/there"]



=== TEST 18: an upstream error status is passed through; proxy_intercept_errors uses error_page
--- config
    location /m/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/missing; }
    location /i/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/missing;
        proxy_intercept_errors on;
        error_page 404 = @nf;
    }
    location @nf { return 200 "intercepted\n"; }
--- request eval
["GET /m/", "GET /i/"]
--- error_code eval
[404, 200]
--- response_body_like eval
[qr/404 Not Found/, qr/^intercepted$/]



=== TEST 19: a refused port: 502 and nginx's log line with the upstream
--- config
    location /bad/ { proxy_pass http://127.0.0.1:$TEST_NGINX_GONE_PORT; }
--- request
GET /bad/x?y=1
--- error_code: 502
--- error_log eval
qr/\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/bad\/x\?y=1 HTTP\/1\.1", upstream: "http:\/\/127\.0\.0\.1:$ENV{TEST_NGINX_GONE_PORT}\/bad\/x\?y=1", host: "localhost"/



=== TEST 20: $upstream_addr, $upstream_status and the times
--- config
    location /var/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        add_header X-Up "$upstream_addr $upstream_status";
        add_header X-Times "$upstream_connect_time $upstream_header_time $upstream_response_time";
        add_header X-Hdr "$upstream_http_content_type";
    }
--- request
GET /var/
--- response_headers eval
"X-Up: 127.0.0.1:$ENV{TEST_NGINX_PORT2} 200\nX-Hdr: text/plain"
--- response_headers_like
X-Times: ^\d+\.\d{3} \d+\.\d{3} -$



=== TEST 21: a failed try shows in $upstream_status
--- config
    location /bad/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_GONE_PORT;
        add_header X-Up "up=$upstream_addr st=$upstream_status" always;
    }
--- request
GET /bad/
--- error_code: 502
--- response_headers eval
"X-Up: up=127.0.0.1:$ENV{TEST_NGINX_GONE_PORT} st=502"



=== TEST 22: a request body with Content-Length is passed with its length
--- config
    location /b/ { proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT; }
--- request
POST /b/x
hello body
--- response_body_like: ^POST /b/x HTTP/1.0\n(?:[^\n]+\n)*Content-Length: 10\n(?:[^\n]+\n)*\nhello body$



=== TEST 23: a chunked request body is read, then sent with a Content-Length
--- config
    location /b/ { proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT; }
--- raw_request eval
"POST /b/c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
--- response_body_like: ^POST /b/c HTTP/1.0\n(?:[^\n]+\n)*Content-Length: 11\n(?:[^\n]+\n)*\nhello world$
--- response_headers
X-Request-Framing: length



=== TEST 24: a chunked upstream body is decoded and re-chunked to the client
--- config
    location /c/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_CHUNK_PORT;
        proxy_http_version 1.1;
        add_header X-TE $upstream_http_transfer_encoding;
    }
--- request
GET /c/
--- response_headers
Transfer-Encoding: chunked
X-TE: chunked
--- response_body eval
Test::MoongateBackend::pattern(300000)



=== TEST 25: a close-delimited upstream body is streamed to the end
--- config
    location /c/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CLOSE_PORT; }
--- request
GET /c/
--- response_body eval
Test::MoongateBackend::pattern(300000)



=== TEST 26: a large body with a length, through small proxy_buffers
--- init
Test::Moongate::spew("$ENV{TEST_NGINX_HTML_DIR}/big.txt", $main::Big);
--- config
    location /big {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_buffers 4 4k;
    }
--- request
GET /big.txt
--- response_headers
Content-Length: 1048576
--- response_body eval
$main::Big



=== TEST 27: proxy_buffering off streams as well
--- init
Test::Moongate::spew("$ENV{TEST_NGINX_HTML_DIR}/big.txt", $main::Big);
--- config
    location /big {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_buffering off;
    }
--- request
GET /big.txt
--- response_body eval
$main::Big



=== TEST 28: HEAD: the upstream's length, no body
--- config
    location /hdrs { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- request
HEAD /hdrs
--- response_headers
Content-Length: 5
--- response_body



=== TEST 29: proxy_pass_request_headers off and proxy_pass_request_body off
--- config
    location /b/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
        proxy_pass_request_headers off;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
    }
--- request
POST /b/y
data
--- more_headers
X-A: gone
--- response_body_unlike: X-A|data



=== TEST 30: proxy_pass with variables naming an upstream{} block
--- http_config
    upstream backend_group { server 127.0.0.1:$TEST_NGINX_PORT2; }
--- config
    location /v/ {
        set $grp backend_group;
        proxy_pass http://$grp;
    }
--- request
GET /v/g
--- response_body
uri=/v/g host=backend_group conn=close xff= ka= te= up= x=



=== TEST 31: a request body arriving in pieces; the head sent upstream is intact
--- config
    location /b/ { proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT; }
--- raw_request eval
["POST /b/p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-A: intact\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
 "6\r\n world\r\n0\r\n\r\n"]
--- raw_request_middle_delay: 0.2
--- response_body_like: ^POST /b/p HTTP/1.0\nHost: 127\.0\.0\.1:\d+\nConnection: close\nContent-Length: 11\nX-A: intact\n\nhello world$
