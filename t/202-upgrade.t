# Binary upgrade on the fly, as the seed documents walk through it (issue 4): USR2 renames the
# pid file to <pid>.oldbin and starts a new master (a child of the old one, the binary on disk)
# with its own workers, both serve; WINCH retires the old workers; QUIT the old master.  Both
# rollbacks: HUP to the old master (workers back) + QUIT to the new one; TERM to the new one and
# the old master restores its pid file and respawns its workers by itself.  `make upgrade`.
# The process tree and the pid files are checked at each step.  A copy of the binary under
# t/servroot is run (an upgrade execs the file on disk).  Passes against Debian's nginx
# (TEST_MOONGATE_BINARY=/usr/sbin/nginx), except `make upgrade`, which is moongate's.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;

my $N = proc_name;

sub new_server {
    my $name = shift;
    my $s = Test::MoongateProc->new(name => $name, workers => 2,
                                    server => qq{location / { return 200 "up \$pid\\n"; }});
    $s->use_binary_copy;
    return $s;
}

# the worker pids that served new connections, until every pid in @$want showed up
# new connections until each group of workers (an array of pid lists) served at least one;
# which worker of a group wins an accept is the kernel's choice, so only groups are asked for
sub served_by {
    my ($s, $groups, $timeout) = @_;
    my %seen;
    wait_for(sub {
        my $r = http_get($s->port, '/', timeout => 2);
        $seen{$1}++ if ($r->{body} // '') =~ /^up (\d+)\n\z/;
        !grep { my $g = $_; !grep { $seen{$_} } @$g } @$groups;
    }, $timeout // 5);
    return \%seen;
}

sub serves_only {                   # 20 new connections, each served by one of @$pids
    my ($s, $pids) = @_;
    my %ok = map { $_ => 1 } @$pids;
    for (1 .. 20) {
        my $r = http_get($s->port, '/', timeout => 3);
        my ($p) = ($r->{body} // '') =~ /^up (\d+)\n\z/;
        return "request $_: " . ($p ? "served by $p" : $r->{error} // "status $r->{status}")
            unless $p && $ok{$p};
    }
    return '';
}

# USR2 to the running master; returns (old master, new master, old workers, new workers)
sub usr2 {
    my ($s, $label) = @_;
    my $m0 = $s->pid;
    my @w0 = $s->worker_pids($m0);
    my $mark = $s->log_mark;
    my $m1 = $s->usr2($m0);
    ok($m1, "$label: USR2: the pid file names a new master, $N.pid.oldbin the old one")
        or return;
    is(slurp($s->oldbin_file), "$m0\n", "$label: $N.pid.oldbin holds the old master's pid");
    is(proc_ppid($m1), $m0, "$label: the new master is a child of the old one");
    like(proc_title($m1), qr/^\Q$N\E: master process \Q$s->{binary}\E /,
         "$label: its title: \"$N: master process\" with the binary on disk");
    my @w1 = $s->wait_workers(2, master => $m1);
    is(scalar @w1, 2, "$label: the new master has its own two workers");
    is_deeply([sort { $a <=> $b } $s->worker_pids($m0)], [sort { $a <=> $b } @w0],
              "$label: the old workers still run");
    is(scalar(children_of($m0)), 3, "$label: the old master has three children: two workers and the new master");
    my $l = $s->log_since($mark);
    like($l, qr/\[notice\] $m0#\d+: signal 12 \(SIGUSR2\) received from $$, changing binary$/m,
         "$label: logged: signal 12 (SIGUSR2) received from <sender>, changing binary");
    like($l, qr/\[notice\] $m0#\d+: start new binary process $m1$/m,
         "$label: logged: start new binary process $m1");
    return ($m0, $m1, \@w0, \@w1);
}

sub winch {
    my ($s, $label, $m0, $w0) = @_;
    my $mark = $s->log_mark;
    $s->signal('WINCH', $m0);
    ok(wait_gone(5, @$w0), "$label: WINCH: the old workers exit");
    ok(proc_alive($m0), "$label: the old master stays");
    is(scalar(children_of($m0)), 1, "$label: its only child is the new master");
    like($s->log_since($mark),
         qr/\[notice\] $m0#\d+: signal 28 \(SIGWINCH\) received from $$, stop accepting connections$/m,
         "$label: logged: signal 28 (SIGWINCH) received from <sender>, stop accepting connections");
}

# ---------------------------------------------------------------------------
# the complete upgrade: USR2, WINCH, QUIT

{
    my $s = new_server('upgrade');
    ok($s->start, 'started from a copy of the binary') or stop_here();
    my ($m0, $m1, $w0, $w1) = usr2($s, 'upgrade') or stop_here('USR2 failed');
    my $seen = served_by($s, [$w0, $w1]);
    ok((grep { $seen->{$_} } @$w0) && (grep { $seen->{$_} } @$w1),
       'both masters\' workers serve new connections')
        or diag(join(', ', map { "$_ served $seen->{$_}" } sort keys %$seen));
    SKIP: {
        skip 'the upgrade state file is moongate\'s', 1
            if ($ENV{TEST_MOONGATE_BINARY} // '') =~ /nginx/;
        # a USR2 to the new master while its old master lives is ignored, and says why
        my $state = $s->pid_file . '.upgrade';
        $s->signal('USR2', $m1);
        ok(wait_for(sub { -e $state && slurp($state) =~
                          /^\d+ $m1 0 failed\nthe old master process $m0 has not exited yet$/m }, 5),
           'USR2 to the new master while the old one lives: ignored, the state file says why')
            or diag(-e $state ? slurp($state) : 'no state file');
    }
    winch($s, 'upgrade', $m0, $w0);
    is(serves_only($s, $w1), '', 'only the new workers serve');

    my $mark = $s->log_mark;
    $s->signal('QUIT', $m0);
    ok(wait_gone(5, $m0), 'QUIT: the old master exits');
    ok(!-e $s->oldbin_file, "$N.pid.oldbin is gone");
    is($s->pid, $m1, 'the pid file names the new master');
    ok(proc_alive($m1), 'the new master runs');
    is_deeply([$s->worker_pids($m1)], [sort { $a <=> $b } @$w1], 'with the same two workers');
    is(serves_only($s, $w1), '', 'and they serve');

    # the upgraded master is a full master: a reload and a second upgrade work
    my ($code, $out, $err) = $s->reload;
    is($code, 0, 'the upgraded master reloads') or diag("$out$err");
    ok(wait_gone(5, @$w1), 'its old workers go');
    is(scalar($s->wait_workers(2, master => $m1)), 2, 'new ones come');
    my ($m1b, $m2) = usr2($s, 'second upgrade');
    is($m1b, $m1, 'second upgrade: from the upgraded master');
    if ($m2) {
        $s->signal('QUIT', $m1);
        ok(wait_gone(5, $m1), 'second upgrade: QUIT to the old master, which exits (its workers too)');
        is($s->pid, $m2, 'second upgrade: the pid file names the newest master');
        ok(!-e $s->oldbin_file, "second upgrade: no $N.pid.oldbin");
    }
    my @all = $s->all_pids;
    $s->signal('QUIT', $s->pid);
    ok(wait_gone(10, @all), 'QUIT: everything exits');
    ok(!-e $s->pid_file && !-e $s->oldbin_file, 'no pid file left');
}

# ---------------------------------------------------------------------------
# rollback 1: USR2, WINCH old, HUP old (its workers come back), QUIT new

{
    my $s = new_server('rollback-hup');
    ok($s->start, 'rollback 1: started') or stop_here();
    my ($m0, $m1, $w0, $w1) = usr2($s, 'rollback 1') or stop_here('USR2 failed');
    winch($s, 'rollback 1', $m0, $w0);

    my $mark = $s->log_mark;
    $s->signal('HUP', $m0);
    my @w0b = $s->wait_workers(2, master => $m0);
    is(scalar @w0b, 2, 'rollback 1: HUP to the old master: two workers again');
    is(proc_title($_), "$N: worker process", "rollback 1: worker $_ title") for @w0b;
    ok(proc_alive($m1) && $s->worker_pids($m1) == 2, 'rollback 1: the new master and its workers still run');

    $s->signal('QUIT', $m1);
    ok(wait_gone(5, $m1, @$w1), 'rollback 1: QUIT to the new master: it and its workers exit');
    ok(wait_for(sub { ($s->pid // 0) == $m0 && !-e $s->oldbin_file }),
       "rollback 1: the old master has its pid file back, no $N.pid.oldbin");
    ok($s->wait_log(qr/\[notice\] $m0#\d+: new binary process $m1 exited with code 0$/m, $mark),
       "rollback 1: logged: new binary process $m1 exited with code 0");
    is_deeply([$s->worker_pids($m0)], [sort { $a <=> $b } @w0b], 'rollback 1: the old master keeps its two workers');
    is(serves_only($s, \@w0b), '', 'rollback 1: the old master\'s workers serve alone');
    my @all = $s->all_pids;
    $s->signal('QUIT', $m0);
    ok(wait_gone(10, @all), 'rollback 1: QUIT: everything exits');
    ok(!-e $s->pid_file, 'rollback 1: pid file removed');
}

# ---------------------------------------------------------------------------
# rollback 2: USR2, WINCH old, TERM new: the old master restores its pid file and respawns
# workers by itself

{
    my $s = new_server('rollback-term');
    ok($s->start, 'rollback 2: started') or stop_here();
    my ($m0, $m1, $w0, $w1) = usr2($s, 'rollback 2') or stop_here('USR2 failed');
    winch($s, 'rollback 2', $m0, $w0);

    my $mark = $s->log_mark;
    $s->signal('TERM', $m1);
    ok(wait_gone(5, $m1, @$w1), 'rollback 2: TERM to the new master: it and its workers exit');
    ok(wait_for(sub { ($s->pid // 0) == $m0 && !-e $s->oldbin_file }),
       "rollback 2: the old master restores its pid file, no $N.pid.oldbin");
    my @w0b = $s->wait_workers(2, master => $m0);
    is(scalar @w0b, 2, 'rollback 2: the old master starts two workers by itself');
    like($s->log_since($mark), qr/\[notice\] $m0#\d+: new binary process $m1 exited with code 0$/m,
         "rollback 2: logged: new binary process $m1 exited with code 0");
    is(serves_only($s, \@w0b), '', 'rollback 2: they serve');

    # without WINCH: TERM to the new master leaves the old workers as they were
    my ($m0b, $m2, $w0c, $w2) = usr2($s, 'rollback 2b') or stop_here('USR2 failed');
    $s->signal('TERM', $m2);
    ok(wait_gone(5, $m2, @$w2), 'rollback 2b: TERM to the new master before WINCH');
    ok(wait_for(sub { ($s->pid // 0) == $m0 && !-e $s->oldbin_file }),
       'rollback 2b: the old master restores its pid file');
    is_deeply([$s->worker_pids($m0)], [sort { $a <=> $b } @$w0c],
              'rollback 2b: the old workers were left alone (no extra ones)');
    my @all = $s->all_pids;
    $s->signal('QUIT', $m0);
    ok(wait_gone(10, @all), 'rollback 2: QUIT: everything exits');
}

# ---------------------------------------------------------------------------
# make upgrade (moongate's Makefile; nginx's is generated in its build tree): with PREFIX set to
# a tree laid out as an install (sbin/moongate, conf/moongate.conf, logs/moongate.pid), it checks
# the config (-t) and runs `moongate -s upgrade` (t/217: USR2, new workers serving, WINCH, QUIT).

SKIP: {
    skip 'make upgrade: moongate only', 6 if is_nginx;
    my $s = new_server('make-upgrade');
    my $m0 = $s->start;
    ok($m0, 'make upgrade: started') or skip 'no server', 5;
    my ($code, $out, $err) = run_cmd({ timeout => 30 }, 'make', '-s', '-C',
                                     $Test::Moongate::RepoRoot, 'upgrade', "PREFIX=" . $s->dir);
    is($code, 0, 'make upgrade PREFIX=<tree> exits 0') or diag("$out$err");
    ok(wait_gone(10, $m0), 'the old master is gone');
    my $m1 = $s->pid;
    ok($m1 && $m1 != $m0 && proc_alive($m1), 'the pid file names the new master');
    ok(!-e $s->oldbin_file, "no $N.pid.oldbin");
    is(scalar($s->wait_workers(2, master => $m1)), 2, 'the new master has its workers');
}

Test::More::done_testing();
