# proxy_next_upstream and the failures that lead there, as Debian's nginx 1.22 does them: which
# codes and errors move on to the next server, what $upstream_status, $upstream_addr,
# $upstream_response_length ($upstream_bytes_received) list per try (a response not passed
# on, retried or replaced by an error page or X-Accel-Redirect, counts no body bytes), the
# error log's order (a timeout's "upstream server temporarily disabled" comes before its
# "upstream timed out"), tries, timeouts, backup servers, max_fails and "no live upstreams",
# and the keepalive cache after a response that cannot leave its connection reusable.
#
#   prove -I t/lib t/975-diff-proxy-next-upstream.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/975-diff-proxy-next-upstream.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

my %reason = (500 => 'Internal Server Error', 502 => 'Bad Gateway', 503 => 'Service Unavailable',
              504 => 'Gateway Timeout', 403 => 'Forbidden', 404 => 'Not Found',
              429 => 'Too Many Requests');
for my $code (sort keys %reason) {
    backend("s$code" => 'script', read => 1,
            script => ["HTTP/1.1 $code $reason{$code}\r\nContent-Length: 4\r\n\r\nbad\n"]);
}
backend(good => 'script', read => 1, script => ["HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"]);
backend($_ => 'script', read => 1, script => []) for qw(closed closed2 dead1 dead2);
backend(slow => 'script', read => 1, script => [3]);
backend(slow2 => 'script', read => 1, script => [3]);
backend(inv => 'script', read => 1, script => ["HTTP/1.1 200 OK\r\nX A: b\r\n\r\n"]);
backend(accel => 'script', read => 1,
        script => ["HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Accel-Redirect: /x\r\n\r\nok\n"]);
backend(hole => 'blackhole');
backend(kclose => 'counting', keepalive => 0);
backend(knolen => 'counting', mode => 'close');
backend(kok => 'counting');

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF2' . ($b->http_config // ''));
    log_format d '$status|$upstream_status|$upstream_addr|$upstream_response_length|$upstream_bytes_received|$body_bytes_sent';
EOF2
    $b->set_value('request', "GET /x\n") unless defined $b->request;
    $b->set_value('config', ($b->config // '') . "\n    location = /x { return 200 \"x\\n\"; }\n");
});

run_tests();

__DATA__

=== TEST 1: proxy_next_upstream http_500: the next server answers; the 500's body is not counted
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_S500_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a1.log d;
        proxy_next_upstream http_500;
        proxy_pass http://u;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a1.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\n\z}s, 'TEST 1: the next server');
my ($a, $b) = (backend_addr('s500'), backend_addr('good'));
Test::More::like($l, qr/^200\|500, 200\|$a, $b\|0, 3\|\d+, \d+\|3$/, 'TEST 1: logged');
--- error_log
upstream server temporarily disabled while reading response header from upstream
--- response_body
x



