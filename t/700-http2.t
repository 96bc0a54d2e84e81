# HTTP/2 (nginx's ngx_http_v2_module, libnghttp2 underneath): cleartext h2 with prior knowledge
# on a plain address that keeps serving HTTP/1.1 (the preface decides), ALPN "h2" on TLS with
# the http/1.1 fallback, "listen ... http2" and "http2 on", $http2, $server_protocol, $request,
# the access log, http2_* directives and the limits a connection keeps (keepalive_requests ends
# it with GOAWAY, large_client_header_buffers bounds the header list). Clients: curl, h2load,
# python3-h2 (t/lib/h2util.py).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/700-http2.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
plan 'no_plan';
log_level('info');

# the test server's listen gets "http2" (nginx 1.22 has it) unless a block says no_h2_listen
add_known_sections('no_h2_listen');
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2')
        unless defined $block->no_h2_listen || defined $block->listen_options;
});

run_tests();

__DATA__

=== TEST 1: h2c with prior knowledge: $http2, $server_protocol, $request, the access log
--- http_config
    log_format h2 "H2LOG $request $status $body_bytes_sent $http2 $server_protocol";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log h2;
    location /t { return 200 "$http2 $server_protocol [$request] $request_method $uri $args $host\n"; }
--- h2_cmd
curl -s --http2-prior-knowledge "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t?a=1"; curl -s --http2-prior-knowledge -o /dev/null -w "%{http_version} %{http_code}\n" http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t
--- h2_out
h2c HTTP/2.0 [GET /t?a=1 HTTP/2.0] GET /t a=1 127.0.0.1
2 200
--- error_log eval
qr/H2LOG GET \/t\?a=1 HTTP\/2\.0 200 \d+ h2c HTTP\/2\.0/



=== TEST 2: the same address keeps serving HTTP/1.1 ($http2 empty)
--- config
    location /t { return 200 "[$http2] $server_protocol\n"; }
--- request
GET /t
--- response_body
[] HTTP/1.1
--- moongate_only: nginx 1.22's "listen ... http2" takes every plain connection for h2; nginx >= 1.25.1 lets the preface decide, as moongate



=== TEST 3: "http2 on" in the server (nginx >= 1.25.1) makes its plain address speak h2c too
--- no_h2_listen
--- config
    http2 on;
    location /t { return 200 "$http2 $server_protocol\n"; }
--- h2_cmd
curl -s --http2-prior-knowledge http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t; curl -s --http1.1 http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t
--- h2_out
h2c HTTP/2.0
 HTTP/1.1
--- moongate_only: nginx 1.22 has "listen ... http2" only



=== TEST 4: without http2 the preface is a bad HTTP/1 request line
--- no_h2_listen
--- config
    location /t { return 200 "no\n"; }
--- raw_request eval
"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request



=== TEST 5: TLS: ALPN chooses h2 ($http2 "h2", $scheme https); http/1.1 still negotiates
--- ssl
--- config
    location /t { return 200 "$http2 $server_protocol $scheme $https $ssl_protocol\n"; }
--- h2_cmd
curl -sk --http2 https://localhost:$TEST_NGINX_SERVER_PORT/t --resolve localhost:$TEST_NGINX_SERVER_PORT:127.0.0.1; curl -sk --http1.1 https://localhost:$TEST_NGINX_SERVER_PORT/t --resolve localhost:$TEST_NGINX_SERVER_PORT:127.0.0.1
--- h2_out_like
\Ah2 HTTP/2\.0 https on TLSv1\.[23]
 HTTP/1\.1 https on TLSv1\.[23]
\z



=== TEST 6: TLS with "http2 on": h2 over ALPN (nginx >= 1.25.1)
--- ssl
--- no_h2_listen
--- config
    http2 on;
    location /t { return 200 "$http2\n"; }
--- h2_cmd
curl -sk --http2 -o /dev/null -w "%{http_version} " https://127.0.0.1:$TEST_NGINX_SERVER_PORT/t; curl -sk --http2 https://127.0.0.1:$TEST_NGINX_SERVER_PORT/t
--- h2_out
2 h2
--- moongate_only: nginx 1.22 has "listen ... http2" only



