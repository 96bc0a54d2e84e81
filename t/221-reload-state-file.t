# The "<pid>.reload" state file (the channel of `-s reload`, issue 14) goes with its master:
# a master that exits (QUIT, TERM, INT, `-s quit`, `-s stop`, a single process) removes it, so
# none is left beside the pid file (t/218 checks the same after a rollback to nginx); a master
# that exits after a USR2 leaves the new master's file alone, and the new master still answers
# `-s reload`.  moongate only: nginx writes no state file.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;

if (is_nginx) {
    Test::More::plan(skip_all => 'the .reload state file: moongate only (nginx writes none)');
}

sub state_of { my $s = shift; return slurp($s->pid_file . '.reload') // '' }

# a master exits by a signal to the master, or by a command
for my $how (qw(QUIT TERM INT quit stop)) {
    my $s = Test::MoongateProc->new(name => "exit-$how", workers => 1,
                                    server => qq{location / { return 200 "a\\n"; }});
    my $m = $s->start;
    ok($m, "$how: started") or stop_here();
    my $state = $s->pid_file . '.reload';
    ok(wait_for(sub { state_of($s) =~ /^\d+ $m \d+ ok$/m }), "$how: $state names the master")
        or diag(state_of($s));
    my ($code, $out, $err) = $s->reload;
    is($code, 0, "$how: -s reload exits 0") or diag($err);
    my @all = $s->all_pids;
    if ($how =~ /^[A-Z]/) {
        $s->signal($how, $m);
    } else {
        ($code, $out, $err) = $s->cmd({ timeout => 20 }, '-s', $how);
        is($code, 0, "$how: -s $how exits 0") or diag($err);
    }
    ok(wait_gone(10, @all), "$how: the master and its workers exit");
    ok(!-e $state, "$how: no .reload left beside the pid file");
}

# a single process (master_process off)
{
    my $p = Test::MoongateProc->new(name => 'single', workers => 0,
                                    server => qq{location / { return 200 "s\\n"; }});
    (my $text = $p->conf_text) =~ s/master_process on;/master_process off;/;
    $p->write_conf(text => $text);
    my $m = $p->start(workers => 0);
    ok($m, 'single process: started') or stop_here();
    # a single process writes the file when it reloads (t/220)
    ($text = $p->conf_text(server => qq{location / { return 200 "s2\\n"; }}))
        =~ s/master_process on;/master_process off;/;
    $p->write_conf(text => $text);
    my ($code, $out, $err) = $p->reload;
    is($code, 0, 'single process: -s reload exits 0') or diag($err);
    like(state_of($p), qr/^\d+ $m \d+ ok$/m, 'single process: .reload names it');
    $p->signal('QUIT', $m);
    ok(wait_gone(10, $m), 'single process: QUIT: it exits');
    ok(!-e $p->pid_file . '.reload', 'single process: no .reload left');
}

# after a USR2 the old master's exit keeps the new master's file
{
    my $s = Test::MoongateProc->new(name => 'usr2', workers => 1,
                                    server => qq{location / { return 200 "u1\\n"; }});
    my $m0 = $s->start;
    ok($m0, 'usr2: started') or stop_here();
    $s->signal('USR2', $m0);
    my $m1 = wait_for(sub { my $p = $s->pid; $p && $p != $m0 && proc_alive($p) ? $p : 0 }, 10);
    ok($m1, 'usr2: a new master') or stop_here();
    ok(wait_for(sub { state_of($s) =~ /^\d+ $m1 \d+ ok$/m }, 10), 'usr2: .reload names the new master')
        or diag(state_of($s));
    is(scalar($s->wait_workers(1, master => $m1)), 1, 'usr2: the new master has its worker');
    my @old = ($m0, $s->worker_pids($m0));
    $s->signal('QUIT', $m0);
    ok(wait_gone(10, @old), 'usr2: QUIT: the old master exits');
    like(state_of($s), qr/^\d+ $m1 \d+ ok$/m, 'usr2: the new master\'s .reload stays');
    $s->write_conf(server => qq{location / { return 200 "u2\\n"; }});
    my ($code, $out, $err) = $s->reload;
    is($code, 0, 'usr2: -s reload to the new master exits 0') or diag($err);
    is(http_get($s->port, '/')->{body}, "u2\n", 'usr2: the new configuration serves');
    $s->stop;
    ok(!-e $s->pid_file . '.reload', 'usr2: the new master took its .reload along');
}

Test::More::done_testing();
