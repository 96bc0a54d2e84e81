# stream {}: bad input gets nginx's answer and log line and the worker keeps serving: PROXY
# protocol headers that are garbage (v1 and v2), one that never completes
# (proxy_protocol_timeout), an upstream that half-closes (with and without proxy_half_close),
# and a UDP flood from many source ports. Passes on Debian's nginx too.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();
use File::Temp ();

my $tmp = File::Temp::tempdir('stream-bad-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# a TCP server: reads a line, answers "got LINE", shuts its write side, then writes what
# else it reads until EOF to $tmp/after.PID (its child's pid)
sub half_close_server {
    my $n = 0;
    return tcp_server(sub {
        my $c = shift;
        my $line = '';
        while (sysread($c, my $ch, 1)) { $line .= $ch; last if $ch eq "\n" }
        syswrite($c, "got $line");
        shutdown($c, 1);
        my $rest = '';
        while (sysread($c, my $b, 65536)) { $rest .= $b }
        my $f = "$tmp/after.$$";
        open my $fh, '>', "$f.tmp" or return;
        print $fh $rest;
        close $fh;
        rename "$f.tmp", $f;
    });
}

my $half = half_close_server();
my $uecho = udp_server(sub { $_[0] });
my @p = map { Test::Moongate::find_free_port() } 1 .. 6;
my $s = Test::MoongateProc->new(name => 'bad', workers => 1, error_level => 'info');
$s->write_conf(stream => <<"EOF");
    server { listen 127.0.0.1:$p[0] proxy_protocol; proxy_protocol_timeout 1s;
             return "ok \$proxy_protocol_addr\\n"; }
    server { listen 127.0.0.1:$p[1]; proxy_pass 127.0.0.1:$half; }
    server { listen 127.0.0.1:$p[2]; proxy_pass 127.0.0.1:$half; proxy_half_close on; }
    server { listen 127.0.0.1:$p[3] udp; proxy_pass 127.0.0.1:$uecho; proxy_responses 1;
             proxy_timeout 5s; }
EOF
$s->start or stop_here('the server did not start');
my @w0 = $s->worker_pids;

# ---- PROXY protocol garbage ----
{
    my $mark = $s->log_mark;
    my ($got, $eof) = exchange($p[0], "GET / HTTP/1.0\r\n\r\n");
    is($got, '', 'no PROXY header at all: nothing sent back');
    ok($eof, 'no PROXY header at all: closed');
    ok($s->wait_log(qr/\[error\] .*broken header: "GET \/ HTTP\/1\.0/, $mark),
       'error_log: broken header, with the bytes');

    # v2: the signature, then version 2 PROXY over TCP4 announcing 4 address bytes (12 needed)
    my $sig = "\r\n\r\n\0\r\nQUIT\n";
    $mark = $s->log_mark;
    ($got, $eof) = exchange($p[0], $sig . pack('CCn', 0x21, 0x11, 4) . "\x7f\0\0\1");
    is($got, '', 'PROXY v2 with short addresses: nothing sent back');
    ok($eof, 'PROXY v2 with short addresses: closed');

    # v2 with a version nibble of 3
    ($got, $eof) = exchange($p[0], $sig . pack('CCn', 0x31, 0x11, 12) . ("\0" x 12));
    is($got, '', 'PROXY v2 with an unknown version: nothing sent back');
    ok($eof, 'PROXY v2 with an unknown version: closed');
    ok($s->wait_log(qr/\[error\] .*unknown PROXY protocol version: 3 while reading PROXY protocol/, $mark),
       'error_log: unknown PROXY protocol version');

    # v2 LOCAL: no addresses, the connection's own are kept
    ($got) = exchange($p[0], $sig . pack('CCn', 0x20, 0x00, 0));
    is($got, "ok \n", 'PROXY v2 LOCAL: accepted, no proxy address');

    # a correct v2 header is still read after all that
    ($got) = exchange($p[0], $sig . pack('CCn', 0x21, 0x11, 12) . pack('C4C4nn', 192, 0, 2, 5, 10, 0, 0, 1, 1234, 80));
    is($got, "ok 192.0.2.5\n", 'PROXY v2 TCP4: the address read');
}

# ---- a header that never comes ----
{
    my $mark = $s->log_mark;
    my $t0 = Time::HiRes::time();
    my ($got, $eof) = exchange($p[0], '', timeout => 10);
    my $took = Time::HiRes::time() - $t0;
    is($got, '', 'no PROXY header sent: nothing sent back');
    ok($eof, 'no PROXY header sent: closed by the server');
    ok($took >= 0.8 && $took < 8, "proxy_protocol_timeout 1s: closed after it (${took}s)");
    ok($s->wait_log(qr/\[info\] .*client timed out \(110: Connection timed out\) while reading PROXY protocol, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[0]/, $mark),
       'error_log: client timed out while reading PROXY protocol');
}

# ---- an upstream that half-closes ----
{
    # without proxy_half_close the session ends once the peer's EOF is passed on
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p[1]", Timeout => 5) or die $!;
    syswrite($c, "one\n");
    my $sel = IO::Select->new($c);
    my ($got, $eof) = ('', 0);
    my $end = Time::HiRes::time() + 5;
    while (!$eof && $sel->can_read($end - Time::HiRes::time())) {
        my $n = sysread($c, my $b, 4096);
        $n ? ($got .= $b) : ($eof = 1);
    }
    is($got, "got one\n", 'upstream half-close: its answer arrives');
    ok($eof, 'upstream half-close without proxy_half_close: the client gets EOF');

    # with proxy_half_close: the client gets the EOF and may still send, which the peer reads
    $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p[2]", Timeout => 5) or die $!;
    syswrite($c, "two\n");
    $sel = IO::Select->new($c);
    ($got, $eof) = ('', 0);
    $end = Time::HiRes::time() + 5;
    while (!$eof && $sel->can_read($end - Time::HiRes::time())) {
        my $n = sysread($c, my $b, 4096);
        $n ? ($got .= $b) : ($eof = 1);
    }
    is($got, "got two\n", 'proxy_half_close: the answer arrives');
    ok($eof, 'proxy_half_close: the peer\'s EOF reaches the client');
    syswrite($c, "after the end\n");
    shutdown($c, 1);
    my @after;
    wait_for(sub { @after = grep { -s $_ } glob("$tmp/after.*"); @after >= 1 }, 5);
    my %texts = map { (slurp($_)) => 1 } glob("$tmp/after.*");
    ok($texts{"after the end\n"}, 'proxy_half_close: what the client sent after the EOF reached the peer');
    close $c;
}

# ---- a UDP flood from many source ports ----
# in waves of 50 datagrams, each from a port of its own: a wave fits the listening socket's
# receive buffer, so every one must be answered
{
    my ($n, $ok) = (400, 0);
    for my $wave (0 .. $n / 50 - 1) {
        my @socks = map {
            IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[3]") or die "udp: $!"
        } 1 .. 50;
        send($socks[$_], "d$wave.$_", 0) for 0 .. $#socks;
        my $sel = IO::Select->new(@socks);
        my %got;
        my $end = Time::HiRes::time() + 10;
        while (keys %got < 50 && (my $left = $end - Time::HiRes::time()) > 0) {
            for my $u ($sel->can_read($left)) {
                recv($u, my $d, 100, 0);
                $got{$d} = 1;
            }
        }
        $ok += grep { $got{"d$wave.$_"} } 0 .. 49;
        close $_ for @socks;
    }
    is($ok, $n, "udp flood: $ok of $n sessions from distinct ports answered");

    # one port, question after answer: each answer ends its session (proxy_responses 1) and
    # the next datagram, arriving at once, starts a new one
    my $one = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[3]") or die $!;
    my $sel = IO::Select->new($one);
    my $answered = 0;
    for my $i (1 .. 300) {
        send($one, "q$i", 0);
        last unless $sel->can_read(3);
        recv($one, my $d, 100, 0);
        $answered++ if $d eq "q$i";
    }
    is($answered, 300, 'udp: 300 back-to-back sessions from one port, each answered');
    my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[3]") or die $!;
    send($u, "after", 0);
    my $ans = '';
    recv($u, $ans, 100, 0) if IO::Select->new($u)->can_read(5);
    is($ans, 'after', 'udp flood: the worker still answers');
}

is_deeply([$s->worker_pids], \@w0, 'the same worker served it all (none died)');
my $crit = grep { /\[(alert|crit|emerg)\]/ } split /\n/, slurp($s->error_log);
is($crit, 0, 'no alert, crit or emerg line in the error log');

$s->stop;
done_testing();
