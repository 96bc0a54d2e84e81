# How `-s reload` learns the verdict (issue 14, item 1): it sends HUP with sigqueue() and a value
# saying that it waits, and the master answers such a sender with SIGURG once the verdict is
# written (closing an inotify watch, the former way, waited 15-25 ms for the kernel). Here: the
# master answers a sender that asked, and nobody else (a plain kill, another value); commands sent
# together all return 0 with the new configuration served (the master learns one sender of HUPs
# that came together: the others read the verdict again on their own); a command whose HUP comes
# while a reload runs returns with the verdict of the reload its HUP starts; a single process,
# which answers nobody, still gets its `-s reload` back. The concurrent commands pass against
# Debian's nginx too (TEST_MOONGATE_BINARY=/usr/sbin/nginx), whose -s reload only sends the signal.

use FindBin;
use lib "$FindBin::Bin/lib";
use Config;
use Test::More;
use POSIX ();
use Test::Moongate;
use Test::MoongateProc;

my %SysSigqueue = (x86_64 => 129, aarch64 => 138); # rt_sigqueueinfo
my ($Arch) = $Config{archname} =~ /^(x86_64|aarch64)/;
my $Ask = 0x6d67; # the value moongate's commands put on the signal they wait an answer to

my $urg = 0;
$SIG{URG} = sub { $urg++ };

# HUP to $pid as sigqueue() sends it, with $value
sub sigqueue_hup {
    my ($pid, $value) = @_;
    # siginfo_t: signo, errno, code (SI_QUEUE = -1), padding; pid, uid, value; 128 bytes
    my $info = pack('iiiiiiq', POSIX::SIGHUP(), 0, -1, 0, $$, $<, $value);
    $info .= "\0" x (128 - length $info);
    return syscall($SysSigqueue{$Arch}, $pid, POSIX::SIGHUP(), $info) == 0;
}

my $s = Test::MoongateProc->new(name => 'answer', workers => 2,
                                server => qq{location / { return 200 "v1\\n"; }});
my $m = $s->start;
ok($m, 'started') or stop_here();

# ---------------------------------------------------------------------------
# commands sent together

$s->write_conf(server => qq{location / { return 200 "v2\\n"; }});
my @kids;
for my $i (1 .. 4) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $s->dir . "/logs/cmd$i.err";
        { exec $s->binary, '-p', $s->dir . '/', '-c', $s->conf_file, '-s', 'reload' }
        POSIX::_exit(127);
    }
    push @kids, $pid;
}
my @codes;
my $deadline = time + 20; # each command's own bound is 10 s
for my $k (@kids) {
    my $r;
    while (($r = waitpid($k, POSIX::WNOHANG())) == 0 && time < $deadline) {
        select(undef, undef, undef, 0.02);
    }
    push @codes, $r == $k ? $? >> 8 : 'running';
    kill 'KILL', $k unless $r == $k;
}
is("@codes", '0 0 0 0', 'four -s reload at once: each exits 0')
    or diag(map { slurp($s->dir . "/logs/cmd$_.err") } 1 .. 4);
if (is_nginx()) {
    ok(wait_for(sub { (http_get($s->port, '/')->{body} // '') eq "v2\n" }),
       'four -s reload at once: the new configuration is served');
} else {
    is(http_get($s->port, '/')->{body}, "v2\n",
       'four -s reload at once: the next connection gets the new configuration');
}

# ---------------------------------------------------------------------------
# who is answered (moongate only)

SKIP: {
    skip 'moongate only: nginx answers nobody', 6 if is_nginx();

    my $reloaded = sub {    # "reconfiguring done" logged once more since $mark: the verdict and
        my ($mark) = @_;    # its answer were written and sent before it
        return $s->wait_log(qr/reconfiguring done, generation \d+ serving/, $mark);
    };

    $urg = 0;
    my $mark = $s->log_mark;
    $s->signal('HUP', $m);
    ok($reloaded->($mark), 'a plain HUP reloads');
    is($urg, 0, 'a plain HUP: the sender gets no SIGURG');

    SKIP: {
        skip "no rt_sigqueueinfo number for $Config{archname}", 4 unless $Arch;
        $mark = $s->log_mark;
        ok(sigqueue_hup($m, 1) && $reloaded->($mark), 'a HUP with another value reloads');
        is($urg, 0, 'a HUP with another value: the sender gets no SIGURG');

        $mark = $s->log_mark;
        ok(sigqueue_hup($m, $Ask) && $reloaded->($mark), 'a HUP that asks reloads');
        ok(wait_for(sub { $urg == 1 }), 'a HUP that asks: the sender gets one SIGURG') or diag("got $urg");
    }
}
$s->stop;

# ---------------------------------------------------------------------------
# a command whose HUP comes while a reload runs: that reload may have read the configuration
# before it changed, so the verdict that counts is the next one's, the reload its HUP starts
# (it waited for one more and, none coming, gave up after 10 s with exit 1). The workers take
# a second to be ready, so the reload a plain HUP starts is seen running (moongate only)

SKIP: {
    skip 'moongate only: nginx writes no verdict', 3 if is_nginx();
    my $r = Test::MoongateProc->new(name => 'during', workers => 1,
                                    http => 'init_worker_by_lua_block { os.execute("sleep 1") }',
                                    server => qq{location / { return 200 "d1\n"; }});
    my $rm = $r->start(timeout => 10);
    ok($rm, 'slow workers: started') or stop_here();
    my $state = $r->pid_file . '.reload';
    $r->signal('HUP', $rm);
    ok(wait_for(sub { slurp($state) =~ /^\d+ $rm \d+ running$/m }), 'a reload runs')
        or diag(slurp($state));
    $r->write_conf(server => qq{location / { return 200 "d2\n"; }});
    my ($code, $out, $err) = $r->cmd({ timeout => 30 }, '-s', 'reload');
    is($code, 0, '-s reload during a reload: exits 0 once the reload its HUP started is done')
        or diag($err);
    $r->stop;
}

# ---------------------------------------------------------------------------
# a single process answers nobody: the command reads the verdict again on its own (moongate only)

SKIP: {
    skip 'moongate only: nginx writes no verdict', 3 if is_nginx();
    my $p = Test::MoongateProc->new(name => 'single', workers => 0,
                                    server => qq{location / { return 200 "s1\\n"; }});
    (my $text = $p->conf_text) =~ s/master_process on;/master_process off;/;
    $p->write_conf(text => $text);
    ok($p->start(workers => 0), 'single process: started') or stop_here();
    ($text = $p->conf_text(server => qq{location / { return 200 "s2\\n"; }}))
        =~ s/master_process on;/master_process off;/;
    $p->write_conf(text => $text);
    my ($code, $out, $err) = $p->reload;
    is($code, 0, 'single process: -s reload exits 0') or diag($err);
    is(http_get($p->port, '/')->{body}, "s2\n", 'single process: the next connection gets the new configuration');
    $p->stop;
}

done_testing();
