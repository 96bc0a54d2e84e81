# What becomes of a connection: keepalive_disable (MSIE 6 after a POST, Safari on Mac OS X, by
# nginx's User-Agent rules), keepalive_timeout's Keep-Alive header, keepalive_time,
# lingering_close off|on|always, reset_timedout_connection (an RST for a 444 and for a client that
# timed out in the middle of a head or a body, nothing special for an idle one), send_lowat
# (nginx's warning on Linux), and connection_pool_size / request_pool_size with nginx's bounds.
# RSTs and lingering are seen from a raw socket: a reset is ECONNRESET where a close is EOF.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/108-connection-directives.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc ();
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();
use Errno ();

plan 'no_plan';

# Send $data on a new connection and read until the server ends it, or $wait seconds of
# silence: (what arrived, "EOF" | "RST" | "TIMEOUT", the socket).
sub talk {
    my ($data, $wait) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort,
                                  Proto => 'tcp') or die "connect: $!";
    local $SIG{PIPE} = 'IGNORE';
    syswrite($s, $data) if length $data;
    my ($out, $sel) = ('', IO::Select->new($s));
    while (1) {
        return ($out, 'TIMEOUT', $s) unless $sel->can_read($wait // 3);
        my $n = sysread($s, my $buf, 65536);
        return ($out, $!{ECONNRESET} ? 'RST' : "ERROR $!", $s) unless defined $n;
        return ($out, 'EOF', $s) if $n == 0;
        $out .= $buf;
    }
}

# After the server ended a connection with EOF: does it still read what the client sends
# (lingering) or reset it (closed)?  Two writes a little apart, then a read.
sub after_eof {
    my $s = shift;
    local $SIG{PIPE} = 'IGNORE';
    syswrite($s, 'x');
    Time::HiRes::sleep(0.3);
    return 'RST' unless defined syswrite($s, 'y');
    Time::HiRes::sleep(0.3);
    my $n = sysread($s, my $buf, 10);
    return defined $n ? 'read on' : $!{ECONNRESET} ? 'RST' : "ERROR $!";
}

our $MSIE6 = 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)';
our $MSIE6SV1 = 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)';
our $MSIE55 = 'Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)';
our $SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 '
    . '(KHTML, like Gecko) Version/14.1 Safari/605.1.15';
our $CHROME = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 '
    . '(KHTML, like Gecko) Chrome/90.0 Safari/537.36';
our $OPERA = 'Opera/9.80 (compatible; MSIE 6.0; Windows NT 5.1)';

run_tests();

__DATA__

=== TEST 1: keepalive_disable msie6 (the default): MSIE 4 to 6 without SV1, after a POST only
--- config
    location /t { return 200 "ok\n"; }
--- request eval
["POST /t", "GET /t", "POST /t", "POST /t", "POST /t"]
--- more_headers eval
["Connection: keep-alive\nUser-Agent: $::MSIE6", "Connection: keep-alive\nUser-Agent: $::MSIE6",
 "Connection: keep-alive\nUser-Agent: $::MSIE6SV1", "Connection: keep-alive\nUser-Agent: $::MSIE55",
 "Connection: keep-alive\nUser-Agent: $::OPERA"]
--- response_headers eval
["Connection: close", "Connection: keep-alive", "Connection: keep-alive", "Connection: close",
 "Connection: keep-alive"]



=== TEST 2: keepalive_disable safari: Safari on Mac OS X, any method; not Chrome, not Safari elsewhere
--- config
    keepalive_disable safari;
    location /t { return 200 "ok\n"; }
--- request eval
["GET /t", "GET /t", "GET /t", "POST /t"]
--- more_headers eval
["Connection: keep-alive\nUser-Agent: $::SAFARI", "Connection: keep-alive\nUser-Agent: $::CHROME",
 "Connection: keep-alive\nUser-Agent: Mozilla/5.0 (Windows NT 10.0) Safari/1",
 "Connection: keep-alive\nUser-Agent: $::MSIE6"]
--- response_headers eval
["Connection: close", "Connection: keep-alive", "Connection: keep-alive", "Connection: keep-alive"]



=== TEST 3: keepalive_disable none, and "none msie6" (the names beside none count), per location
--- config
    keepalive_disable none;
    location /t { return 200 "ok\n"; }
    location /u { keepalive_disable none msie6; return 200 "ok\n"; }
    location /v { keepalive_disable msie6; keepalive_disable safari; return 200 "ok\n"; }
