# post_action beyond t/949: as nginx 1.22 does it (checked against Debian's nginx).
# - A post_action's location that has a post_action too goes on to it: a chain, each step's
#   request reaching its upstream, logged once at the end. A chain that comes back on itself
#   (or an inherited post_action whose location inherits it too) runs until the internal
#   redirects run out: ten post_action requests, then "rewrite or internal redirection cycle",
#   500 in the access log and the connection closed.
# - A client that goes away in the middle of the response (proxy_ignore_client_abort off: the
#   close is seen; on: a write fails) does not stop the post_action: it runs, and the log keeps
#   the status of the response that was being sent (200, not 499; so without a post_action).
# - A proxied post_action's answer goes nowhere, so its body is not read: the request ends
#   once the head is in and the upstream connection closes (a slow body does not hold it).
#
# - An h2 connection that goes under a request still running: the request is logged (200 once
#   some of its response went, else 499; moongate freed it unlogged). Its post_action runs
#   then, on both servers: t/980.
#
#   prove -I t/lib t/956-post-action-chain.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/956-post-action-chain.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::Moongate::H2;
use Time::HiRes ();

backend(pa => 'echo');
# a head at once, then a byte every 50 ms for 15 s
backend(drip => 'drip', count => 300, interval => 0.05);

sub backend_got {
    my ($what, $want) = @_;
    my $got = join ',', map { $_->[3] } backend_log('pa');
    Test::More::is($got, $want, "the post_action upstream got: $what");
    backend_log_clear('pa');
}

# the log line of the request, awaited (5 s at most)
sub log_line {
    my ($file) = @_;
    my ($l) = logged_lines($file, 1);
    return $l // '';
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    log_format pa '$request_uri uri=$uri status=$status ups=$upstream_status';
EOF
});

run_tests();

__DATA__

=== TEST 1: a chain of post_actions: each runs in turn, the connection stays alive
--- config
    access_log logs/chain.log pa;
    location /t {
        post_action /pa1;
        return 200 "main\n";
    }
    location /pa1 {
        post_action /pa2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/one;
    }
    location /pa2 { proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/two; }
--- init
backend_log_clear('pa');
my $s = client_connect();
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n");
my $r = client_read($s, qr/main\n/, 5);
Test::More::like($r, qr/^HTTP\/1\.1 200 .*\r\n\r\nmain\n\z/s, 'TEST 1: the main response');
Test::More::is(main::log_line('chain.log'), '/t uri=/pa2 status=200 ups=200 : 200',
               'TEST 1: logged once, after both');
main::backend_got('TEST 1', '/one,/two');
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
($r) = client_read($s, undef, 5);
Test::More::like($r, qr/^HTTP\/1\.1 200 .*\r\n\r\nmain\n\z/s, 'TEST 1: the next request on it');
--- request
GET /none
--- error_code: 404



=== TEST 2: a chain that comes back on itself: ten post_actions, then the redirection cycle's 500, and the connection closes
--- config
    access_log logs/cycle.log pa;
    location /t {
        post_action /pa1;
        return 200 "main\n";
    }
    location /pa1 {
        post_action /pa2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/one;
    }
    location /pa2 {
        post_action /pa1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/two;
    }
--- init
backend_log_clear('pa');
my $s = client_connect();
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n");
my ($r, $eof) = client_read($s, qr/main\n/, 5);
Test::More::like($r, qr/^HTTP\/1\.1 200 .*Connection: keep-alive.*\r\n\r\nmain\n\z/s,
                 'TEST 2: the main response');
($r, $eof) = client_read($s, undef, 5);
Test::More::ok($eof && $r eq '', 'TEST 2: then the connection closes');
Test::More::is(main::log_line('cycle.log'), '/t uri=/pa2 status=500 ups=' . join(' : ', ('200') x 10),
               'TEST 2: logged once, with the 500');
main::backend_got('TEST 2', join ',', ('/one', '/two') x 5);
--- request
GET /none
--- error_code: 404
--- error_log
rewrite or internal redirection cycle while internally redirecting to "/pa1"



=== TEST 3: inherited: the post_action's location goes on to itself until the redirects run out
--- config
    access_log logs/inherit.log pa;
    post_action /track;
    location /t {
        return 200 "main\n";
    }
    location /track {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/tracked;
    }
--- init
backend_log_clear('pa');
my $s = client_connect();
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n");
my $r = client_read($s, qr/main\n/, 5);
Test::More::like($r, qr/\r\n\r\nmain\n\z/s, 'TEST 3: the main response');
Test::More::like(main::log_line('inherit.log'), qr{^/t uri=/track status=500 },
                 'TEST 3: the cycle\'s 500 logged');
main::backend_got('TEST 3', join ',', ('/tracked') x 10);
--- request
GET /none
--- error_code: 404
--- error_log
rewrite or internal redirection cycle while internally redirecting to "/track"