=== TEST 7: TLS without http2: ALPN gives http/1.1
--- ssl
--- no_h2_listen
--- config
    location /t { return 200 "[$http2] $server_protocol\n"; }
--- h2_cmd
curl -sk --http2 https://127.0.0.1:$TEST_NGINX_SERVER_PORT/t
--- h2_out
[] HTTP/1.1



=== TEST 8: many streams on few connections (h2load): none fails
--- config
    keepalive_requests 100000;
    location /t { return 200 "0123456789\n"; }
--- h2_cmd
h2load -n 3000 -c 3 -m 20 http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t | grep -E "^(requests|status codes):"
--- h2_out
requests: 3000 total, 3000 started, 3000 done, 3000 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 3000 2xx, 0 3xx, 0 4xx, 0 5xx



=== TEST 9: keepalive_requests: a GOAWAY names the last stream allowed; it and those before finish, then the connection closes
--- config
    keepalive_requests 2;
    location /t { return 200 "ok $uri $connection_requests\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/t')
b = c.request('/t')
c.wait(a, b)
print(c.streams[a].status, c.streams[a].body, c.streams[b].status, c.streams[b].body)
print('goaway', c.goaway)
c.run(timeout=10)
print('closed', c.closed)
--- h2_out
200 b'ok /t 1\n' 200 b'ok /t 2\n'
goaway (3, 0)
closed True



=== TEST 10: http2_max_concurrent_streams and http2_body_preread_size go out in SETTINGS
--- no_h2_listen
--- config
    http2 on;
    http2_max_concurrent_streams 7;
    http2_body_preread_size 1000;
    location /t { return 200 "ok\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
s = c.request('/t')
c.wait(s)
rs = c.conn.remote_settings
print(rs.max_concurrent_streams, rs.initial_window_size, c.streams[s].body)
--- h2_out
7 1000 b'ok\n'
--- moongate_only: nginx 1.22 has "listen ... http2" only, and sends its preread size as the window after the first stream's



=== TEST 11: a header field larger than large_client_header_buffers ends the connection (GOAWAY ENHANCE_YOUR_CALM)
--- config
    large_client_header_buffers 4 1k;
    location /t { return 200 "ok\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/t', headers=[('x-big', 'a' * 2000)])
c.wait(a)
print(c.streams[a].status, c.goaway, c.closed)
--- h2_out
None (1, 11) True
--- error_log
client sent too large header field while processing HTTP/2 connection, client: 127.0.0.1, server: 127.0.0.1:



=== TEST 12: a request body, with and without a content-length (DATA frames only)
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("len=", ngx.var.content_length, " body=", ngx.req.get_body_data())
        }
    }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/t', method='POST', headers=[('content-length', '5')], body=b'hello')
b = c.request('/t', method='POST', body=b'world!')
c.wait(a, b)
print(c.streams[a].status, c.streams[a].body)
print(c.streams[b].status, c.streams[b].body)
--- h2_out
200 b'len=5 body=hello\n'
200 b'len=6 body=world!\n'



=== TEST 13: TLS: ALPN "http/1.0" (curl --http1.0 offers it alone) and "http/0.9" are HTTP/1 too, as in nginx's list
--- ssl
--- config
    location /t { return 200 "$server_protocol\n"; }
--- h2_cmd
curl -sk --http1.0 https://127.0.0.1:$TEST_NGINX_SERVER_PORT/t; printf "GET /t HTTP/1.0\r\n\r\n" | timeout 10 openssl s_client -connect 127.0.0.1:$TEST_NGINX_SERVER_PORT -alpn http/1.0 -ign_eof 2>&1 | grep -e "^ALPN protocol" -e "^HTTP/1.0"; printf "GET /t HTTP/1.0\r\n\r\n" | timeout 10 openssl s_client -connect 127.0.0.1:$TEST_NGINX_SERVER_PORT -alpn http/0.9 -ign_eof 2>&1 | grep -e "^ALPN protocol" -e "^HTTP/1.0"
--- h2_out
HTTP/1.0
ALPN protocol: http/1.0
HTTP/1.0
ALPN protocol: http/0.9
HTTP/1.0