--- request eval
["POST /t", "POST /u", "GET /v", "POST /v"]
--- more_headers eval
["Connection: keep-alive\nUser-Agent: $::MSIE6", "Connection: keep-alive\nUser-Agent: $::MSIE6",
 "Connection: keep-alive\nUser-Agent: $::SAFARI", "Connection: keep-alive\nUser-Agent: $::MSIE6"]
--- response_headers eval
["Connection: keep-alive", "Connection: close", "Connection: close", "Connection: close"]



=== TEST 4: keepalive_disable: a name it does not know
--- config
    keepalive_disable msie7;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "msie7" in .*:\d+/



=== TEST 5: keepalive_disable: the same name twice is a warning
--- config
    keepalive_disable safari SAFARI;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[warn\] .*duplicate value "SAFARI" in .*\.conf:\d+$/m,
                     'warned on -t');
--- response_body
ok



=== TEST 6: keepalive_timeout's second argument: the Keep-Alive header's timeout
--- config
    location /t { keepalive_timeout 30s 25; return 200 "ok\n"; }
    location /u { keepalive_timeout 30s 1m; return 200 "ok\n"; }
    location /v { return 200 "ok\n"; }
--- request eval
["GET /t", "GET /u", "GET /v"]
--- more_headers
Connection: keep-alive
--- response_headers eval
["Keep-Alive: timeout=25", "Keep-Alive: timeout=60", "!Keep-Alive"]



=== TEST 7: keepalive_time: a connection older than it gets Connection: close
--- config
    keepalive_time 1s;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Proto => 'tcp');
my $get = sub {
    print $s "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my $head = '';
    while ($head !~ /\r\n\r\nok\n\z/) { sysread($s, $head, 4096, length $head) or last }
    return $head =~ /^Connection: (\S+)\r$/m ? $1 : 'none';
};
Test::More::is($get->(), 'keep-alive', 'the first request of the connection: kept');
Time::HiRes::sleep(1.2);
Test::More::is($get->(), 'close', 'a request 1.2 s after the connection began: closed');
--- response_body
ok



=== TEST 8: lingering_close on (the default) and off: a request followed by more than was read
--- config
    location /on { return 200 "ok\n"; }
    location /off { lingering_close off; return 200 "ok\n"; }
