# A kept-alive upstream connection's one timer (core/lazy_timer.c) goes from the pool's
# keepalive_timeout to the next request's proxy_read_timeout and back, moved later without the
# event loop when it can be: a read timeout later than the idle deadline still pending lets a
# slow answer through, a shorter one still comes on time, and back in the pool the connection
# is closed at keepalive_timeout counted from then.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/628-upstream-timer-moves.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Time::HiRes ();

backend(k => 'counting');

# one request on its own client connection: the parsed response
sub get {
    my ($path, $headers) = @_;
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" . ($headers // '') . "\r\n";
    my $x = Test::Moongate::exchange([$req], 0, ['GET'], 10);
    my ($r) = Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
    return $r || { status => '', body => '', headers => {}, error => 'no response' };
}

run_tests();

__DATA__

=== TEST 1: a reused connection's read timeout past the pool's idle deadline: a slow answer comes whole
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
        keepalive_timeout 3s;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout 10s;
        proxy_pass http://k;
    }
--- init
# the 3 s idle deadline leaves the next request 3 s to come (1 s was within reach of a loaded
# machine's delays); the 3.5 s answer passes the deadline however soon the request came
Test::More::like(main::get('/t')->{body}, qr/ req=1\n/, 'TEST 1: a new connection, then idle');
--- request
GET /t
--- more_headers
X-Echo-Delay: 3.5
--- timeout: 10
--- response_body_like: ^k conn=\d+ req=2\n



=== TEST 2: a read timeout shorter than the pool's idle deadline before it comes on time
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
        keepalive_timeout 30s;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout 500ms;
        proxy_pass http://k;
    }
--- init
Test::More::like(main::get('/t')->{body}, qr/ req=1\n/, 'TEST 2: a new connection, then idle');
my $t0 = Time::HiRes::time();
# the answer comes 6 s late: far from the 0.5 s timeout, so a loaded machine's delays cannot
# blur "at proxy_read_timeout" (under 5 s) with "at the answer"
my $r = main::get('/t', "X-Echo-Delay: 6\r\n");
my $took = Time::HiRes::time() - $t0;
Test::More::is($r->{status}, 504, 'TEST 2: the slow answer times out');
Test::More::ok($took < 5, "TEST 2: at proxy_read_timeout, not later ($took s)");
--- request
GET /t
--- response_body_like: conn=\d+ req=1\n
--- error_log
upstream timed out



=== TEST 3: back in the pool after a slow answer, the connection is kept, then closed at keepalive_timeout from then
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 4;
        keepalive_timeout 3s;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_read_timeout 10s;
        proxy_pass http://k;
    }
--- init
my ($conn) = main::get('/t')->{body} =~ /conn=(\d+) req=1\n/;
Test::More::ok($conn, 'TEST 3: a new connection');
Test::More::like(main::get('/t', "X-Echo-Delay: 3.5\r\n")->{body}, qr/conn=$conn req=2\n/,
                 'TEST 3: a slow answer on it');
Test::More::like(main::get('/t')->{body}, qr/conn=$conn req=3\n/, 'TEST 3: kept after it');
# a lower bound (closed by now), 1.5 s past the deadline; no wait for a condition can replace
# it, since every request that looks reuses the connection and starts its idle time again
Time::HiRes::sleep(4.5);
--- request
GET /t
--- response_body_like: ^k conn=\d+ req=1\n