=== TEST 4: the client goes mid-response (proxy_ignore_client_abort off): the post_action runs, 200 logged
--- config
    access_log logs/abort.log pa;
    location /d {
        post_action /pa;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT;
    }
    location /pa {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/tracked;
    }
--- init
backend_log_clear('pa');
my $h = client_gone_after_head('/d', reset => 1);
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 4: the head came');
Test::More::is(main::log_line('abort.log'), '/d uri=/pa status=200 ups=200 : 200',
               'TEST 4: logged after the post_action, with the response\'s status');
main::backend_got('TEST 4', '/tracked');
--- request
GET /none
--- error_code: 404



=== TEST 5: the same with proxy_ignore_client_abort on: the write that fails ends the response, the post_action runs
--- config
    access_log logs/abort-ign.log pa;
    location /d {
        post_action /pa;
        proxy_ignore_client_abort on;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT;
    }
    location /pa {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/tracked;
    }
--- init
backend_log_clear('pa');
my $h = client_gone_after_head('/d', reset => 1);
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 5: the head came');
Test::More::is(main::log_line('abort-ign.log'), '/d uri=/pa status=200 ups=200 : 200',
               'TEST 5: logged after the post_action');
main::backend_got('TEST 5', '/tracked');
--- request
GET /none
--- error_code: 404



=== TEST 6: a proxied post_action's body is not read: the request ends at its head
--- config
    access_log logs/head.log pa;
    location /t {
        post_action /pa;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/main;
    }
    location /pa {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT/tracked;
    }
--- init
backend_log_clear('pa');
my $s = client_connect();
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n");
my $r = client_read($s, qr/\r\n\r\nGET \/main .*\r?\n\r?\n/s, 5);
Test::More::like($r, qr/^HTTP\/1\.1 200 /, 'TEST 6: the main response');
# the drip's body takes 15 s: logged within 5 s means it was not awaited
Test::More::is(main::log_line('head.log'), '/t uri=/pa status=200 ups=200 : 200',
               'TEST 6: logged once the post_action\'s head is in');
main::backend_got('TEST 6', '/main');
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
($r) = client_read($s, undef, 5);
Test::More::like($r, qr/^HTTP\/1\.1 200 /, 'TEST 6: the connection goes on');
--- request
GET /none
--- error_code: 404



=== TEST 7: no post_action: a response cut short by the client logs its status, not 499, once some of it went
--- config
    access_log logs/cut.log pa;
    location /d {
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT;
    }
--- init
my $h = client_gone_after_head('/d', reset => 1);
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 7: the head came');
Test::More::is(main::log_line('cut.log'), '/d uri=/d status=200 ups=200', 'TEST 7: 200 logged');
--- request
GET /none
--- error_code: 404



=== TEST 8: the client goes while its body is read: the post_action runs, the log has its status (nginx's: not the 400)
--- config
    access_log logs/body.log pa;
    location /b {
        post_action /pa;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/main;
    }
    location /pa {
        internal;
        # what body the post_action's request would carry is not asked here: nginx sends the
        # part that came under the announced Content-Length (a request the upstream waits on),
        # moongate the part with its own length
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/tracked;
    }
--- init
backend_log_clear('pa');
my $s = client_connect();
client_send($s, "POST /b HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789");
Time::HiRes::sleep(0.2);
close $s;
Test::More::is(main::log_line('body.log'), '/b uri=/pa status=200 ups=200', 'TEST 8: logged');
main::backend_got('TEST 8', '/tracked');
--- request
GET /none
--- error_code: 404



=== TEST 9: the cycle that ends a chain spends the URI changes: an error_page is not tried after it (the built-in 500, one error line)
--- config
    location /a {
        error_page 500 /e;
        try_files /nonexistent /a;
    }
    location /e { return 200 "error page\n"; }
--- request
GET /a
--- error_code: 500
--- response_body_like eval
qr{<h1>500 Internal Server Error</h1>}
--- grep_error_log eval
qr/rewrite or internal redirection cycle while internally redirecting to "[^"]+"/
--- grep_error_log_out
rewrite or internal redirection cycle while internally redirecting to "/a"



=== TEST 10: h2: the connection goes under two requests, one answering, one waiting: both logged
--- listen_options: http2
--- config
    access_log logs/h2.log pa;
    location /d {
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT;
    }
    location /w {
        proxy_set_header X-Echo-Delay 3;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT;
    }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/d')
b = c.request('/w')
c.run(lambda: len(c.streams[a].body) > 0)
c.sock.close()
deadline = time.time() + 5
lines = []
while len(lines) < 2 and time.time() < deadline:
    time.sleep(0.05)
    lines = [l for l in open('$TEST_NGINX_SERVROOT/logs/h2.log').read().splitlines() if l]
print('\n'.join(sorted(lines)))
--- h2_out
/d uri=/d status=200 ups=200
/w uri=/w status=499 ups=-
