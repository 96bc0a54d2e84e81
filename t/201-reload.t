# Reload (HUP, -s reload) with a master and workers (issue 4): a changed config is served by new
# workers and the old ones go; a bad config is logged ([emerg] FILE:LINE) and changes nothing;
# listen sockets added and removed by a reload; repeated HUPs, also while an old worker still
# drains; the draining worker's title.  Written against Debian's nginx
# (TEST_MOONGATE_BINARY=/usr/sbin/nginx); where moongate must do better (-s reload waits for the
# verdict and reports a rejected config) the nginx run checks nginx's behaviour instead.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;

my $N = proc_name;
my $Big = 24 * 1024 * 1024;

my $s = Test::MoongateProc->new(name => 'reload', workers => 2);
sub server_v {
    my ($v, $extra) = @_;
    return qq{location / { return 200 "$v \$pid\\n"; }\n        location /big { }\n}
         . ($extra // '');
}
$s->write_conf(server => server_v('v1'));
spew($s->html . '/big', 'x' x $Big);
chmod 0644, $s->html . '/big';

sub version {                    # the config version a new connection gets, or the error
    my $port = shift // $s->port;
    my $r = http_get($port, '/', timeout => 3);
    return $r->{status} && $r->{status} == 200 && $r->{body} =~ /^(v\d+) \d+\n\z/ ? $1
         : 'error: ' . ($r->{error} // $r->{status} // 'no status');
}
sub same_set { join(',', sort { $a <=> $b } @{ $_[0] }) eq join(',', sort { $a <=> $b } @{ $_[1] }) }
sub disjoint { my %a = map { $_ => 1 } @{ $_[0] }; !grep { $a{$_} } @{ $_[1] } }

my $m = $s->start;
ok($m, 'started') or stop_here();
my @w1 = $s->worker_pids($m);
is(version(), 'v1', 'serves v1');

# ---------------------------------------------------------------------------
# HUP with a changed config

my $mark = $s->log_mark;
$s->write_conf(server => server_v('v2'));
$s->signal('HUP');
ok($s->wait_log(qr/\[notice\] $m#\d+: signal 1 \(SIGHUP\) received from $$, reconfiguring$/m, $mark),
   'logged: signal 1 (SIGHUP) received from <sender>, reconfiguring');
ok(wait_for(sub { version() eq 'v2' }), 'new connections get the new config');
ok(wait_gone(5, @w1), 'the old workers exit');
my @w2 = $s->wait_workers(2);
is(scalar @w2, 2, 'two workers');
ok(disjoint(\@w1, \@w2), 'new worker processes');
is(proc_title($_), "$N: worker process", "worker $_: title") for @w2;
is($s->pid, $m, 'the master stays (same pid file)');
my $l = $s->log_since($mark);
like($l, qr/\[notice\] $m#\d+: reconfiguring$/m, 'logged: reconfiguring');
like($l, qr/\[notice\] $w1[0]#\d+: gracefully shutting down$/m, "old worker $w1[0]: gracefully shutting down");
ok($s->wait_log(qr/\[notice\] $m#\d+: worker process $w1[1] exited with code 0$/m, $mark),
   "master: worker process $w1[1] exited with code 0");

# ---------------------------------------------------------------------------
# HUP with a bad config: logged with FILE:LINE, nothing else changes

$mark = $s->log_mark;
my $bad = $s->conf_text(server => server_v('v3')) . "foo bar;\n";
my $line = () = $bad =~ /\n/g;
$s->write_conf(text => $bad);
$s->signal('HUP');
my $file = $s->conf_file;
ok($s->wait_log(qr/\[emerg\] $m#\d+: unknown directive "foo" in \Q$file\E:$line$/m, $mark),
   "[emerg] unknown directive \"foo\" in FILE:$line");
is(version(), 'v2', 'still the old config');
ok(same_set([$s->worker_pids($m)], \@w2), 'the same workers, none started, none stopped');
ok(proc_alive($_), "worker $_ alive") for @w2;
unlike($s->log_since($mark), qr/start worker process|gracefully shutting down/,
       'no worker started or stopped');

# and the next good config is taken
$mark = $s->log_mark;
$s->write_conf(server => server_v('v4'));
$s->signal('HUP');
ok(wait_for(sub { version() eq 'v4' }), 'the next good config is served');
ok(wait_gone(5, @w2), 'and the workers of the old one exit');
my @w4 = $s->wait_workers(2);
is(scalar @w4, 2, 'two workers');

# ---------------------------------------------------------------------------
# a listen socket added by a reload accepts; removed by the next one, it stops

my $p2 = Test::Moongate::find_free_port();
ok(tcp_refused($p2), "port $p2: nothing listens yet");
$s->write_conf(server => server_v('v5', "        listen 127.0.0.1:$p2;\n"));
$s->signal('HUP');
ok(wait_for(sub { version($p2) eq 'v5' }), "the added port $p2 serves the new config");
ok(wait_for(sub { version() eq 'v5' }), 'and so does the first one');
ok(wait_gone(5, @w4), 'the old workers exit');
my @w5 = $s->wait_workers(2);

$s->write_conf(server => server_v('v6'));
$s->signal('HUP');
ok(wait_for(sub { version() eq 'v6' }), 'reload without the second listen: served');
ok(wait_gone(5, @w5), 'the old workers exit');
ok(wait_for(sub { tcp_refused($p2) }), "the removed port $p2 refuses connections");
my @w6 = $s->wait_workers(2);

# ---------------------------------------------------------------------------
# a draining worker: "worker process is shutting down" while a response is in flight; reloads
# in a row while it drains

my $slow = slow_get($s->port, '/big');
ok($slow && $slow->status == 200, 'a large response in flight') or stop_here('no slow response');
$mark = $s->log_mark;
$s->write_conf(server => server_v('v7'));
$s->signal('HUP');
ok(wait_for(sub { version() eq 'v7' }), 'reloaded: v7');
my $busy = wait_for(sub {
    my @d = $s->workers($m, draining => 1);
    @d == 1 ? $d[0][0] : 0;
}, 5);
ok($busy && grep({ $_ == $busy } @w6),
   "the old worker with the response in flight: \"$N: worker process is shutting down\"");
is(proc_title($busy || 0), "$N: worker process is shutting down", 'its exact title');
my ($idle) = grep { $_ != ($busy || 0) } @w6;
ok(wait_gone(5, $idle), 'the other old worker exits');

for my $v (8 .. 10) {
    $s->write_conf(server => server_v("v$v"));
    $s->signal('HUP');
    ok(wait_for(sub { version() eq "v$v" }), "reload while a worker drains: v$v");
}
my @w10 = $s->wait_workers(2, all => 0);
is(scalar @w10, 2, 'two live workers');
ok(proc_alive($busy), 'the first draining worker is still there');
# the intermediate generations' idle workers exit on their own, soon: wait for it, bounded
my @draining;
wait_for(sub {
    @draining = map { $_->[0] } $s->workers($m, draining => 1);
    "@draining" eq "$busy";
}, 10);
is_deeply(\@draining, [$busy], 'and the only one shutting down: the intermediate workers are gone')
    or diag(join('; ', map { join(' ', @$_) } $s->workers($m)));
my $res = $slow->finish(30);
is($res->{body_len}, $Big, 'the in-flight response completes');
ok(wait_gone(5, $busy), 'then the draining worker exits');
is(scalar($s->wait_workers(2)), 2, 'two workers, none shutting down');

# ---------------------------------------------------------------------------
# many HUPs at once: the last config wins, the worker count settles

my @before = $s->worker_pids($m);
for my $v (11 .. 16) {
    $s->write_conf(server => server_v("v$v"));
    $s->signal('HUP');
}
ok(wait_for(sub { version() eq 'v16' }), 'six HUPs in a row: the last config is served');
ok(wait_gone(5, @before), 'the workers from before are gone');
my @after = $s->wait_workers(2);
is(scalar @after, 2, 'the master settles at two workers');
is($s->pid, $m, 'same master');

# ---------------------------------------------------------------------------
# -s reload

$mark = $s->log_mark;
$s->write_conf(server => server_v('v17'));
my ($code, $out, $err) = $s->cmd('-s', 'reload');
is($code, 0, '-s reload with a good config exits 0') or diag($err);
if (is_nginx) {
    ok(wait_for(sub { version() eq 'v17' }), '-s reload: the new config is served (nginx: soon after)');
} else {
    is(version(), 'v17', '-s reload: the new config is served as soon as the command returns');
}
ok(wait_gone(5, @after), 'the old workers exit');
my @w17 = $s->wait_workers(2);

# a syntax error: the -s process itself parses the config (nginx does) and refuses to signal
$bad = $s->conf_text(server => server_v('v18')) . "foo bar;\n";
$line = () = $bad =~ /\n/g;
$s->write_conf(text => $bad);
$mark = $s->log_mark;
($code, $out, $err) = $s->cmd('-s', 'reload');
is($code, 1, '-s reload with a syntax error exits 1');
# (nginx prints it in the error log's format: the config's error_log is stderr's by then)
like($err, qr/\[emerg\] (?:\d+#\d+: )?unknown directive "foo" in \Q$file\E:$line$/m,
     '-s reload prints the [emerg] with FILE:LINE') or diag($err);
unlike($s->log_since($mark), qr/reconfiguring/, 'the master got no signal');

# an error only the master sees: a listen port someone else holds
my $holder = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5,
                                   ReuseAddr => 0) or die "listen: $!";
my $held = $holder->sockport;
$s->write_conf(server => server_v('v18', "        listen 127.0.0.1:$held;\n"));
$mark = $s->log_mark;
($code, $out, $err) = $s->cmd('-s', 'reload');
my $bind_re = qr/\[emerg\] $m#\d+: bind\(\) to 127\.0\.0\.1:$held failed \(98: Address already in use\)$/m;
if (is_nginx) {
    is($code, 0, '-s reload, the port is taken: nginx exits 0 (it only sends the signal)');
    ok($s->wait_log($bind_re, $mark), 'the master logs the bind() [emerg]');
} else {
    is($code, 1, '-s reload, the port is taken: exits 1 (the master rejected the config)');
    like($err, qr/\[emerg\].*bind\(\) to 127\.0\.0\.1:$held failed \(98: Address already in use\)/,
         '-s reload prints the master\'s error') or diag($err);
    like($s->log_since($mark), $bind_re, 'the master logged it too');
}
close $holder;
is(version(), 'v17', 'still the old config');
ok(same_set([$s->worker_pids($m)], \@w17), 'the same workers');

# ---------------------------------------------------------------------------
# a log file the configuration no longer names is not held open by the new workers (they are
# forked while the old generation, which has it open, still lives)

sub holds_file {
    my ($pid, $file) = @_;
    return grep { (readlink($_) // '') eq $file } glob("/proc/$pid/fd/*");
}
my $alog = $s->dir . '/logs/gen-a.log';
$s->write_conf(server => server_v('v19', "        access_log $alog;\n"));
($code, $out, $err) = $s->cmd('-s', 'reload');
is($code, 0, 'reload with an access_log') or diag($err);
ok(wait_for(sub { version() eq 'v19' }), 'v19 is served');
my @w19 = $s->wait_workers(2);
ok(@w19 && holds_file($w19[0], $alog), 'its workers have the log open');
$s->write_conf(server => server_v('v20', "        access_log " . $s->dir . "/logs/gen-b.log;\n"));
($code, $out, $err) = $s->cmd('-s', 'reload');
is($code, 0, 'reload with another access_log') or diag($err);
ok(wait_for(sub { version() eq 'v20' }), 'v20 is served');
my @w20 = $s->wait_workers(2);
is(scalar @w20, 2, 'two new workers');
is(join(',', grep { holds_file($_, $alog) } @w20), '', 'none of them holds the dropped log open');

# ---------------------------------------------------------------------------

my @all = $s->all_pids;
$s->signal('QUIT', $m);
ok(wait_gone(10, @all), 'QUIT: everything exits');
ok(!-e $s->pid_file, 'pid file removed');

Test::More::done_testing();
