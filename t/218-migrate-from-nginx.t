# Migration from a running nginx (issue 14, item 4b): Debian's nginx runs from a copy of its
# binary as a master with workers; the copy is replaced on disk by moongate and the nginx master
# gets USR2: nginx execs the file with its own command line (-p, -c, -g) and its listening
# sockets in $NGINX; moongate adopts them, reads the nginx.conf (load_module lines included) and
# serves beside nginx; WINCH and QUIT to the nginx master finish the move.  The rollback (HUP the
# old nginx master, QUIT moongate) goes back to nginx.  Load clients run throughout: a new
# connection per request, and keepalive connections.
#
# Moongate only: the test runs both binaries (nginx, then $TEST_MOONGATE_BINARY); with
# TEST_MOONGATE_BINARY=/usr/sbin/nginx it would be an nginx-to-nginx upgrade, which nginx's
# own tests cover.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use File::Copy ();
use Time::HiRes ();

my $Nginx = $ENV{TEST_MOONGATE_NGINX} || '/usr/sbin/nginx';
plan skip_all => 'the migration runs nginx, then moongate: moongate only' if is_nginx;
plan skip_all => "no nginx at $Nginx" unless -x $Nginx;
my $Echo = '/usr/lib/nginx/modules/ngx_http_echo_module.so';
plan skip_all => "no echo module at $Echo" unless -f $Echo;

my $Body = qr/^(v2 )?pid \d+\n\z/;

sub conf {
    my $s = shift;
    my $d = $s->dir;
    # worker_processes comes from -g, as a service file might pass it
    my $c = "load_module $Echo;\ndaemon on;\nmaster_process on;\n"
          . "error_log $d/logs/error.log info;\npid " . $s->pid_file . ";\n"
          . "events {\n    worker_connections 512;\n}\n"
          . "http {\n    default_type text/plain;\n    access_log off;\n"
          . "    keepalive_requests 100000;\n";
    $c .= "    ${_}_temp_path $d/${_}_temp;\n" for qw(client_body proxy fastcgi uwsgi scgi);
    $c .= "    server {\n        listen 127.0.0.1:" . $s->port . ";\n"
        . "        location / { echo \"pid \$pid\"; }\n    }\n}\n";
    return $c;
}

# a file replaced on disk as an installer does (a running binary cannot be written over)
sub install {
    my ($from, $to) = @_;
    File::Copy::copy($from, "$to.new") or die "copy $from: $!";
    chmod 0755, "$to.new";
    rename "$to.new", $to or die "rename $to: $!";
}

# [pid, title] of $master's children titled "<name>: worker process"
sub workers_of {
    my ($master, $name) = @_;
    return grep { $_->[1] =~ /^\Q$name\E: worker process/ } children_of($master);
}

sub wait_workers_of {
    my ($master, $name, $n) = @_;
    my @w;
    wait_for(sub {
        @w = workers_of($master, $name);
        return @w == $n && !grep { $_->[1] =~ /shutting down/ } @w;
    });
    return map { $_->[0] } @w;
}