=== TEST 2: the same for http_502 http_503 http_504 http_403 http_404 http_429 (403 and 404 do not count as fails)
--- http_config
    upstream u502 { server 127.0.0.1:$TEST_NGINX_S502_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
    upstream u503 { server 127.0.0.1:$TEST_NGINX_S503_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
    upstream u504 { server 127.0.0.1:$TEST_NGINX_S504_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
    upstream u403 { server 127.0.0.1:$TEST_NGINX_S403_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
    upstream u404 { server 127.0.0.1:$TEST_NGINX_S404_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
    upstream u429 { server 127.0.0.1:$TEST_NGINX_S429_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location ~ ^/(\d+)/ {
        access_log logs/a2-$1.log d;
        proxy_next_upstream http_502 http_503 http_504 http_403 http_404 http_429;
        proxy_pass http://u$1;
    }
--- init
for my $code (502, 503, 504, 403, 404, 429) {
    my ($r, $l) = get_logged("/$code/", "a2-$code.log");
    Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\n\z}s, "TEST 2: $code: the next server");
    my ($a, $b) = (backend_addr("s$code"), backend_addr('good'));
    Test::More::like($l, qr/^200\|$code, 200\|$a, $b\|0, 3\|\d+, \d+\|3$/, "TEST 2: $code: logged");
}
--- grep_error_log eval: qr/upstream server temporarily disabled/
--- grep_error_log_out
upstream server temporarily disabled
upstream server temporarily disabled
upstream server temporarily disabled
upstream server temporarily disabled
--- response_body
x



=== TEST 3: by default a 502 answer is passed on, its body counted
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_S502_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a3.log d;
        proxy_pass http://u;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a3.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 Bad Gateway\n.*\n\nbad\n\z}s, "TEST 3: the upstream's 502");
my $a = backend_addr('s502');
Test::More::like($l, qr/^502\|502\|$a\|4\|\d+\|4$/, 'TEST 3: logged');
--- no_error_log
[warn]
--- response_body
x



=== TEST 4: error (a close before the head): the next server; off: 502
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_CLOSED_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
    upstream v { server 127.0.0.1:$TEST_NGINX_CLOSED2_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a4.log d;
        proxy_pass http://u;
    }
    location /v/ {
        access_log logs/a4v.log d;
        proxy_next_upstream off;
        proxy_pass http://v;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a4.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\n\z}s, 'TEST 4: the next server');
my ($a, $b, $c) = (backend_addr('closed'), backend_addr('good'), backend_addr('closed2'));
Test::More::like($l, qr/^200\|502, 200\|$a, $b\|0, 3\|0, \d+\|3$/, 'TEST 4: logged');
($r, $l) = get_logged('/v/', 'a4v.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 4: off: 502');
Test::More::like($l, qr/^502\|502\|$c\|0\|0\|\d+$/, 'TEST 4: off: logged');
--- error_log
upstream prematurely closed connection while reading response header from upstream
upstream server temporarily disabled while reading response header from upstream
--- response_body
x



=== TEST 5: timeout: the next server; "temporarily disabled" is logged before "upstream timed out"
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_SLOW_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a5.log d;
        proxy_read_timeout 1s;
        proxy_pass http://u;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a5.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\n\z}s, 'TEST 5: the next server');
my ($a, $b) = (backend_addr('slow'), backend_addr('good'));
Test::More::like($l, qr/^200\|504, 200\|$a, $b\|0, 3\|0, \d+\|3$/, 'TEST 5: logged');
--- grep_error_log eval: qr/upstream server temporarily disabled|upstream timed out \(110: Connection timed out\) while reading response header from upstream/
--- grep_error_log_out
upstream server temporarily disabled
upstream timed out (110: Connection timed out) while reading response header from upstream
--- response_body
x



=== TEST 6: proxy_next_upstream_timeout: no third try once it has passed; each timeout logged after its server's verdict
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_SLOW_PORT; server 127.0.0.1:$TEST_NGINX_SLOW2_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a6.log d;
        proxy_read_timeout 1s;
        proxy_next_upstream_timeout 1500ms;
        proxy_pass http://u;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a6.log');
Test::More::like($r, qr{\AHTTP/1\.1 504 }, 'TEST 6: 504');
my ($a, $b) = (backend_addr('slow'), backend_addr('slow2'));
Test::More::like($l, qr/^504\|504, 504\|$a, $b\|0, 0\|0, 0\|\d+$/, 'TEST 6: logged');
--- grep_error_log eval: qr/upstream server temporarily disabled|upstream timed out/
--- grep_error_log_out
upstream server temporarily disabled
upstream timed out
upstream server temporarily disabled
upstream timed out
--- response_body
x



=== TEST 7: invalid_header: the next server; without it, 502
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_INV_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a7.log d;
        proxy_next_upstream invalid_header;
        proxy_pass http://u;
    }
    location /v/ {
        access_log logs/a7v.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_INV_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a7.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\n\z}s, 'TEST 7: the next server');
my ($a, $b) = (backend_addr('inv'), backend_addr('good'));
Test::More::like($l, qr/^200\|502, 200\|$a, $b\|0, 3\|27, \d+\|3$/, 'TEST 7: logged');
($r, $l) = get_logged('/v/', 'a7v.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 7: 502');
--- error_log
upstream sent invalid header: "X\x20..." while reading response header from upstream
--- response_body
x



=== TEST 8: a POST is not sent again after an error unless non_idempotent
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_CLOSED_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
    upstream v { server 127.0.0.1:$TEST_NGINX_CLOSED2_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a8.log d;
        proxy_pass http://u;
    }
    location /v/ {
        access_log logs/a8v.log d;
        proxy_next_upstream error non_idempotent;
        proxy_pass http://v;
    }
--- init
my $post = "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab";
my ($r, $l) = get_logged('/u/', 'a8.log', sprintf($post, '/u/'));
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 8: 502');
my ($a, $b, $c) = (backend_addr('closed'), backend_addr('good'), backend_addr('closed2'));
Test::More::like($l, qr/^502\|502\|$a\|0\|0\|\d+$/, 'TEST 8: one try');
($r, $l) = get_logged('/v/', 'a8v.log', sprintf($post, '/v/'));
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\n\z}s, 'TEST 8: non_idempotent: the next server');
Test::More::like($l, qr/^200\|502, 200\|$c, $b\|0, 3\|0, \d+\|3$/, 'TEST 8: non_idempotent: two tries');
--- response_body
x



=== TEST 9: proxy_next_upstream_tries 1: one try only
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_CLOSED_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a9.log d;
        proxy_next_upstream_tries 1;
        proxy_pass http://u;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a9.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 9: 502');
my $a = backend_addr('closed');
Test::More::like($l, qr/^502\|502\|$a\|0\|0\|\d+$/, 'TEST 9: one try');
--- response_body
x



=== TEST 10: backup servers after the primary ones fail, in order
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_CLOSED_PORT;
        server 127.0.0.1:$TEST_NGINX_CLOSED2_PORT backup;
        server 127.0.0.1:$TEST_NGINX_GOOD_PORT backup;
    }
