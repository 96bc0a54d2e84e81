# `moongate -s upgrade` (issue 14, item 4): the seeds' whole upgrade dance from one command.
# USR2 to the running master, wait until the new master's workers accept, WINCH and QUIT the old
# master, exit 0.  When the new binary does not make it, the old master resumes by itself (the
# pid file is its own again, its workers serve on) and the command exits 1 saying why: a binary
# that exits 1 (a wrapper script), one whose configuration the new binary rejects (a wrapper
# that adds -g 'bogus_directive on;': the [emerg] is printed), one that crashes (SIGSEGV), and
# one that never serves (sleep), stopped by the old master after upgrade_timeout.  A binary that
# does not report (as an older one) is taken as serving once upgrade_timeout passed if it has
# worker processes.  `make
# upgrade` uses it (t/202).  Real masters and signals; every wait is bounded.
#
# moongate only: nginx has no -s upgrade (nor upgrade_timeout).

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;

if (is_nginx) {
    Test::More::plan(skip_all => '-s upgrade and upgrade_timeout are moongate\'s');
}

my $s = Test::MoongateProc->new(name => 'upcmd', workers => 2, error_level => 'notice',
                                main => 'upgrade_timeout 3s;',
                                server => qq{location / { return 200 "up \$pid\\n"; }});
my $real = $Test::Moongate::Binary;
my $disk = $s->use_binary_copy;    # what a USR2 execs
my $m0 = $s->start;
ok($m0, 'started') or stop_here();

# the command runs the real binary on the server's prefix and configuration
sub upgrade_cmd {
    return Test::Moongate::run_cmd({ timeout => 60 }, $real, '-p', $s->dir . '/',
                                   '-c', $s->conf_file, '-s', 'upgrade');
}

# the worker pids that answer 20 new connections, and whether all are children of $master
sub served_by_children_of {
    my $master = shift;
    my %kids = map { $_ => 1 } $s->worker_pids($master);
    for (1 .. 20) {
        my $r = http_get($s->port, '/', timeout => 5);
        my ($p) = ($r->{body} // '') =~ /^up (\d+)\n\z/;
        return "request $_: " . ($p ? "served by $p" : $r->{error} // "status $r->{status}")
            unless $p && $kids{$p};
    }
    return '';
}

# the binary on disk becomes a script (replaced, not rewritten: the running one is busy)
sub put_binary {
    my $text = shift;
    unlink $disk;
    if (defined $text) {
        spew($disk, "#!/bin/sh\n$text\n");
        chmod 0755, $disk;
    } else {
        File::Copy::copy($real, $disk) or die "copy: $!";
        chmod 0755, $disk;
    }
}

my @w0 = $s->worker_pids($m0);
my @fail = (
    ['a binary that exits 1', 'exit 1', qr/^moongate: upgrade failed: new binary process \d+ exited with code 1; process $m0 serves on$/m],
    ['a configuration the new binary rejects', qq{exec "$real" -g 'bogus_directive on;' "\$@"},
     qr/^moongate: upgrade failed: new binary process \d+ exited with code 1; process $m0 serves on\n.*\[emerg\] \d+#\d+: unknown directive "bogus_directive" in command line$/ms],
    ['a binary that crashes', 'kill -SEGV $$', qr/^moongate: upgrade failed: new binary process \d+ exited on signal 11; process $m0 serves on$/m],
    ['a binary that never serves', 'exec sleep 300',
     qr/^moongate: upgrade failed: new binary process \d+ did not serve within upgrade_timeout \(3000 ms\); process $m0 serves on\n.*\[alert\] $m0#\d+: new binary process \d+ did not serve within upgrade_timeout, stopping it$/ms],
);
for my $f (@fail) {
    my ($what, $script, $re) = @$f;
    put_binary($script);
    my $t0 = Time::HiRes::time();
    my ($code, $out, $err) = upgrade_cmd();
    my $took = Time::HiRes::time() - $t0;
    is($code, 1, "$what: -s upgrade exits 1");
    like($err, $re, "$what: it says why") or diag($err);
    is($s->pid, $m0, "$what: the pid file names the old master again");
    ok(!-e $s->oldbin_file, "$what: no .oldbin left");
    is_deeply([sort { $a <=> $b } $s->worker_pids($m0)], [sort { $a <=> $b } @w0],
              "$what: the old workers were never stopped");
    is(served_by_children_of($m0), '', "$what: and they serve");
    if ($script =~ /sleep/) {
        cmp_ok($took, '>=', 2.5, sprintf('%s: the old master waited upgrade_timeout (%.1f s)', $what, $took));
    }
}

# the real thing: the new master serves, the old one goes
put_binary(undef);
my ($code, $out, $err) = upgrade_cmd();
is($code, 0, 'a good binary: -s upgrade exits 0') or diag("$out$err");
my $m1 = $s->pid;
ok($m1 && $m1 != $m0 && proc_alive($m1), 'the pid file names the new master');
is(proc_ppid($m1), $m0, 'started by the old master (USR2)') if proc_alive($m0);
ok(scalar($s->wait_workers(2, master => $m1)), 'the new master has its workers');
ok(wait_gone(15, $m0, @w0), 'the old master and its workers are gone (WINCH + QUIT)');
ok(!-e $s->oldbin_file, 'no .oldbin left');
is(served_by_children_of($m1), '', 'the new workers serve');

# the upgraded master upgrades again, to a binary that does not report (as one from before
# -s upgrade: here the same one, without the pipe's variable): once upgrade_timeout passed, the
# new master's worker processes are taken as the sign that it serves
put_binary(qq{unset MOONGATE_UPGRADE; exec "$real" "\$@"});
my $mark = $s->log_mark;
my $t0 = Time::HiRes::time();
($code, $out, $err) = upgrade_cmd();
my $took = Time::HiRes::time() - $t0;
is($code, 0, 'a second -s upgrade, to a binary that does not report: exits 0') or diag("$out$err");
cmp_ok($took, '>=', 2.5, sprintf('after upgrade_timeout (%.1f s)', $took));
like($s->log_since($mark), qr/\[warn\] $m1#\d+: new binary process \d+ did not report, it has child processes: taken as serving$/m,
     'the old master says why it took it');
my $m2 = $s->pid;
ok($m2 && $m2 != $m1, 'a third master');
ok(wait_gone(15, $m1), 'the second one is gone');
is(served_by_children_of($m2), '', 'the third one\'s workers serve');
put_binary(undef);

# one upgrade at a time: the command refuses while a .oldbin exists
spew($s->oldbin_file, "$m2\n");
($code, $out, $err) = upgrade_cmd();
is($code, 1, 'refused while a .oldbin pid file exists');
like($err, qr/upgrade refused: "\Q${\ $s->oldbin_file}\E" exists, an upgrade is already in progress/, 'and says so');
unlink $s->oldbin_file;
is($s->pid, $m2, 'nothing changed');

ok($s->stop, 'stopped');
Test::More::done_testing();
