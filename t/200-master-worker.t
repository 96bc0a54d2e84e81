# The master/worker model (issue 4): a master and worker_processes N workers with nginx's
# process titles, worker_processes auto, a killed worker respawned (and the cause logged),
# TERM stops everything at once, QUIT waits for a slow in-flight request; the pid file goes
# at exit.  Written against Debian's nginx (TEST_MOONGATE_BINARY=/usr/sbin/nginx): every check
# here is nginx's own behaviour.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use POSIX ();

my $N = proc_name;
my $Big = 24 * 1024 * 1024;      # more than the socket buffers hold: a slow reader keeps it in flight

sub logged_line_re {             # the error log line format: date time [level] pid#tid: text
    my ($level, $pid, $text) = @_;
    return qr/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[$level\] $pid#\d+: $text$/m;
}

# ---------------------------------------------------------------------------
# a master and two workers

my $s = Test::MoongateProc->new(name => 'mw', workers => 2,
    server => qq{location / { return 200 "mw \$pid\\n"; }\n location /big { }});
spew($s->html . '/big', 'x' x $Big);
chmod 0644, $s->html . '/big';

my $m = $s->start;
ok($m, 'master_process on, daemon on: the master runs and writes its pid file') or stop_here();
like(proc_title($m), qr/^\Q$N\E: master process \Q$s->{binary}\E -p /,
     "the master's title: \"$N: master process\" and its command line");
my @w = $s->workers($m);
is(scalar @w, 2, 'worker_processes 2: two children');
is_deeply([map { $_->[1] } @w], ["$N: worker process", "$N: worker process"],
          "their titles are \"$N: worker process\"");
