# Signals and -s commands with a master and workers (issue 4): USR1 and `-s reopen` reopen the
# logs of the master and the workers (a renamed log gets no more lines, the new file gets them);
# `-s stop`, `-s quit`, INT like TERM; -s without a pid file or with a stale pid fails clearly.
# Passes against Debian's nginx (TEST_MOONGATE_BINARY=/usr/sbin/nginx).

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;

my $N = proc_name;

my $s = Test::MoongateProc->new(name => 'signals', workers => 2, access_log => 1,
                                server => qq{location / { return 200 "sig\\n"; }\n}
                                        . qq{        location /missing { root /nonexistent; }\n});
my $el = $s->error_log;
my $al = $s->access_log;

sub request_logged {             # a request; true once its access log line is in $file
    my ($file, $tag) = @_;
    http_get($s->port, "/?$tag");
    return wait_for(sub { slurp($file) =~ /"GET \/\?\Q$tag\E HTTP\/1\.1" 200 /m });
}

# ---------------------------------------------------------------------------
# USR1

my $m = $s->start;
ok($m, 'started') or stop_here();
ok(request_logged($al, 'before'), 'the access log gets the request');

for my $how ('USR1', '-s reopen') {
    my $n = $how eq 'USR1' ? 1 : 2;
    rename $el, "$el.$n" or die "rename: $!";
    rename $al, "$al.$n" or die "rename: $!";
    ok(!-e $el && !-e $al, "$how: the logs were renamed away");
    if ($how eq 'USR1') {
        $s->signal('USR1', $m);
    } else {
        my ($code, $out, $err) = $s->cmd('-s', 'reopen');
        is($code, 0, '-s reopen exits 0') or diag($err);
    }
    ok(wait_for(sub { -e $el && -e $al }), "$how: the master creates new error.log and access.log");
    my $sender = $how eq 'USR1' ? $$ : '\d+';
    ok(wait_for(sub { (slurp($el) . slurp("$el.$n"))
                          =~ /\[notice\] $m#\d+: signal 10 \(SIGUSR1\) received from $sender, reopening logs$/m }),
       "$how: logged: signal 10 (SIGUSR1) received from <sender>, reopening logs");
    # (nginx writes "reopening logs" before it reopens: to the renamed file)
    ok(wait_for(sub { (slurp($el) . slurp("$el.$n")) =~ /\[notice\] $m#\d+: reopening logs$/m }),
       "$how: logged: reopening logs (the master)");
    # each worker reopens when the master's word reaches it, logging "reopening logs" right
    # before, with no event handled in between: a request sent before every worker's line is
    # there may still be logged to the renamed file
    my @wp = $s->worker_pids($m);
    ok(wait_for(sub {
        my $l = slurp($el) . slurp("$el.$n");
        !grep { $l !~ /\[notice\] $_#\d+: reopening logs$/m } @wp;
    }), "$how: logged: reopening logs (each worker)");
    my $tag = "after$n";
    ok(request_logged($al, $tag), "$how: a worker writes the next request to the new access.log");
    unlike(slurp("$al.$n"), qr/\Q$tag\E/, "$how: not to the renamed one");
    my $r = http_get($s->port, "/missing/$tag");
    is($r->{status}, 404, "$how: a request that logs an error");
    ok(wait_for(sub { slurp($el) =~ /\[error\] \d+#\d+: \*\d+ open\(\) "\/nonexistent\/missing\/$tag" failed/m }),
       "$how: the worker writes its error to the new error.log");
    unlike(slurp("$el.$n"), qr/missing\/$tag/, "$how: not to the renamed one");
    SKIP: {
        skip 'not root', 1 if $> != 0;
        my $nobody = getpwnam('nobody');
        is((stat $al)[4], $nobody, "$how: the new access.log belongs to the worker user (nobody)");
    }
    is_deeply([$s->worker_pids($m)], [sort { $a <=> $b } $s->worker_pids($m)], "$how: same master");
}
my @w = $s->worker_pids($m);
is(scalar @w, 2, 'the workers were not restarted by reopening');

# ---------------------------------------------------------------------------
# -s stop

my @all = $s->all_pids;
my $mark = $s->log_mark;
my ($code, $out, $err) = $s->cmd('-s', 'stop');
is($code, 0, '-s stop exits 0') or diag($err);
ok(wait_gone(5, @all), '-s stop: the master and its workers exit');
ok(!-e $s->pid_file, '-s stop: pid file removed');
like($s->log_since($mark), qr/\[notice\] $m#\d+: signal 15 \(SIGTERM\) received from \d+, exiting$/m,
     '-s stop: logged: signal 15 (SIGTERM) received from <the -s process>, exiting'
     . ' (in the reopened error.log: the master writes there too)');

# ---------------------------------------------------------------------------
# -s quit

$m = $s->start;
ok($m, 'started again') or stop_here();
@all = $s->all_pids;
$mark = $s->log_mark;
($code, $out, $err) = $s->cmd('-s', 'quit');
is($code, 0, '-s quit exits 0') or diag($err);
ok(wait_gone(5, @all), '-s quit: the master and its workers exit');
ok(!-e $s->pid_file, '-s quit: pid file removed');
my $l = $s->log_since($mark);
like($l, qr/\[notice\] $m#\d+: signal 3 \(SIGQUIT\) received from \d+, shutting down$/m,
     '-s quit: logged: signal 3 (SIGQUIT) received from <the -s process>, shutting down');
like($l, qr/\[notice\] $w[0]#\d+: gracefully shutting down$|\[notice\] \d+#\d+: gracefully shutting down$/m,
     '-s quit: the workers shut down gracefully');

# ---------------------------------------------------------------------------
# INT: like TERM

$m = $s->start;
ok($m, 'started again') or stop_here();
@all = $s->all_pids;
$mark = $s->log_mark;
$s->signal('INT', $m);
ok(wait_gone(5, @all), 'INT: the master and its workers exit');
ok(!-e $s->pid_file, 'INT: pid file removed');
like($s->log_since($mark), qr/\[notice\] $m#\d+: signal 2 \(SIGINT\) received from $$, exiting$/m,
     'INT: logged: signal 2 (SIGINT) received from <sender>, exiting');

# ---------------------------------------------------------------------------
# -s without a running server

($code, $out, $err) = $s->cmd('-s', 'reload');
is($code, 1, '-s reload without a pid file exits 1');
my $pf = $s->pid_file;
like($err, qr/\[error\] (?:\d+#\d+: )?open\(\) "\Q$pf\E" failed \(2: No such file or directory\)$/m,
     '-s without a pid file: the open() error');

my $dead = fork // die;
POSIX::_exit(0) if $dead == 0;
waitpid($dead, 0);
spew($pf, "$dead\n");
($code, $out, $err) = $s->cmd('-s', 'reload');
is($code, 1, '-s reload with a stale pid exits 1');
like($err, qr/\[alert\] (?:\d+#\d+: )?kill\($dead, 1\) failed \(3: No such process\)$/m,
     '-s with a stale pid: the kill() error');
unlink $pf;

Test::More::done_testing();