--- config
    location /u/ {
        access_log logs/a10.log d;
        proxy_pass http://u;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a10.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\n\z}s, 'TEST 10: a backup answers');
my ($a, $b, $c) = (backend_addr('closed'), backend_addr('closed2'), backend_addr('good'));
Test::More::like($l, qr/^200\|502, 502, 200\|$a, $b, $c\|0, 0, 3\|0, 0, \d+\|3$/, 'TEST 10: logged');
--- response_body
x



=== TEST 11: max_fails=1: both servers fail once, then "no live upstreams" (the group's name as the address)
--- http_config
    upstream grp {
        server 127.0.0.1:$TEST_NGINX_DEAD1_PORT max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$TEST_NGINX_DEAD2_PORT max_fails=1 fail_timeout=30s;
    }
--- config
    location /u/ {
        access_log logs/a11.log d;
        proxy_pass http://grp;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a11.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 11: 502');
my ($a, $b) = (backend_addr('dead1'), backend_addr('dead2'));
Test::More::like($l, qr/^502\|502, 502\|$a, $b\|0, 0\|0, 0\|\d+$/, 'TEST 11: both tried');
($r, $l) = get_logged('/u/', 'a11.log', undef, 2);
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 11: 502 again');
Test::More::like($l, qr/^502\|502\|grp\|0\|0\|\d+$/, 'TEST 11: none tried');
--- error_log
no live upstreams while connecting to upstream
--- response_body
x



=== TEST 12: proxy_intercept_errors with an error_page for the code: the page; the upstream's body not counted
--- config
    access_log logs/a12.log d;
    location /u/ {
        proxy_intercept_errors on;
        error_page 404 =200 /x;
        proxy_pass http://127.0.0.1:$TEST_NGINX_S404_PORT;
    }
    location /v/ {
        access_log logs/a12v.log d;
        proxy_intercept_errors on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_S500_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a12.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nx\n\z}s, 'TEST 12: the error page');
my ($a, $b) = (backend_addr('s404'), backend_addr('s500'));
Test::More::like($l, qr/^200\|404\|$a\|0\|\d+\|2$/, 'TEST 12: logged');
($r, $l) = get_logged('/v/', 'a12v.log');
Test::More::like($r, qr{\AHTTP/1\.1 500 .*\n\nbad\n\z}s, 'TEST 12: no error_page for 500: passed on');
Test::More::like($l, qr/^500\|500\|$b\|4\|\d+\|4$/, 'TEST 12: passed on: counted');
--- response_body
x



=== TEST 13: X-Accel-Redirect: the redirect's answer; the upstream's body not counted
--- config
    access_log logs/a13.log d;
    location /u/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_ACCEL_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a13.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nx\n\z}s, 'TEST 13: redirected');
my $a = backend_addr('accel');
Test::More::like($l, qr/^200\|200\|$a\|0\|\d+\|2$/, 'TEST 13: logged');
--- response_body
x



=== TEST 14: upstream keepalive: a response with "Connection: close", or without a length, leaves no connection to reuse; a well-framed one does
--- http_config
    upstream kc { server 127.0.0.1:$TEST_NGINX_KCLOSE_PORT; keepalive 4; }
    upstream kn { server 127.0.0.1:$TEST_NGINX_KNOLEN_PORT; keepalive 4; }
    upstream ko { server 127.0.0.1:$TEST_NGINX_KOK_PORT; keepalive 4; }
--- config
    location ~ ^/(k.)/ {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://$1;
    }
--- request eval
["GET /kc/", "GET /kc/", "GET /kn/", "GET /kn/", "GET /ko/", "GET /ko/"]
--- response_body eval
["kclose conn=1 req=1\n", "kclose conn=2 req=1\n", "knolen conn=1 req=1\n", "knolen conn=2 req=1\n",
 "kok conn=1 req=1\n", "kok conn=1 req=2\n"]



=== TEST 15: proxy_connect_timeout: the next server; "temporarily disabled" before "upstream timed out ... while connecting"
--- http_config
    upstream u { server 127.0.0.1:$TEST_NGINX_HOLE_PORT; server 127.0.0.1:$TEST_NGINX_GOOD_PORT; }
--- config
    location /u/ {
        access_log logs/a15.log d;
        proxy_connect_timeout 1s;
        proxy_pass http://u;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a15.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\n\z}s, 'TEST 15: the next server');
my ($a, $b) = (backend_addr('hole'), backend_addr('good'));
Test::More::like($l, qr/^200\|504, 200\|$a, $b\|0, 3\|0, \d+\|3$/, 'TEST 15: logged');
--- grep_error_log eval: qr/upstream server temporarily disabled|upstream timed out \(110: Connection timed out\) while connecting to upstream/
--- grep_error_log_out
upstream server temporarily disabled
upstream timed out (110: Connection timed out) while connecting to upstream
--- response_body
x