is(scalar(children_of($m)), 2, 'the master has no other children');
SKIP: {
    skip 'not root: no user switch', 2 if $> != 0;
    my @uids = map { (slurp("/proc/$_->[0]/status") =~ /^Uid:\s+(\d+)/m)[0] } @w;
    my $nobody = getpwnam('nobody');
    is_deeply(\@uids, [$nobody, $nobody], 'started as root: the workers run as nobody');
    is((slurp("/proc/$m/status") =~ /^Uid:\s+(\d+)/m)[0], 0, 'the master stays root');
}
my $r = http_get($s->port, '/');
is($r->{status}, 200, 'a worker serves');
my ($served) = ($r->{body} // '') =~ /^mw (\d+)\n\z/;
ok($served && grep({ $_->[0] == $served } @w), 'the request was served by one of the workers ($pid)');
ok($served && $served != $m, 'not by the master');

my $log = slurp($s->error_log);
like($log, logged_line_re('notice', $m, 'start worker processes'), 'logged: start worker processes');
for my $wp (map { $_->[0] } @w) {
    like($log, logged_line_re('notice', $m, "start worker process $wp"),
         "logged: start worker process $wp");
}

# ---------------------------------------------------------------------------
# a worker killed with SIGKILL is respawned

my $mark = $s->log_mark;
my $victim = $w[0][0];
kill 'KILL', $victim;
ok(wait_gone(5, $victim), 'the killed worker is gone');
my @w2 = $s->wait_workers(2);
is(scalar @w2, 2, 'two workers again');
ok(!grep({ $_ == $victim } @w2), 'the victim is not among them');
ok(grep({ $_ == $w[1][0] } @w2), 'the other worker was left alone');
my ($new) = grep { $_ != $w[1][0] } @w2;
ok($s->wait_log(logged_line_re('alert', $m, "worker process $victim exited on signal 9"), $mark),
   "[alert] worker process $victim exited on signal 9");
like($s->log_since($mark), logged_line_re('notice', $m, "signal 17 \\(SIGCHLD\\) received from $victim"),
     'the SIGCHLD is logged with the sender');
ok($new && $s->wait_log(logged_line_re('notice', $m, "start worker process $new"), $mark),
   "start worker process $new (the respawn)");
is(proc_title($new // 0), "$N: worker process", 'the respawned worker has the title');
is(http_get($s->port, '/')->{status}, 200, 'still serves');

# a crash (SIGSEGV) is respawned the same way
$mark = $s->log_mark;
my ($v2) = grep { $_ != $w[1][0] } @w2;
kill 'SEGV', $v2;
ok(wait_gone(5, $v2), 'a worker killed by SIGSEGV is gone');
is(scalar($s->wait_workers(2)), 2, 'and respawned');
ok($s->wait_log(qr/\[alert\] $m#\d+: worker process $v2 exited on signal 11(?: \(core dumped\))?$/m, $mark),
   "[alert] worker process $v2 exited on signal 11");

# ---------------------------------------------------------------------------
# QUIT: graceful; a slow in-flight response completes, then everything exits

my $slow = slow_get($s->port, '/big');
ok($slow && $slow->status == 200, 'a large response started') or diag($s->log_tail);
my @all = $s->all_pids;
$mark = $s->log_mark;
$s->signal('QUIT', $m);
ok($s->wait_log(logged_line_re('notice', $m, "signal 3 \\(SIGQUIT\\) received from $$, shutting down"), $mark),
   'logged: signal 3 (SIGQUIT) received from <sender>, shutting down');
ok($s->wait_log(qr/\[notice\] \d+#\d+: gracefully shutting down$/m, $mark),
   'a worker: gracefully shutting down');
# the idle worker exits (under ASan its exit, with the leak check, takes long: it is not told
# from the busy one by its title, which both have for a while, but by going away)
my $draining = wait_for(sub {
    my @w = $s->workers($m);
    @w == 1 ? $w[0][0] : 0;
}, 15);
ok($draining, 'the idle worker exits')
    or diag(join(', ', map { "@$_" } children_of($m)) . "\n" . $s->log_tail);
# the busy worker takes the QUIT when its loop next turns (on a loaded machine, after the
# idle one has gone): its new title is awaited, bounded
wait_for(sub { (proc_title($draining || 0) // '') eq "$N: worker process is shutting down" }, 10);
is(proc_title($draining || 0), "$N: worker process is shutting down",
   "the worker with the response in flight: \"$N: worker process is shutting down\"");
ok(proc_alive($m) && proc_alive($draining), 'the master and the busy worker wait for the response');
ok(-e $s->pid_file, 'the pid file stays while the master waits');
my $res = $slow->finish(30);
is($res->{body_len}, $Big, 'the in-flight response completes in full') or diag(join(', ', map { "$_=" . ($res->{$_} // 'undef') } sort grep { $_ ne 'body' } keys %$res));
ok(wait_gone(10, @all), 'then every process exits');
ok(!-e $s->pid_file, 'the master removed the pid file');
like($s->log_since($mark), logged_line_re('notice', $m, 'exit'), 'the master logs "exit"');

# ---------------------------------------------------------------------------
# TERM: fast; an in-flight response is cut

$m = $s->start;
ok($m, 'started again') or stop_here();
$slow = slow_get($s->port, '/big');
ok($slow && $slow->status == 200, 'a large response started');
@all = $s->all_pids;
is(scalar @all, 3, 'a master and two workers');
$mark = $s->log_mark;
$s->signal('TERM', $m);
ok(wait_gone(5, @all), 'TERM: every process exits without waiting for the response');
$res = $slow->finish(10);
cmp_ok($res->{body_len}, '<', $Big, 'the response was cut');
ok(!-e $s->pid_file, 'TERM: the pid file is removed');
like($s->log_since($mark), logged_line_re('notice', $m, "signal 15 \\(SIGTERM\\) received from $$, exiting"),
     'logged: signal 15 (SIGTERM) received from <sender>, exiting');
like($s->log_since($mark), logged_line_re('notice', $m, 'exit'), 'the master logs "exit"');

# ---------------------------------------------------------------------------
# worker_processes auto: one per online CPU

my ($ncpu) = (run_cmd('getconf', '_NPROCESSORS_ONLN'))[1] =~ /(\d+)/;
$ncpu ||= 1;
my $a = Test::MoongateProc->new(name => 'auto', workers => 'auto',
                                server => 'location / { return 200 "auto\n"; }');
my $am = $a->start(workers => $ncpu);
ok($am, "worker_processes auto: the master starts $ncpu workers") or diag($a->log_tail);
is(scalar($a->workers($am)), $ncpu, "worker_processes auto = $ncpu (online CPUs)");
is(http_get($a->port, '/')->{body}, "auto\n", 'and serves');
my @aall = $a->all_pids;
$a->signal('QUIT', $am);
ok(wait_gone(5, @aall), 'QUIT with nothing in flight: every process exits at once');
ok(!-e $a->pid_file, 'pid file removed');

# ---------------------------------------------------------------------------
# worker_processes 0: nginx accepts it and runs a master that starts no worker; the listening
# socket exists (a connection waits in its queue), nothing answers, and a reload or QUIT works

my $z = Test::MoongateProc->new(name => 'zero', workers => 0,
                                server => 'location / { return 200 "zero\n"; }');
my $zm = $z->start(workers => 0, no_worker => 1);
ok($zm, 'worker_processes 0: the master starts') or diag($z->log_tail);
is(scalar(children_of($zm)), 0, 'and has no child');
my $zr = http_get($z->port, '/', timeout => 1);
ok(!defined $zr->{status}, 'a connection is not refused but never answered');
ok(!tcp_refused($z->port), 'the port listens');
$mark = $z->log_mark;
$z->signal('HUP', $zm);
ok($z->wait_log(qr/start worker processes/, $mark), "a HUP reloads (\"start worker processes\" again)");
is(scalar(children_of($zm)), 0, 'still no child after the reload');
if (is_nginx()) {
    # nginx 1.22's master waits on QUIT and TERM for a SIGCHLD that never comes when it has
    # no worker: only SIGKILL ends it. moongate's exits.
    kill 'KILL', $zm;
    ok(wait_gone(5, $zm), 'SIGKILL ends nginx\'s master');
} else {
    $z->signal('QUIT', $zm);
    ok(wait_gone(5, $zm), 'QUIT: the master exits');
}

Test::More::done_testing();
