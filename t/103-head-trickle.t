# A request head trickled in tiny pieces costs the worker CPU in proportion to the head, not to
# head size x number of reads (issue 11: the parser used to start again from the head's first
# byte on every read, so a big head followed by a byte-at-a-time tail cost quadratic CPU).
#
# Three heads, after a warm-up, on a real worker (one worker; its CPU from /proc/PID/schedstat
# in ns, else /proc/PID/stat): B1 a 1 KB prefix then a tail of ~1000 bytes sent one byte at a
# time, A0 a 4 MB prefix (16 KB lines: nginx refuses that many more, shorter lines) and the
# same tail in one go, A1 the 4 MB prefix then the tail byte by byte. A1 - A0 is what ~1000
# reads cost with 4 MB before them, B1 what they cost with 1 KB before them: a parser that
# goes on where it stopped makes them about equal (ratio ~1, up to ~2.5 seen on a loaded
# machine), the old one that started again made it over 70 with 2 MB (each read re-parsed
# the prefix); the test fails above 10 and stops A1 as soon as it is past that. Each byte is
# sent only once the worker has run and gone back to sleep (its schedstat run count moved), so
# every byte is a read of its own and nothing rests on timing; the test checks that most were.
#
#   prove -I t/lib t/103-head-trickle.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/103-head-trickle.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use IO::Socket::INET ();
use IO::Select ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use POSIX ();
use Time::HiRes ();

my $Prefix = 4 * 1024 * 1024;
my $Tail = 1000;      # bytes of the trickled header value
my $MaxRatio = 10;

my $s = Test::MoongateProc->new(name => 'trickle', workers => 1,
    http => "    large_client_header_buffers 16 1m;\n    client_header_timeout 30s;\n",
    server => qq{        location / { return 200 "ok\\n"; }\n});
ok($s->start, 'the server starts') or stop_here();
my ($w) = $s->wait_workers(1);
ok($w, 'one worker') or stop_here();

my $Sched = -r "/proc/$w/schedstat";
my $Tick = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

sub cpu {    # the worker's CPU seconds so far
    if ($Sched) {
        my ($ns) = split ' ', slurp("/proc/$w/schedstat");
        return $ns / 1e9;
    }
    my @f = split ' ', (slurp("/proc/$w/stat") =~ /\)\s+(.*)/s)[0];
    return ($f[11] + $f[12]) / $Tick;
}

sub runs {    # how many times the worker was scheduled in
    return undef unless $Sched;
    return (split ' ', slurp("/proc/$w/schedstat"))[2];
}

sub asleep { (slurp("/proc/$w/stat") =~ /\)\s+(\S)/)[0] eq 'S' }

# after a send: wait until the worker has run (and read) and sleeps again; 1 when seen
sub consumed {
    my $before = shift;
    return Time::HiRes::sleep(0.001) && 0 unless $Sched;
    return wait_for(sub { runs() != $before && asleep() }, 10) ? 1 : 0;
}

sub send_all {
    my ($sock, $data) = @_;
    for (my $off = 0; $off < length $data;) {
        my $n = syswrite($sock, $data, length($data) - $off, $off);
        die "send: $!" unless defined $n;
        $off += $n;
    }
}

# One head: $prefix bytes of header lines, then the tail, byte by byte when $trickle. Stops
# early once the CPU spent passes $limit (the old parser would take seconds). Returns the
# worker's CPU seconds, the status (or 'stopped') and how many bytes were seen read alone.
sub head {
    my ($prefix, $trickle, $limit) = @_;
    my $head = "GET / HTTP/1.1\r\nHost: localhost\r\n";
    my $i = 0;
    $head .= sprintf("X-Pad-%05d: %s\r\n", $i++, 'a' x 16000) while length $head < $prefix;
    my $tail = "X-Tail: " . ('t' x $Tail) . "\r\n\r\n";
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port,
                                     Proto => 'tcp', Timeout => 5) or die "connect: $!";
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    wait_for(\&asleep, 10);
    my $c0 = cpu();
    my $alone = 0;
    if (!$trickle) {
        send_all($sock, $head . $tail);
    } else {
        my $r = runs();
        send_all($sock, $head);
        consumed($r);
        for my $k (0 .. length($tail) - 2) {
            $r = runs();
            send_all($sock, substr($tail, $k, 1));
            $alone += consumed($r);
            if ($limit && $k % 50 == 0 && cpu() - $c0 > $limit) {
                return (cpu() - $c0, 'stopped', $alone);
            }
        }
        send_all($sock, substr($tail, -1));
    }
    my $resp = '';
    my $sel = IO::Select->new($sock);
    while ($resp !~ /\r\n\r\n/ && $sel->can_read(10)) {
        last unless sysread($sock, $resp, 4096, length $resp);
    }
    my $c = cpu() - $c0;
    close $sock;
    return ($c, $resp =~ m{^HTTP/1\.1 (\d+)} ? $1 : 'none', $alone);
}

# the first big head also pays for the worker's first use of that much memory: not counted
my (undef, $warm_status) = head($Prefix, 0);
is($warm_status, 200, 'warm-up: 4 MB and the tail at once: 200');
my ($a0, $a0_status) = head($Prefix, 0);
is($a0_status, 200, 'A0: 4 MB and the tail at once: 200');
my ($b1, $b1_status, $b1_alone) = head(1024, 1);
is($b1_status, 200, 'B1: 1 KB, then the tail byte by byte: 200');
my ($a1, $a1_status, $a1_alone) = head($Prefix, 1, $a0 + $MaxRatio * $b1 + 0.05);
is($a1_status, 200, 'A1: 4 MB, then the tail byte by byte: 200');
diag($s->log_tail) if grep { $_ ne 200 } $warm_status, $a0_status, $b1_status, $a1_status;

my $pieces = length("X-Tail: ") + $Tail + 3;
SKIP: {
    skip 'no /proc/PID/schedstat: reads paced by 1 ms sleeps', 1 unless $Sched;
    ok($b1_alone >= 0.9 * $pieces && $a1_alone >= 0.9 * $pieces,
       "the tail bytes were read one by one ($b1_alone and $a1_alone of $pieces)");
}
my $ratio = ($a1 - $a0) / ($b1 > 0.001 ? $b1 : 0.001);
ok($ratio < $MaxRatio, sprintf('~%d reads after 4 MB cost about what they cost after 1 KB: '
                               . '(A1 %.3fs - A0 %.3fs) / B1 %.3fs = %.2f < %d',
                               $pieces, $a1, $a0, $b1, $ratio, $MaxRatio));

$s->stop;
Test::More::done_testing();
