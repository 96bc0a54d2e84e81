# accept_mutex: the workers take turns at accepting. Observable: while the workers idle,
# the one holding the lock takes every new connection (the others try again only every
# accept_mutex_delay); killed while it holds the lock, the others take over at their next
# try (no connection waits for a dead holder); -t checks the arguments.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/207-accept-mutex.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;

plan 'no_plan';

sub pids_of_requests {
    my ($s, $n) = @_;
    my %pids;
    for (1 .. $n) {
        my $r = http_get($s->port, '/pid');
        return undef unless ($r->{status} // 0) == 200;
        $pids{$r->{body}}++;
    }
    return \%pids;
}

# A worker has made its first try at the lock once it sleeps in epoll_wait (it tries before
# it first waits for events). One that started late under load and tried only while the
# holder had let go between two accepts would take the lock away mid-test.
sub all_waiting {
    my @pids = @_;
    return wait_for(sub {
        for my $p (@pids) {
            open my $fh, '<', "/proc/$p/wchan" or return 0;
            my $w = <$fh> // '';
            return 0 unless $w =~ /epoll_wait/;
        }
        return 1;
    }, 10);
}

# a long delay: a worker that did not get the lock at start does not try again in this test
my $s = Test::MoongateProc->new(name => 'held', workers => 3,
    events => "    accept_mutex on;\n    accept_mutex_delay 30s;",
    server => 'location /pid { return 200 "$pid"; }');
my $m = $s->start;
ok($m, 'a master with 3 workers and accept_mutex on starts') or exit;
my @w = $s->wait_workers(3);
ok(all_waiting(@w), 'the 3 workers have tried the lock and wait for events');
my $pids = pids_of_requests($s, 30);
ok($pids, '30 requests on new connections are answered') or diag(slurp($s->error_log));
is(scalar(keys %$pids), 1, 'all by the worker holding the accept mutex')
    or diag(join ' ', %$pids);
my ($code, $out, $err) = $s->reload;
is($code, 0, 'a reload') or diag("$out$err");
my %old = map { $_ => 1 } @w;
my @new = $s->wait_workers(3, all => 0);
$pids = pids_of_requests($s, 10);
ok($pids && !grep({ $old{$_} } keys %$pids), "the new generation's workers take the new connections, through their own lock")
    or diag(join ' ', %{ $pids || {} });
$s->stop;

# a short delay: the holder killed, another worker takes the lock at its next try
my $k = Test::MoongateProc->new(name => 'killed', workers => 2,
    events => "    accept_mutex on;\n    accept_mutex_delay 100ms;",
    server => 'location /pid { return 200 "$pid"; }');
ok($k->start, 'a master with 2 workers, accept_mutex_delay 100ms') or exit;
$k->wait_workers(2);
my $holder = http_get($k->port, '/pid')->{body};
like($holder, qr/^\d+$/, 'the holder answers');
kill 'KILL', $holder;
wait_for(sub { !proc_alive($holder) }, 5);
for my $i (1 .. 5) {
    my $r = http_get($k->port, '/pid', timeout => 5);
    is($r->{status}, 200, "request $i after the holder was killed is answered");
    isnt($r->{body}, $holder, '... by another worker');
}
$k->stop;

# ---------------------------------------------------------------------------
# -t verdicts
my $t = Test::MoongateProc->new(name => 'verdicts', workers => 1);
for my $c (['accept_mutex maybe;', qr/invalid value "maybe" in "accept_mutex" directive, it must be "on" or "off" in /],
           ['accept_mutex_delay soon;', qr/"accept_mutex_delay" directive invalid value in /],
           ['accept_mutex on; accept_mutex_delay 1s;', undef]) {
    $t->write_conf(events => "    $c->[0]");
    my ($code, $out, $err) = $t->cmd('-t');
    if ($c->[1]) {
        isnt($code, 0, "-t refuses \"$c->[0]\"");
        like($err, qr/\[emerg\] .*$c->[1].*\.conf:\d+$/m, "... in nginx's words") or diag($err);
    } else {
        is($code, 0, "-t takes \"$c->[0]\"") or diag($err);
    }
}
