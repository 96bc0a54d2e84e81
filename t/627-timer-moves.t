# A connection's timeout that moves while its timer is pending (core/lazy_timer.c: a timer moved
# later stays where it is and, firing early, waits for the rest; one moved earlier is re-armed):
# keepalive_timeout counts from the last response, not the first, and a client_header_timeout
# shorter than the keepalive_timeout before it still comes on time.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/627-timer-moves.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();

plan 'no_plan';

# One GET /t on $s and its whole answer ("ok\n" body); false when the connection ended instead.
sub get_ok {
    my $s = shift;
    syswrite($s, "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n") or return 0;
    my ($in, $sel) = ('', IO::Select->new($s));
    while ($in !~ /\r\n\r\nok\n\z/) {
        return 0 unless $sel->can_read(5);
        sysread($s, $in, 4096, length $in) or return 0;
    }
    return 1;
}

# Seconds until the server ends the connection (EOF or reset), undef if not within $bound.
sub closed_after {
    my ($s, $bound) = @_;
    my ($t0, $sel) = (Time::HiRes::time(), IO::Select->new($s));
    while (1) {
        my $left = $bound - (Time::HiRes::time() - $t0);
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $buf, 4096);
        return Time::HiRes::time() - $t0 if !$n;
    }
}

sub connect_server {
    IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Proto => 'tcp')
        or die "connect: $!";
}

run_tests();

__DATA__

=== TEST 1: keepalive_timeout counts from the last response: a request after the first one's deadline is served on the same connection
--- config
    keepalive_timeout 3s;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
# the second request comes 2 s after the first, the third 1.5 s after the first one's
# keepalive deadline (3 s), 1.5 s before the second's; a sleep that overran so much that the
# third came after the second's deadline is taken again
my $served;
for my $try (1 .. 3) {
    my $s = main::connect_server();
    main::get_ok($s) or die "the first request failed";
    Time::HiRes::sleep(2);
    my $t2 = Time::HiRes::time();
    main::get_ok($s) or die "the second request failed";
    Time::HiRes::sleep(1.5);
    next if Time::HiRes::time() - $t2 > 2.8;
    $served = main::get_ok($s);
    my $closed = main::closed_after($s, 10);
    Test::More::ok(defined $closed && $closed > 2.5,
                   'then closed at keepalive_timeout after the last response ('
                   . ($closed // 'not') . ' s)');
    last;
}
Test::More::ok($served, 'the third request is served on the kept connection');
--- response_body
ok



=== TEST 2: a client_header_timeout shorter than the keepalive_timeout before it ends a stalled head on time
--- config
    keepalive_timeout 20s;
    client_header_timeout 1s;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
my $s = main::connect_server();
main::get_ok($s) or die "the first request failed";
syswrite($s, "GET /t HTTP/1.1\r\nHost: loc");
my $closed = main::closed_after($s, 15);
Test::More::ok(defined $closed && $closed >= 0.9,
               'the stalled head ends the connection at client_header_timeout, not keepalive_timeout ('
               . ($closed // 'not') . ' s)');
--- response_body
ok