# the pid in a fresh connection's answer is one of @pids, within the bound
sub served_by {
    my ($port, @pids) = @_;
    my %p = map { $_ => 1 } @pids;
    return wait_for(sub {
        my $r = http_get($port, '/', timeout => 3);
        return ($r->{body} // '') =~ /^pid (\d+)$/ && $p{$1};
    });
}

sub check_load {
    my ($label, $res) = @_;
    diag("$label: " . Test::MoongateProc::Load->summary($res));
    ok($res->{ok} > 0, "$label: requests were served");
    is($res->{failed}, 0, "$label: no request failed")
        or diag(join("\n", @{ $res->{samples} || [] }));
}

# Keepalive connections: nginx's workers, when WINCH stops them, close their idle keepalive
# connections at once, and a request a client sent on one at that moment is lost (nginx's own
# reload race; the client sees the connection end with nothing of a response).  No new binary
# can prevent that: such failures are allowed, and only those: after the WINCH, on a connection
# whose previous response came from one of nginx's workers, nothing received.  moongate's side
# loses nothing, nor does anything fail while both serve.
sub check_keepalive {
    my ($label, $res, $winch_t, $nw) = @_;
    my %nginx = map { $_ => 1 } @$nw;
    my (@nginx_race, @other);
    for my $f (@{ $res->{failures} }) {
        my ($pid) = ($f->{prev} // '') =~ /pid (\d+)/;
        if ($f->{kind} =~ /^(eof_idle|reset_idle|write_reset)$/ && $f->{nreq} > 1 && $pid
            && $nginx{$pid} && $f->{t} >= $winch_t) {
            push @nginx_race, $f;
        } else {
            push @other, $f;
        }
    }
    diag("$label: " . Test::MoongateProc::Load->summary($res)
         . '; of the failures, ' . scalar(@nginx_race) . " were nginx's closing its idle keepalive "
         . 'connections at WINCH');
    ok($res->{ok} > 0, "$label: requests were served");
    is(scalar(@{ $res->{failures} }), $res->{failed}, "$label: every failure is listed");
    is(scalar(@other), 0, "$label: no request failed but those nginx closed at its WINCH")
        or diag(join("\n", map { sprintf('%.3f %s conn#%d req#%d after "%s"', $_->{t} - $winch_t,
                                         $_->{kind}, $_->{conn}, $_->{nreq}, $_->{prev} // '') }
                     @other[0 .. ($#other < 19 ? $#other : 19)]));
}

# nginx from a copy of its binary, the copy replaced by moongate, USR2: both serve
sub start_and_upgrade {
    my ($label, $name) = @_;
    my $s = Test::MoongateProc->new(name => $name, workers => 2);
    $s->write_conf(text => conf($s));
    my $bin = $s->dir . '/sbin/nginx';
    install($Nginx, $bin);
    $s->{binary} = $bin;
    my ($code, $out, $err) = $s->cmd('-g', 'worker_processes 2;');
    is($code, 0, "$label: nginx starts") or diag("$out$err" . $s->log_tail);
    my $ngx = wait_for(sub { my $p = $s->pid; $p && proc_title($p) =~ /^nginx: master/ ? $p : 0 });
    ok($ngx, "$label: the pid file names the nginx master") or return;
    my @nw = wait_workers_of($ngx, 'nginx', 2);
    is(scalar @nw, 2, "$label: nginx has its two workers");
    ok(served_by($s->port, @nw), "$label: nginx serves");

    my $ka = load_start(port => $s->port, conns => 10, keepalive => 1, body => $Body);
    my $nc = load_start(port => $s->port, conns => 4, keepalive => 0, body => $Body);

    install($Binary, $bin);
    my $mark = $s->log_mark;
    $s->signal('USR2', $ngx);
    my $mg = wait_for(sub {
        my $p = $s->pid;
        $p && $p != $ngx && proc_title($p) =~ /^moongate: master process \Q$bin\E -p .* -g worker_processes 2;$/
            ? $p : 0;
    });
    ok($mg, "$label: USR2: the pid file names moongate's master, with nginx's command line")
        or diag($s->log_since($mark));
    is(proc_ppid($mg), $ngx, "$label: moongate runs as nginx's new binary (its child)") if $mg;
    is($s->oldbin_pid, $ngx, "$label: nginx's pid file is .oldbin");
    like($s->log_since($mark), qr/\[notice\] $mg#\d+: using inherited sockets from "\d+;"/,
         "$label: moongate adopted nginx's socket");
    my @mw = $mg ? wait_workers_of($mg, 'moongate', 2) : ();
    is(scalar @mw, 2, "$label: moongate has its two workers (-g worker_processes 2)");
    ok(served_by($s->port, @mw), "$label: moongate's workers serve on nginx's socket");
    unlike($s->log_since($mark), qr/\[(emerg|alert|crit)\]/, "$label: nothing bad logged");
    $ka->wait_requests(200, 10);
    return ($s, $ngx, $mg, \@nw, \@mw, $ka, $nc);
}

# ---------------------------------------------------------------------------
# the move: USR2, WINCH, QUIT to the nginx master

{
    my ($s, $ngx, $mg, $nw, $mw, $ka, $nc) = start_and_upgrade('move', 'mig-move');
    my $winch_t;
    if ($mg) {
        $winch_t = Time::HiRes::time();
        $s->signal('WINCH', $ngx);
        ok(wait_gone(10, @$nw), 'move: WINCH: nginx\'s workers exit');
        ok(proc_alive($ngx), 'move: the nginx master stays');
        $ka->wait_requests(200, 10);
        $s->signal('QUIT', $ngx);
        ok(wait_gone(10, $ngx), 'move: QUIT: the nginx master exits');
        ok(!-e $s->oldbin_file, 'move: nginx removed its .oldbin pid file');
        is($s->pid, $mg, 'move: the pid file names moongate');
        ok(served_by($s->port, @$mw), 'move: moongate serves alone');
        $ka->wait_requests(200, 10);

        # moongate is a master like any other now: a reload works on the nginx.conf
        my $text = conf($s);
        $text =~ s/echo "pid \$pid"/echo "v2 pid \$pid"/;
        $s->write_conf(text => $text);
        my ($code, $out, $err) = $s->cmd('-g', 'worker_processes 2;', '-s', 'reload');
        is($code, 0, 'move: -s reload on the nginx.conf exits 0') or diag($err);
        like(http_get($s->port, '/')->{body} // '', qr/^v2 pid \d+$/, 'move: the reload took');
    }
    check_load('move: a new connection per request', $nc->finish);
    check_keepalive('move: keepalive connections', $ka->finish, $winch_t // 0, $nw);
    $s->stop;
}

# ---------------------------------------------------------------------------
# the rollback: USR2, WINCH, then HUP to the old nginx master (its workers come back on its
# configuration) and QUIT to moongate

{
    my ($s, $ngx, $mg, $nw, $mw, $ka, $nc) = start_and_upgrade('rollback', 'mig-back');
    my ($winch_t, @back);
    if ($mg) {
        $winch_t = Time::HiRes::time();
        $s->signal('WINCH', $ngx);
        ok(wait_gone(10, @$nw), 'rollback: WINCH: nginx\'s workers exit');
        $ka->wait_requests(200, 10);
        $s->signal('HUP', $ngx);
        @back = wait_workers_of($ngx, 'nginx', 2);
        is(scalar @back, 2, 'rollback: HUP: nginx has workers again');
        $ka->wait_requests(200, 10);
        $s->signal('QUIT', $mg);
        ok(wait_gone(10, $mg, @$mw), 'rollback: QUIT: moongate exits');
        ok(wait_for(sub { ($s->pid // 0) == $ngx }), 'rollback: the pid file names nginx again');
        ok(!-e $s->oldbin_file, 'rollback: no .oldbin left');
        ok(!-e $s->pid_file . '.reload', 'rollback: moongate took its .reload file along');
        ok(served_by($s->port, @back), 'rollback: nginx serves');
        $ka->wait_requests(200, 10);
    }
    check_load('rollback: a new connection per request', $nc->finish);
    check_keepalive('rollback: keepalive connections', $ka->finish, $winch_t // 0, $nw);
    if ($mg) {
        # the binary on disk is moongate now: its -s reload to the nginx master returns at
        # once, as nginx's signaller (nginx writes no verdict to wait for), and nginx reloads
        # (after the load: nginx's own reload closes idle keepalive connections)
        my $t0 = Time::HiRes::time();
        my ($code, $out, $err) = $s->cmd('-s', 'reload');
        my $took = Time::HiRes::time() - $t0;
        is($code, 0, 'rollback: moongate -s reload to the nginx master exits 0') or diag($err);
        ok($took < 5, sprintf('rollback: ... without waiting for a verdict (%.2f s)', $took));
        my %was = map { $_ => 1 } @back;
        ok(wait_for(sub {
               my @w = grep { $_->[1] !~ /shutting down/ } workers_of($ngx, 'nginx');
               @w == 2 && !grep { $was{ $_->[0] } } @w }, 10),
           'rollback: ... and nginx has new workers');
    }
    $s->stop;
}

# ---------------------------------------------------------------------------
# `moongate -s upgrade` with nginx's pid file: nginx writes no upgrade state, so the command
# watches the pid files (USR2, .oldbin, the new master's workers) and then sends WINCH and QUIT

# nginx from a copy of its binary (the copy then replaced by `$new`); the master's pid
sub start_nginx {
    my ($label, $name) = @_;
    my $s = Test::MoongateProc->new(name => $name, workers => 2);
    $s->write_conf(text => conf($s));
    my $bin = $s->dir . '/sbin/nginx';
    install($Nginx, $bin);
    $s->{binary} = $bin;
    my ($code, $out, $err) = $s->cmd('-g', 'worker_processes 2;');
    is($code, 0, "$label: nginx starts") or diag("$out$err" . $s->log_tail);
    my $ngx = wait_for(sub { my $p = $s->pid; $p && proc_title($p) =~ /^nginx: master/ ? $p : 0 });
    ok($ngx, "$label: the pid file names the nginx master");
    my @nw = wait_workers_of($ngx, 'nginx', 2);
    ok(served_by($s->port, @nw), "$label: nginx serves");
    return ($s, $bin, $ngx);
}

# moongate's -s upgrade, run from moongate's own binary against the running nginx
sub upgrade_cmd {
    my $s = shift;
    return Test::Moongate::run_cmd({ timeout => 60 }, $Binary, '-p', $s->dir . '/', '-c',
                                   $s->conf_file, '-g', 'worker_processes 2;', '-s', 'upgrade');
}

{
    my ($s, $bin, $ngx) = start_nginx('command', 'mig-cmd');
    if ($ngx) {
        my $nc = load_start(port => $s->port, conns => 4, keepalive => 0, body => $Body);
        install($Binary, $bin);
        my ($code, $out, $err) = upgrade_cmd($s);
        is($code, 0, 'command: -s upgrade against the nginx master exits 0') or diag("$out$err");
        my $mg = $s->pid // 0;
        like(proc_title($mg), qr/^moongate: master process /, 'command: the pid file names moongate\'s master');
        ok(wait_gone(10, $ngx), 'command: the nginx master was told WINCH and QUIT: it exits');
        ok(!-e $s->oldbin_file, 'command: no .oldbin left');
        my @mw = wait_workers_of($mg, 'moongate', 2);
        ok(served_by($s->port, @mw), 'command: moongate serves alone');
        check_load('command: a new connection per request', $nc->finish);
    }
    $s->stop;
}

{
    my ($s, $bin, $ngx) = start_nginx('command fails', 'mig-cmdfail');
    if ($ngx) {
        # a new binary that cannot serve: nginx execs it, it exits, nginx takes its pid file back
        spew("$bin.new", "#!/bin/sh\nexit 1\n");
        chmod 0755, "$bin.new";
        rename "$bin.new", $bin or die "rename: $!";
        my ($code, $out, $err) = upgrade_cmd($s);
        is($code, 1, 'command fails: -s upgrade exits 1');
        like($err, qr/upgrade failed: the new binary exited; process $ngx serves on/,
             'command fails: it says why');
        ok(proc_alive($ngx), 'command fails: the nginx master still runs');
        is($s->pid, $ngx, 'command fails: the pid file names nginx again');
        ok(!-e $s->oldbin_file, 'command fails: no .oldbin left');
        my @nw = wait_workers_of($ngx, 'nginx', 2);
        ok(served_by($s->port, @nw), 'command fails: nginx serves on');
        install($Nginx, $bin);
    }
    $s->stop;
}

Test::More::done_testing();
