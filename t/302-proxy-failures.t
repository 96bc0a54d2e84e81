# Proxy failures: refused, connect and read timeouts, invalid and too big
# response heads, bodies the upstream breaks off, resets; proxy_next_upstream
# (error timeout invalid_header http_502 http_404 non_idempotent off),
# proxy_next_upstream_tries, max_fails/fail_timeout, backup, down, and
# "no live upstreams".  The status codes and error-log lines are nginx's.
#
#   prove -I t/lib t/302-proxy-failures.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/302-proxy-failures.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a       => 'echo');
backend(b       => 'echo');
backend(gone    => 'refused');
backend(gone2   => 'refused');
backend(hole    => 'blackhole');
backend(slow    => 'echo', delay => 3);
backend(garbage => 'invalid', what => 'status_line');
backend(nocolon => 'invalid', what => 'no_colon');
backend(huge    => 'invalid', what => 'huge');
backend(trunc   => 'truncate');
backend(truncch => 'truncate', mode => 'chunked');
backend(reset   => 'reset');
backend(e502    => 'echo', status => 502, body => "backend 502\n");
backend(e404    => 'echo', status => 404, body => "backend 404\n");

log_level('info');

run_tests();

__DATA__

=== TEST 1: connection refused: 502 and nginx's error-log line
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_GONE_PORT; }
--- request
GET /t?x=1
--- error_code: 502
--- response_body_like: <title>502 Bad Gateway</title>
--- error_log eval
qr{\[error\] \d+#\d+: \*\d+ connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /t\?x=1 HTTP/1\.1", upstream: "http://127\.0\.0\.1:$Test::MoongateBackend::Port{gone}/t\?x=1", host: "localhost"$}



=== TEST 2: proxy_connect_timeout: 504 and "upstream timed out ... while connecting to upstream"
--- config
    location /t {
        proxy_connect_timeout 300ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HOLE_PORT;
    }
--- request
GET /t
--- error_code: 504
--- response_body_like: <title>504 Gateway Time-out</title>
--- error_log eval
qr{\[error\] \d+#\d+: \*\d+ upstream timed out \(110: Connection timed out\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", upstream: "http://127\.0\.0\.1:$Test::MoongateBackend::Port{hole}/t", host: "localhost"$}



=== TEST 3: proxy_read_timeout before the head: 504 "while reading response header from upstream"
--- config
    location /t {
        proxy_read_timeout 300ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
--- request
GET /t
--- error_code: 504
--- error_log eval
qr{\[error\] \d+#\d+: \*\d+ upstream timed out \(110: Connection timed out\) while reading response header from upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", upstream: "http://127\.0\.0\.1:$Test::MoongateBackend::Port{slow}/t", host: "localhost"$}



=== TEST 4: proxy_read_timeout in the body: the client gets a broken response, "while reading upstream"
--- config
    location /t {
        proxy_read_timeout 1500ms;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- more_headers
X-Echo-Size: 100
X-Echo-Truncate: 20
X-Echo-Hold: 6
--- response_incomplete
--- response_headers
Content-Length: 100
--- response_body eval
Test::MoongateBackend::pattern(20)
--- error_log
upstream timed out (110: Connection timed out) while reading upstream, client: 127.0.0.1



=== TEST 5: a garbage status line: nginx takes it for an HTTP/0.9 response and passes the bytes on
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_GARBAGE_PORT; }
--- init
my $s = client_connect();
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
Test::More::is(scalar client_read($s, qr/bad/, 2), "garbage\r\nContent-Length: 3\r\n\r\nbad",
               "TEST 5: the upstream's bytes, as they came");
--- request
GET /t
--- ignore_response
--- error_log
upstream sent no valid HTTP/1.0 header while reading response header from upstream, client: 127.0.0.1



=== TEST 6: a header line without a colon: 502 "upstream sent invalid header"
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_NOCOLON_PORT; }
--- request
GET /t
--- error_code: 502
--- response_body_unlike: bad
--- error_log
upstream sent invalid header
while reading response header from upstream, client: 127.0.0.1



=== TEST 7: a 64 KB header line: 502 "upstream sent too big header"
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_HUGE_PORT; }
--- request
GET /t
--- error_code: 502
--- error_log
upstream sent too big header while reading response header from upstream, client: 127.0.0.1



=== TEST 8: Content-Length 1000, 10 bytes, close: the client sees a broken response
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_TRUNC_PORT; }
--- request
GET /t
--- response_incomplete
--- response_headers
Content-Length: 1000
--- response_body: 0123456789
--- error_log
upstream prematurely closed connection while reading upstream, client: 127.0.0.1



=== TEST 9: a chunked body without the last chunk: no last chunk to the client either
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_TRUNCCH_PORT; proxy_http_version 1.1; }
--- request
GET /t
--- response_incomplete
--- response_headers
Transfer-Encoding: chunked
--- response_body: 0123456789abcde
--- error_log
upstream prematurely closed connection while reading upstream, client: 127.0.0.1



=== TEST 10: the same, unbuffered
--- config
    location /t {
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_TRUNCCH_PORT;
    }
--- request
GET /t
--- response_incomplete
--- response_headers
Transfer-Encoding: chunked
--- response_body: 0123456789abcde
--- error_log eval
qr/upstream prematurely closed connection while (?:reading upstream|sending to client), client: 127\.0\.0\.1/



=== TEST 11: a reset before the head: 502 "recv() failed (104: Connection reset by peer)"
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_RESET_PORT; }
--- request
GET /t
--- error_code: 502
--- error_log
recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1



