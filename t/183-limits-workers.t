# limit_req, limit_conn and stub_status with a real master and 4 workers: a limit_req bucket
# that lets exactly burst + 1 requests through however the load spreads over the workers, a
# limit_conn count exact under requests held at once in several workers, stub_status counting
# every worker's connections and requests, and HUP: the same zone keeps its buckets and the
# counters go on, a resized zone keeps its clients' state (nginx: starts empty), a zone whose
# key changed refuses the reload.
#
#   prove -I t/lib t/183-limits-workers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/183-limits-workers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;
use IO::Socket::INET ();
use IO::Select ();

my $s = Test::MoongateProc->new(name => 'limits', workers => 4);
my $server = <<'EOF';
        add_header X-Pid $pid always;
        location /lr { limit_req zone=rq burst=99 nodelay; try_files /index.html =404; }
        location /lc { limit_conn cn 8; proxy_pass http://127.0.0.1:9; }
        location /st { stub_status; }
EOF
sub conf {
    my ($rq_size, $rq_key) = @_;
    $s->write_conf(server => $server,
                   http => "    limit_req_zone $rq_key zone=rq:$rq_size rate=1r/m;\n"
                         . "    limit_conn_zone \$arg_k zone=cn:1m;\n");
}
conf('1m', '$arg_k');

sub status_of { my $r = http_get($s->port, $_[0], timeout => 5); return $r->{status} // 'none' }

# the stub_status numbers: (active, accepts, handled, requests, reading, writing, waiting)
sub numbers {
    my $r = http_get($s->port, '/st', timeout => 5);
    return ($r->{body} // '') =~ /^Active connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+) \nReading: (\d+) Writing: (\d+) Waiting: (\d+) \n$/;
}

my $m = $s->start;
ok($m, 'started with 4 workers') or stop_here();
my @w1 = $s->wait_workers(4);

# ---------------------------------------------------------------------------
# limit_req: 100 through, exactly, from 32 connections at once, a new one per request

my $mark = $s->log_mark;
my $load = load_start(port => $s->port, path => '/lr?k=x', conns => 32, keepalive => 0,
                      max_duration => 30);
ok($load->wait_requests(600, 20), '600 requests answered');
my $res = $load->finish;
is($res->{ok}, 100, 'exactly burst + 1 passed across the workers')
    or diag(Test::MoongateProc::Load->summary($res));
is($res->{failed}, ($res->{errors}{status_503} // -1), 'every other one was a 503');
my %pids = map { $_ => 1 } $s->log_since($mark) =~ /\[error\] (\d+)#\d+: \*\d+ limiting requests/g;
ok(keys(%pids) >= 2, 'refused by several workers (' . join(',', sort keys %pids) . ')');

# ---------------------------------------------------------------------------
# limit_conn: 20 requests held at once, 8 of them get in

sub connect_one {
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, Timeout => 3);
}
sub hold_many {
    my ($n) = @_;
    my @c = map { connect_one() } 1 .. $n;
    syswrite($_, "POST /lc?k=y HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n"
                 . "Expect: 100-continue\r\n\r\n") for @c;
    my (%st, @held);
    for my $c (@c) {
        my $sel = IO::Select->new($c);
        my $got = '';
        my $deadline = Time::HiRes::time() + 5;
        while ($got !~ /\r\n\r\n/ && Time::HiRes::time() < $deadline) {
            $sel->can_read(0.5) or next;
            sysread($c, my $buf, 4096) or last;
            $got .= $buf;
        }
        my ($code) = $got =~ m{^HTTP/1\.1 (\d+)};
        $st{$code // 'none'}++;
        push @held, $c if ($code // 0) == 100;
    }
    return (\%st, \@held);
}
my ($st, $held) = hold_many(20);
is(join(',', map { "$_=$st->{$_}" } sort keys %$st), '100=8,503=12',
   '8 requests in progress, 12 refused');
close $_ for @$held;
ok(wait_for(sub { my @n = numbers(); @n && $n[5] == 1 }, 10), 'the held requests ended');
($st, $held) = hold_many(12);
is(join(',', map { "$_=$st->{$_}" } sort keys %$st), '100=8,503=4',
   'their counts were given back in every worker');
close $_ for @$held;
ok(wait_for(sub { my @n = numbers(); @n && $n[5] == 1 }, 10), 'and these ended too');

# ---------------------------------------------------------------------------
# stub_status: every worker's connections and requests

my @a = numbers();
is(scalar(@a), 7, "stub_status answers nginx's text");
# 100 requests, a new connection each, and more (up to 2000) until two workers have served
# some: which worker accepts is the kernel's choice, and a slow machine (ASan) can give one
# worker a long run of them
my %served;
my $sent = 0;
while ($sent < 100 || (keys(%served) < 2 && $sent < 2000)) {
    my $r = http_get($s->port, '/st', timeout => 5);
    $served{ $r->{headers}{'x-pid'} // '?' }++;
    $sent++;
}
my @b = numbers();
ok(keys(%served) >= 2, 'the requests went to several workers (' . join(',', sort keys %served) . ')');
my $n = $sent + 1;
is($b[1] - $a[1], $n, "accepts: every worker's $n new connections");
is($b[2] - $a[2], $n, 'handled: the same');
is($b[3] - $a[3], $n, "requests: every worker's $n requests");
is("$b[0] $b[4] $b[5]", '1 0 1', 'one connection left, writing its own answer');

# ---------------------------------------------------------------------------
# HUP with the same zones: buckets and counters go on

is(status_of('/lr?k=x'), 503, 'key x is still over its burst');
$s->signal('HUP');
ok(wait_gone(10, @w1), 'the old workers are gone after HUP');
my @w2 = $s->wait_workers(4);
is(scalar(@w2), 4, 'four new workers');
is(status_of('/lr?k=x'), 503, 'same zone: the bucket survived the reload');
is(status_of('/lr?k=z'), 200, 'other keys pass');
my @c = numbers();
ok($c[1] > $b[1] && $c[3] > $b[3], "the counters went on ($b[1] -> $c[1] accepts)");

# a new size: nginx starts a new, empty zone; moongate copies the clients' state into it
conf('2m', '$arg_k');
$s->signal('HUP');
ok(wait_gone(10, @w2), 'a HUP with the zone resized');
my @w3 = $s->wait_workers(4);
if (is_nginx()) {
    is(status_of('/lr?k=x'), 200, 'resized: key x starts over');
    is(status_of('/lr?k=x'), 200, 'with its burst');
} else {
    is(status_of('/lr?k=x'), 503, 'resized: key x is still over its burst (copied)');
    is(status_of('/lr?k=y'), 200, 'other keys pass');
}

# the same name and size bound to another key: the reload is refused, the old config serves
$mark = $s->log_mark;
conf('2m', '$arg_j');
$s->signal('HUP');
ok($s->wait_log(qr/limit_req "rq" uses the "\$arg_j" key while previously it used the "\$arg_k" key/, $mark, 10),
   "a changed key on a kept zone: nginx's error")
    or diag($s->log_tail);
is(join(',', sort { $a <=> $b } $s->worker_pids), join(',', sort { $a <=> $b } @w3),
   'the workers stay');
is(status_of('/lr?k=w'), 200, 'and the old configuration serves');

ok($s->stop, 'stopped');
done_testing();
