# worker_connections exhausted (core/server.c): as nginx, the listening socket holds a slot, so
# worker_connections 5 leaves 4 for clients; a newcomer finding them all taken makes room by
# closing the oldest reusable connection -- idle between keepalive requests, or connected without
# a byte of its first request yet -- logs "5 worker_connections are not enough, reusing
# connections" at warn (at most once a second) and is served. When no connection is reusable
# (each is inside a request), the newcomer is closed unserved with the [alert]
# "5 worker_connections are not enough".
#
# Each block holds connections in `--- init` (kept in @main::Held while the block runs), checks
# the newcomer and the held ones there, and leaves a slot free for the block's own request.
#
#   prove -I t/lib t/105-worker-connections.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/105-worker-connections.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();

worker_connections(5);
log_level('info');

our @Held;

sub connect_one {
    my $s = IO::Socket::INET->new(PeerAddr => $Test::Moongate::ServerAddr,
                                  PeerPort => $Test::Moongate::ServerPort, Timeout => 3)
        or die "connect: $!\n";
    return $s;
}

# $n connections, each sending $req (nothing when undef) and, with a request, reading its
# response: they are then idle (keepalive) or inside a request (a body still owed).
sub hold {
    my ($n, $req) = @_;
    @Held = ();
    for my $i (1 .. $n) {
        my $s = connect_one();
        if (defined $req) {
            syswrite($s, $req);
            my $r = read_until($s, qr/\r\n\r\nok\n/);
            Test::More::like($r, qr{^HTTP/1\.1 200 }, "held connection $i answered");
        }
        push @Held, $s;
    }
}

# A new client's request: its status ('' when closed unanswered) and its socket.
sub newcomer {
    my ($close) = @_;
    my $s = connect_one();
    syswrite($s, "GET /t HTTP/1.1\r\nHost: localhost\r\n" . ($close ? "Connection: close\r\n" : '') . "\r\n");
    my $r = read_until($s, qr/\r\n\r\nok\n/);
    my ($status) = $r =~ m{^HTTP/1\.1 (\d+)};
    return ($status // '', $s);
}

# The server closed the connection (EOF or reset) within 3 s.
sub closed_by_server {
    my $s = shift;
    my $sel = IO::Select->new($s);
    my $deadline = Time::HiRes::time() + 3;
    for (;;) {
        my $left = $deadline - Time::HiRes::time();
        return 0 if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $buf, 4096);
        return 1 if !defined $n || $n == 0;
    }
}

# Nothing arrived and the connection is open.
sub still_open {
    my $s = shift;
    $s->blocking(0);
    my $n = sysread($s, my $buf, 4096);
    my $open = !defined $n && $!{EAGAIN};
    $s->blocking(1);
    return $open;
}

sub log_count {
    my $what = shift;
    my $n = () = Test::Moongate::slurp($Test::Moongate::ErrLogFile) =~ /\Q$what\E/g;
    return $n;
}

run_tests();

__DATA__

=== TEST 1: four idle keepalive clients take every slot: a newcomer is served, the oldest idle one is closed, one warn
--- config
    location /t { return 200 "ok\n"; }
--- init
main::hold(4, "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n");
my ($status) = main::newcomer(1);
Test::More::is($status, 200, "the newcomer is served");
Test::More::ok(main::closed_by_server($main::Held[0]), "the oldest idle connection was closed");
Test::More::ok(main::still_open($main::Held[$_]), "idle connection " . ($_ + 1) . " stays") for 1 .. 3;
--- request
GET /t
--- response_body
ok
--- grep_error_log: worker_connections are not enough, reusing connections
--- grep_error_log_out
worker_connections are not enough, reusing connections
--- error_log eval
qr/\[warn\] \d+#\d+: 5 worker_connections are not enough, reusing connections$/
--- no_error_log
[alert]



=== TEST 2: newcomer after newcomer, each taking the oldest idle slot: all served, the warn at most once a second
--- config
    location /t { return 200 "ok\n"; }
--- init
main::hold(4, "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n");
my $t0 = Time::HiRes::time();
my @new;
for my $i (1 .. 6) {
    my ($status, $s) = main::newcomer(0);
    Test::More::is($status, 200, "newcomer $i is served");
    push @new, $s;
}
my $elapsed = Time::HiRes::time() - $t0;
Test::More::ok(main::closed_by_server($main::Held[$_]), "held connection " . ($_ + 1) . " was closed") for 0 .. 3;
Test::More::ok(main::closed_by_server($new[$_]), "newcomer " . ($_ + 1) . ", idle since, was closed") for 0 .. 1;
Test::More::ok(main::still_open($new[$_]), "newcomer " . ($_ + 1) . " stays") for 2 .. 4;
# six reuses: one line, or one per second they spanned
my $warns = main::log_count("worker_connections are not enough, reusing connections");
Test::More::ok($warns >= 1 && $warns <= 1 + int($elapsed + 1), "$warns warn lines for 6 reuses in ${elapsed}s");
--- request
GET /t
--- response_body
ok
--- no_error_log
[alert]



=== TEST 3: clients connected without sending a byte are reusable too, oldest first
--- config
    location /t { return 200 "ok\n"; }
--- init
main::hold(4);
my ($status) = main::newcomer(1);
Test::More::is($status, 200, "the newcomer is served");
Test::More::ok(main::closed_by_server($main::Held[0]), "the oldest silent connection was closed");
Test::More::ok(main::still_open($main::Held[$_]), "silent connection " . ($_ + 1) . " stays") for 1 .. 3;
for my $h (@main::Held[1 .. 3]) {
    shutdown($h, 1);
    Test::More::ok(main::closed_by_server($h), "a silent client left");
}
--- request
GET /t
--- response_body
ok
--- error_log
5 worker_connections are not enough, reusing connections
--- no_error_log
[alert]



=== TEST 4: every slot inside a request (a body still owed): the newcomer is closed unserved, with the alert
--- config
    location /t { return 200 "ok\n"; }
--- init
main::hold(4, "POST /t HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n");
my ($status, $s) = main::newcomer(1);
Test::More::is($status, '', "the newcomer gets no response");
Test::More::ok(main::closed_by_server($s), "the newcomer's connection is closed");
Test::More::ok(main::still_open($main::Held[$_]), "busy connection " . ($_ + 1) . " stays") for 0 .. 3;
# the held clients leave; once the server closed them, slots are free again
for my $h (@main::Held) {
    shutdown($h, 1);
    Test::More::ok(main::closed_by_server($h), "a held client left");
}
--- request
GET /t
--- response_body
ok
--- error_log eval
qr/\[alert\] \d+#\d+: 5 worker_connections are not enough$/
--- no_error_log
reusing connections