=== TEST 12: proxy_next_upstream default (error timeout): a refused peer, then the next
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- request
GET /t
--- response_headers
X-Backend: a
--- response_body_like: ^GET /t HTTP/1\.0\n
--- error_log eval
qr{connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", upstream: "http://127\.0\.0\.1:$Test::MoongateBackend::Port{gone}/t", host: "localhost"$}



=== TEST 13: proxy_next_upstream default: a read timeout, then the next
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_SLOW_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_read_timeout 300ms; proxy_pass http://u; }
--- request
GET /t
--- response_headers
X-Backend: a
--- error_log
upstream timed out (110: Connection timed out) while reading response header from upstream



=== TEST 14: proxy_next_upstream off: the first failure is final
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_next_upstream off; proxy_pass http://u; }
--- request
GET /t
--- error_code: 502
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 15: a 502 from the upstream is passed on unless proxy_next_upstream http_502
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_E502_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
    location /n { proxy_next_upstream error timeout http_502; proxy_pass http://u; }
--- request eval
["GET /t", "GET /n"]
--- error_code eval
[502, 200]
--- response_headers eval
["X-Backend: e502", "X-Backend: a"]
--- response_body_like eval
["^backend 502\n\\z", "^GET /n HTTP/1.0"]



=== TEST 16: proxy_next_upstream http_404
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_E404_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
    location /n { proxy_next_upstream http_404; proxy_pass http://u; }
--- request eval
["GET /t", "GET /n"]
--- error_code eval
[404, 200]
--- response_headers eval
["X-Backend: e404", "X-Backend: a"]



=== TEST 17: when every peer answers http_404, the last answer is the client's
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_E404_PORT;
        server 127.0.0.1:$TEST_NGINX_E404_PORT;
    }
--- config
    location /t { proxy_next_upstream http_404; proxy_pass http://u; }
--- request
GET /t
--- error_code: 404
--- response_body
backend 404



=== TEST 18: proxy_next_upstream invalid_header
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_NOCOLON_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
    location /n { proxy_next_upstream error invalid_header; proxy_pass http://u; }
--- request eval
["GET /t", "GET /n"]
--- error_code eval
[502, 200]
--- error_log
upstream sent invalid header



=== TEST 19: proxy_next_upstream_tries 2 of three peers: two refusals, 502
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_GONE2_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_next_upstream_tries 2; proxy_pass http://u; }
--- request
GET /t
--- error_code: 502
--- grep_error_log eval
qr/connect\(\) failed \(111: Connection refused\)/
--- grep_error_log_out
connect() failed (111: Connection refused)
connect() failed (111: Connection refused)



=== TEST 20: proxy_next_upstream_tries 3 of three peers: the third answers
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_GONE2_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_next_upstream_tries 3; proxy_pass http://u; }
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 21: a POST sent to a peer that resets is not retried without non_idempotent
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_RESET_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
    location /n { proxy_next_upstream error timeout non_idempotent; proxy_pass http://u; }
--- request eval
["POST /t\nabc", "POST /n\nabc", "GET /t"]
--- error_code eval
[502, 200, 200]
--- response_body_like eval
["502 Bad Gateway", "^POST /n HTTP/1.0\n(?s:.*)\n\nabc\\z", "^GET /t HTTP/1.0\n"]
--- error_log
recv() failed (104: Connection reset by peer) while reading response header from upstream



=== TEST 22: a POST to a refused peer was never sent, so it goes to the next one
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- request
POST /t
hello
--- response_body_like: ^POST /t HTTP/1.0\n(?s:.*)\n\nhello\z



=== TEST 23: max_fails=1: after one failure the peer is left alone for fail_timeout
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- response_headers eval
[("X-Backend: a") x 6]
--- grep_error_log eval
qr/connect\(\) failed \(111: Connection refused\)/
--- grep_error_log_out
connect() failed (111: Connection refused)



=== TEST 24: max_fails=0: the peer is never marked down and is tried in its turn
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT max_fails=0;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- response_headers eval
[("X-Backend: a") x 4]
--- grep_error_log eval
qr/connect\(\) failed \(111: Connection refused\)/
--- grep_error_log_out
connect() failed (111: Connection refused)
connect() failed (111: Connection refused)



=== TEST 25: every peer down: 502, then "no live upstreams"
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$TEST_NGINX_GONE2_PORT max_fails=1 fail_timeout=30s;
    }
--- config
    location /t { proxy_pass http://u; }
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[502, 502]
--- error_log eval
[qr{\[error\] \d+#\d+: \*\d+ no live upstreams while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", upstream: "http://u/t", host: "localhost"$},
 "connect() failed (111: Connection refused) while connecting to upstream"]



=== TEST 26: a server marked down is never tried
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT down;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_headers eval
[("X-Backend: a") x 3]
--- no_error_log
connect() failed



=== TEST 27: backup: used only when the primaries fail
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT backup;
    }
    upstream v {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT backup;
    }
--- config
    location /u { proxy_pass http://u; }
    location /v { proxy_pass http://v; }
--- request eval
["GET /u", "GET /u", "GET /u", "GET /v", "GET /v"]
--- response_headers eval
["X-Backend: a", "X-Backend: a", "X-Backend: a", "X-Backend: b", "X-Backend: b"]



=== TEST 28: a single-server upstream is never marked down
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT max_fails=1 fail_timeout=30s;
    }
--- config
    location /t { proxy_pass http://u; }
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[502, 502]
--- grep_error_log eval
qr/connect\(\) failed \(111: Connection refused\)|no live upstreams/
--- grep_error_log_out
connect() failed (111: Connection refused)
connect() failed (111: Connection refused)