--- request
GET /on
--- init
for my $loc ('on', 'off') {
    my ($out, $how) = main::talk("GET /$loc HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                                 . ('z' x 100000));
    Test::More::like($out, qr/^HTTP\/1\.1 200 /, "lingering_close $loc: the response arrives");
    Test::More::is($how, $loc eq 'on' ? 'EOF' : 'RST',
                   "lingering_close $loc: " . ($loc eq 'on' ? 'read and dropped, then closed'
                                                            : 'closed at once: a reset'));
}
--- response_body
ok



=== TEST 9: lingering_close always: the server reads on after its response even with nothing pending
--- config
    location /on { return 200 "ok\n"; }
    location /always { lingering_close always; lingering_timeout 5s; return 200 "ok\n"; }
--- request
GET /always
--- init
for my $loc ('on', 'always') {
    my ($out, $how, $s) = main::talk("GET /$loc HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    Test::More::is($how, 'EOF', "lingering_close $loc: the response, then EOF");
    Test::More::is(main::after_eof($s), $loc eq 'on' ? 'RST' : 'read on',
                   "lingering_close $loc: what the client sends next is " . ($loc eq 'on' ? 'reset' : 'read'));
}
--- response_body
ok



=== TEST 10: lingering_close: a value it does not know
--- config
    lingering_close sometimes;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "sometimes" in .*:\d+/



=== TEST 11: reset_timedout_connection on: 444 ends the connection with an RST
--- config
    reset_timedout_connection on;
    location /t { return 444; }
    location /u { reset_timedout_connection off; return 444; }
--- request
GET /t
--- init
Test::More::is((main::talk("GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"))[1], 'RST', '444: reset');
Test::More::is((main::talk("GET /u HTTP/1.1\r\nHost: localhost\r\n\r\n"))[1], 'EOF', '444 where it is off: closed');
--- ignore_response



=== TEST 12: reset_timedout_connection: a head cut off by client_header_timeout is reset, an idle connection closed
--- http_config
    client_header_timeout 500ms;
--- config
    reset_timedout_connection on;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
Test::More::is((main::talk("GET /t HTTP/1.1\r\nHost: loc"))[1], 'RST', 'half a head: reset');
Test::More::is((main::talk(''))[1], 'EOF', 'nothing sent: closed');
Test::More::is((main::talk("GET /t HTTP/1.0\r\nHost: loc"))[1], 'RST', 'again: reset');
--- response_body
ok
--- error_log
client timed out (110: Connection timed out) while reading client request headers
client timed out (110: Connection timed out) while waiting for request



=== TEST 13: reset_timedout_connection: a body cut off by client_body_timeout is reset; off by default
--- config
    client_body_timeout 500ms;
    location /t { reset_timedout_connection on; client_max_body_size 1m; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok; }
    location /u { client_max_body_size 1m; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok; }
    location /ok { return 200 "ok\n"; }
--- request
GET /ok
--- init
Test::More::is((main::talk("POST /t HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc"))[1], 'RST',
               'reset');
Test::More::is((main::talk("POST /u HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc"))[1], 'EOF',
               'not reset by default');
--- response_body
ok



=== TEST 14: reset_timedout_connection: an idle keepalive connection that times out is closed, not reset
--- config
    reset_timedout_connection on;
    keepalive_timeout 500ms;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
my ($out, $how) = main::talk("GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n");
Test::More::like($out, qr/\r\n\r\nok\n\z/, 'the response');
Test::More::is($how, 'EOF', 'then closed at keepalive_timeout');
--- response_body
ok



=== TEST 15: send_lowat is not supported on Linux: a warning, and it is ignored
--- config
    send_lowat 8k;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[warn\] .*"send_lowat" is not supported, ignored in .*\.conf:\d+$/m,
                     'warned on -t');
--- response_body
ok



=== TEST 16: send_lowat: a bad size
--- config
    send_lowat 8x;
--- must_die
--- error_log eval
qr/\[emerg\] .*"send_lowat" directive invalid value in .*:\d+/



=== TEST 17: connection_pool_size and request_pool_size: the smallest pools still serve
--- http_config
    connection_pool_size 112;
--- config
    request_pool_size 112;
    location /t { return 200 "$request_uri $http_x_a $http_x_b\n"; }
--- request eval
"GET /t?" . ("a" x 105)
--- more_headers eval
"X-A: " . ("a" x 300) . "\nX-B: " . ("b" x 300)
--- response_body eval
"/t?" . ("a" x 105) . " " . ("a" x 300) . " " . ("b" x 300) . "\n"



=== TEST 18: a pool size below nginx's least
--- config
    connection_pool_size 96;
--- must_die
--- error_log eval
qr/\[emerg\] .*the pool size must be no less than 112 in .*:\d+/



=== TEST 19: a pool size that is not a multiple of 16
--- config
    request_pool_size 1000;
--- must_die
--- error_log eval
qr/\[emerg\] .*the pool size must be a multiple of 16 in .*:\d+/



=== TEST 20: request_pool_size is not a location directive
--- config
    location /t { request_pool_size 4k; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"request_pool_size" directive is not allowed here in .*:\d+/



=== TEST 21: reset_timedout_connection: a response the client stops reading ends at send_timeout with an RST
--- config
    location /big { reset_timedout_connection on; send_timeout 500ms; root $TEST_NGINX_HTML_DIR; }
    location /big2 { send_timeout 500ms; alias $TEST_NGINX_HTML_DIR/big; }
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
open(my $fh, '>', "$HtmlDir/big") or die $!;
print $fh 'x' x (16 * 1024 * 1024);
close $fh;
for my $u ('/big', '/big2') {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Proto => 'tcp');
    print $s "GET $u HTTP/1.0\r\nHost: localhost\r\n\r\n";
    # not reading until the server's send timed out (its log line, the first or the second;
    # bounded): a fixed wait could end first on a loaded machine, and reading lets it finish
    my $k = $u eq '/big' ? 1 : 2;
    Test::MoongateProc::wait_for(sub {
        my @t = Test::Moongate::slurp(Test::Moongate::error_log_file())
                =~ /while sending response to client/g;
        @t >= $k }, 10);
    my ($got, $how) = (0, 'TIMEOUT');
    my $sel = IO::Select->new($s);
    while ($sel->can_read(3)) {
        my $n = sysread($s, my $buf, 1 << 20);
        if (!defined $n) { $how = $!{ECONNRESET} ? 'RST' : "ERROR $!"; last }
        if ($n == 0) { $how = 'EOF'; last }
        $got += $n;
    }
    Test::More::ok($got < 16 * 1024 * 1024, "$u: the response was cut ($got bytes)");
    Test::More::is($how, $u eq '/big' ? 'RST' : 'EOF', "$u: " . ($u eq '/big' ? 'reset' : 'closed'));
}
--- response_body
ok
--- error_log
client timed out (110: Connection timed out) while sending response to client
