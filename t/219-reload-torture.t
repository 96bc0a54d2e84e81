# Reload torture (issue 14, item 6): 100 HUPs 100 ms apart and 10 upgrades (`-s upgrade`:
# USR2, then WINCH and QUIT of the old master) under every kind of client at once: keepalive
# GETs, a new connection per request, POSTs with bodies on keepalive connections, WebSocket
# tunnels through the proxy and slow readers of a large file.  Nothing may fail; the old
# workers stay bounded (at most 4 draining generations keep idle connections, beyond them
# only the connections in flight keep a worker); afterwards the processes, the master's and the
# workers' descriptors and memory are back where they started.  Bounded: about a minute of
# wall time on a loaded machine.
#
# moongate only: nginx fails it by design (idle keepalive connections closed at reload).
#   TEST_MOONGATE_FORCE=1 TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/219-reload-torture.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::MoongateBackend;
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Socket qw(SOL_SOCKET SO_RCVBUF IPPROTO_TCP TCP_NODELAY);
use Time::HiRes ();

if (is_nginx && !$ENV{TEST_MOONGATE_FORCE}) {
    Test::More::plan(skip_all => 'reload torture: moongate only (nginx fails it by design; '
                     . 'TEST_MOONGATE_FORCE=1 runs it anyway)');
}

my $N = proc_name;
my $Hups = $ENV{TEST_MOONGATE_TORTURE_HUPS} || 100;
my $Upgrades = $ENV{TEST_MOONGATE_TORTURE_UPGRADES} || 10;
my $Workers = 2;
my $Tunnels = 3;
my $Slow = 2;
my $BigSize = 1 << 20;

backend(ws => 'websocket');

my $server = sub {
    my $v = shift;
    return <<"EOF";
        location / { return 200 "v$v \$pid\\n"; }
        location = /post {
            client_body_buffer_size 128k;
            content_by_lua_block {
                ngx.req.read_body()
                local answer = "post " .. #(ngx.req.get_body_data() or "") .. "\\n"
                ngx.header["Content-Length"] = #answer
                ngx.print(answer)
            }
        }
        location = /big { }
        location /ws {
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_pass http://127.0.0.1:$Port{ws};
        }
EOF
};

my $s = Test::MoongateProc->new(name => 'torture', workers => $Workers, server => $server->(1),
                                main => 'upgrade_timeout 20s;');
$s->use_binary_copy;
spew($s->html . '/big', 'b' x $BigSize);
my $m0 = $s->start;
ok($m0, 'started') or stop_here();

# ---------------------------------------------------------------------------
# what a process holds: descriptors and resident memory

sub fds { my @f = glob("/proc/$_[0]/fd/*"); return scalar @f }
sub rss_kb { my ($kb) = slurp("/proc/$_[0]/status") =~ /^VmRSS:\s+(\d+) kB/m; return $kb // 0 }

# the TCP connections (not listeners) a process holds: its socket fds whose inode
# /proc/net/tcp{,6} lists in a state other than LISTEN (0A)
sub tcp_conns {
    my %conn;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        <$fh>;
        # (a lexical line: $_ is the caller's grep alias of a worker pid, which a while (<$fh>)
        # would leave undef, and every later per-worker count would read nothing)
        while (defined(my $l = <$fh>)) {
            my @x = split ' ', $l;
            $conn{$x[9]} = 1 if $x[3] ne '0A' && $x[9];
        }
    }
    return scalar grep { (readlink($_) // '') =~ /^socket:\[(\d+)\]$/ && $conn{$1} }
        glob("/proc/$_[0]/fd/*");
}

# an idle server: the master and its workers, none draining, no worker holding a connection
# (a client's close reaches the worker a moment later: counted before that, its descriptor
# would make the start look one higher than the end)
sub idle_state {
    my $m = $s->pid or return undef;    # the pid file between two writes: look again
    my @w = $s->wait_workers($Workers, master => $m);
    return undef unless @w == $Workers && !grep { !defined } @w;
    return undef if grep { tcp_conns($_) } @w;
    # a request through each connection kind warms the workers up (Lua, the proxy, the file)
    return {
        master => $m, master_fds => fds($m), master_rss => rss_kb($m),
        worker_fds => [sort { $a <=> $b } map { fds($_) } @w],
        worker_rss => (sort { $b <=> $a } map { rss_kb($_) } @w)[0],
    };
}

# ---------------------------------------------------------------------------
# clients beside load_start's GETs: each a forked process looping one scenario until TERM,
# counting ok and failed (with the first failures' details) into a JSON file

my @Clients;

sub client_start {
    my ($name, $run) = @_;
    my $file = Test::MoongateProc::proc_root() . "/torture.$name.$$.json";
    unlink $file;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{PIPE} = 'IGNORE';
        # told to stop by a file, between two exchanges: a signal would cut a wait short
        $SIG{TERM} = 'IGNORE';
        my %res = (ok => 0, failed => 0, samples => []);
        my $t0 = Time::HiRes::time();
        my $last = 0;
        my $save = sub {
            open my $fh, '>', "$file.tmp" or return;
            print $fh JSON::PP->new->encode(\%res);
            close $fh;
            rename "$file.tmp", $file;
        };
        my $state = {};
        while (!-e "$file.stop") {
            my $err = eval { $run->($state) };
            $err = "died: $@" if !defined $err && $@;
            if (defined $err && length $err) {
                $res{failed}++;
                push @{ $res{samples} }, sprintf('%.3f %s', Time::HiRes::time() - $t0, $err)
                    if @{ $res{samples} } < 10;
                close $state->{fh} if $state->{fh};
                $state->{fh} = undef;
            } else {
                $res{ok}++;
            }
            if (Time::HiRes::time() - $last > 0.1) { $save->(); $last = Time::HiRes::time() }
        }
        close $state->{fh} if $state->{fh};
        $save->();
        POSIX::_exit(0);
    }
    push @Clients, { name => $name, pid => $pid, file => $file };
    wait_for(sub { my $r = client_result($Clients[-1]); $r && $r->{ok} > 0 });
    return $Clients[-1];
}

sub client_result {
    my $c = shift;
    my $t = slurp($c->{file});
    return length $t ? eval { JSON::PP->new->decode($t) } : undef;
}

sub client_finish {
    my $c = shift;
    spew("$c->{file}.stop", '');
    my $gone = wait_for(sub { waitpid($c->{pid}, POSIX::WNOHANG()) == $c->{pid} }, 30);
    unless ($gone) { kill 'KILL', $c->{pid}; waitpid($c->{pid}, 0) }
    unlink "$c->{file}.stop";
    my $r = client_result($c) // { ok => 0, failed => -1, samples => ['no result'] };
    unlink $c->{file};
    return $r;
}

END { kill 'KILL', map { $_->{pid} } @Clients if @Clients }

sub connect_to {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port,
                                     Proto => 'tcp', Timeout => 5) or return;
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    return $sock;
}

sub send_all {
    my ($fh, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($fh, $data, length($data) - $off, $off);
        return 0 unless defined $n;
        $off += $n;
    }
    return 1;
}

# reads an HTTP/1.1 response with a Content-Length body: (status, headers, body) or an error
# string; $rate: bytes per 20 ms (a slow reader)
sub read_response {
    my ($fh, %o) = @_;
    my $sel = IO::Select->new($fh);
    my $buf = '';
    my ($status, %h, $body_start);
    while (1) {
        return "timeout after " . length($buf) . " bytes" unless $sel->can_read(10);
        my $n = sysread($fh, my $chunk, $o{rate} // 65536);
        return "read: $!" unless defined $n;
        return (length $buf ? 'eof after ' . length($buf) . ' bytes' : 'eof, no bytes') if $n == 0;
        $buf .= $chunk;
        if (!defined $body_start) {
            my $i = index($buf, "\r\n\r\n");
            next if $i < 0;
            my ($line, @hl) = split /\r\n/, substr($buf, 0, $i);
            ($status) = $line =~ m{^HTTP/1\.1 (\d{3}) } or return "bad status line: $line";
            for (@hl) { $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
            return 'no content-length' unless defined $h{'content-length'};
            $body_start = $i + 4;
        }
        last if length($buf) >= $body_start + $h{'content-length'};
        Time::HiRes::sleep(0.02) if $o{rate};
    }
    return ($status, \%h, substr($buf, $body_start));
}

# POSTs with bodies of 1 byte to 100 KB on a keepalive connection
sub post_client {
    my $st = shift;
    my $reused = $st->{fh} ? 1 : 0;
    $st->{fh} //= connect_to() or return "connect: $!";
    my $len = 1 + int(rand(100_000));
    send_all($st->{fh}, "POST /post HTTP/1.1\r\nHost: localhost\r\nContent-Length: $len\r\n\r\n"
                        . ('p' x $len)) or return "write ($reused): $!";
    my ($status, $h, $body) = read_response($st->{fh});
    return "$status (reused $reused)" unless ref $h;
    return "status $status" unless $status == 200;
    return "body '$body' for $len bytes" unless $body eq "post $len\n";
    if (($h->{connection} // '') =~ /close/i) { close $st->{fh}; $st->{fh} = undef }
    return '';
}

# a WebSocket tunnel: the upgrade, the backend's greeting, five messages echoed 20 ms apart
sub ws_client {
    my $st = shift;
    my $fh = $st->{fh} = connect_to() or return "connect: $!";
    send_all($fh, "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  . "Connection: Upgrade\r\n\r\n") or return "write: $!";
    my $got = Test::MoongateBackend::client_read($fh, qr/\r\n\r\nhello\n/, 10);
    return "no 101: '" . substr($got, 0, 40) . "'" unless $got =~ m{\AHTTP/1\.1 101 .*\r\n\r\nhello\n\z}s;
    for my $i (1 .. 5) {
        my $msg = "message $i " . ('m' x int(rand(2000))) . "\n";
        send_all($fh, $msg) or return "tunnel write $i: $!";
        my $echo = Test::MoongateBackend::client_read($fh, length $msg, 10);
        return "tunnel echo $i: " . length($echo) . ' of ' . length($msg) . ' bytes'
            unless $echo eq $msg;
        Time::HiRes::sleep(0.02);
    }
    close $fh;
    $st->{fh} = undef;
    return '';
}

# a reader with a small receive buffer taking /big (1 MB) 32 KB per 20 ms, on keepalive
sub slow_client {
    my $st = shift;
    unless ($st->{fh}) {
        $st->{fh} = connect_to() or return "connect: $!";
        setsockopt($st->{fh}, SOL_SOCKET, SO_RCVBUF, 32768);
    }
    send_all($st->{fh}, "GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n") or return "write: $!";
    my ($status, $h, $body) = read_response($st->{fh}, rate => 32768);
    return $status unless ref $h;
    return "status $status" unless $status == 200;
    return 'body of ' . length($body) . ' bytes' unless length($body) == $BigSize;
    if (($h->{connection} // '') =~ /close/i) { close $st->{fh}; $st->{fh} = undef }
    return '';
}

# ---------------------------------------------------------------------------
# the bound of draining generations without losing a request: an idle keepalive connection of
# a generation beyond the 4 newest draining ones still gets its next request answered (with
# "Connection: close") when it comes soon, and is closed when none comes

sub ka_conn {
    my $c = connect_to() or return;
    send_all($c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my ($status, $h) = read_response($c);
    return ref $h && $status == 200 && ($h->{connection} // '') !~ /close/i ? $c : undef;
}
{
    my ($soon, $idle) = (ka_conn(), ka_conn());
    ok($soon && $idle, 'two keepalive connections, idle');
    my @w = $s->worker_pids($s->pid);
    my @hold;               # an idle connection in each newer generation, so that it drains
    for my $i (1 .. 5) {
        my ($code, $out, $err) = $s->cmd('-s', 'reload');
        is($code, 0, "reload $i") or diag($err);
        push @hold, ka_conn() if $i < 5;
    }
    is(scalar(grep { defined } @hold), 4, 'four newer generations hold an idle connection each');
    # the connections' generation is the fifth newest draining one now; its workers were told
    # to shed idle connections after the fifth reload: the first gets its request 100 ms later
    Time::HiRes::sleep(0.1);
    ok(scalar(grep { proc_alive($_) } @w), 'the first generation\'s workers are still there');
    send_all($soon, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my ($status, $h, $body) = read_response($soon);
    is($status, 200, 'a request on it soon after: answered');
    like($h->{connection} // '', qr/close/i, '... with Connection: close') if ref $h;
    # the other one is closed within the grace (1 s) and a scan's period
    my $t = Time::HiRes::time();
    my $sel = IO::Select->new($idle);
    my $eof = $sel->can_read(10) && !sysread($idle, my $buf, 1);
    ok($eof, sprintf('a connection without a request is closed (after %.1f s)',
                     Time::HiRes::time() - $t));
    ok(wait_gone(10, @w), 'then the first generation\'s workers exit');
    close $_ for $soon, $idle, grep { defined } @hold;
}

# ---------------------------------------------------------------------------

# the state to come back to: a request of each kind first and a few reloads, so that what a
# first request allocates once and the allocator's high water mark with several generations
# alive are in it
for my $i (1 .. 5) {
    my ($code, $out, $err) = $s->cmd('-s', 'reload');
    is($code, 0, "warm-up reload $i") or diag($err);
}
{
    my %st;
    is(post_client(\%st), '', 'a POST is answered');
    close $st{fh} if $st{fh};
    %st = ();
    is(ws_client(\%st), '', 'a WebSocket tunnel echoes');
    %st = ();
    is(slow_client(\%st), '', 'a slow reader gets /big');
    close $st{fh} if $st{fh};
}
my $start = wait_for(sub { idle_state() }, 10);
ok($start, 'the idle state at the start (no worker holds a connection)') or stop_here();

my $Body = qr/^v\d+ \d+\n\z/;
my $ka = load_start(port => $s->port, conns => 10, keepalive => 1, body => $Body,
                    max_duration => 150);
my $nc = load_start(port => $s->port, conns => 2, keepalive => 0, body => $Body,
                    max_duration => 150);
my @cl = ((map { client_start("post$_", \&post_client) } 1 .. 2),
          (map { client_start("ws$_", \&ws_client) } 1 .. $Tunnels),
          (map { client_start("slow$_", \&slow_client) } 1 .. $Slow));
ok(1, 'every client runs');

# old workers seen at once: every worker of an old master and every draining one of the
# current master
my $max_old = 0;
sub sample_old {
    my @m = grep { $_ && proc_alive($_) } $s->pid, $s->oldbin_pid;
    my $cur = $s->pid // 0;
    my $old = 0;
    for my $m (@m) {
        for my $w ($s->workers($m)) {
            $old++ if $m != $cur || $w->[1] =~ /is shutting down$/;
        }
    }
    $max_old = $old if $old > $max_old;
}

my $t0 = Time::HiRes::time();
my ($v, $hups, $upgrades, @upgrade_errors) = (1, 0, 0);
my $old_master;
my $every = int($Hups / ($Upgrades || 1)) || $Hups + 1;
for my $i (1 .. $Hups) {
    if ($i % 10 == 1) {
        # a new configuration now and then; the other HUPs re-read the same one
        $v++;
        $s->write_conf(server => $server->($v));
    }
    my $next = Time::HiRes::time() + 0.1;
    $s->signal('HUP') and $hups++;
    while (1) {
        sample_old();
        my $left = $next - Time::HiRes::time();
        last if $left <= 0;
        Time::HiRes::sleep($left < 0.03 ? $left : 0.03);
    }
    if ($Upgrades && $i % $every == 0 && $upgrades < $Upgrades) {
        # the previous old master must be gone (-s upgrade refuses while .oldbin exists; the
        # new master ignores USR2 while its old master lives: under ASan its exit takes long)
        wait_for(sub { sample_old(); !-e $s->oldbin_file && !($old_master && kill 0, $old_master) },
                 40);
        my $was = $s->pid;
        my ($code, $out, $err) = $s->cmd({ timeout => 40 }, '-s', 'upgrade');
        if ($code == 0) { $upgrades++; $old_master = $was } else { push @upgrade_errors, $err }
    }
}
my $storm = Time::HiRes::time() - $t0;
is($hups, $Hups, "$Hups HUPs sent");
is($upgrades, $Upgrades, "$Upgrades upgrades done") or diag(join("\n", @upgrade_errors));
diag(sprintf('%d HUPs and %d upgrades in %.1f s; at most %d old workers at once',
             $hups, $upgrades, $storm, $max_old));
# 4 draining generations may keep idle connections; beyond them a worker stays only for a
# connection in flight (a tunnel, a slow reader, a request), one per client connection at most
my $bound = 4 * $Workers + $Tunnels + $Slow + 2 + 10 + 2;
cmp_ok($max_old, '<=', $bound, 'the old workers stay bounded');

# the last configuration serves; everything started from it
ok(wait_for(sub { (http_get($s->port, '/')->{body} // '') =~ /^v$v / }), "v$v serves");
$ka->wait_requests(100, 10);

my $rka = $ka->finish;
my $rnc = $nc->finish;
for ([keepalive => $rka], ['a new connection per request' => $rnc]) {
    my ($label, $r) = @$_;
    diag("$label: " . Test::MoongateProc::Load->summary($r));
    ok($r->{ok} > 0, "$label: served");
    is($r->{failed}, 0, "$label: nothing failed") or diag(join("\n", @{ $r->{samples} }));
}
for my $c (@cl) {
    my $r = client_finish($c);
    diag("$c->{name}: $r->{ok} ok, $r->{failed} failed");
    ok($r->{ok} > 0, "$c->{name}: served");
    is($r->{failed}, 0, "$c->{name}: nothing failed") or diag(join("\n", @{ $r->{samples} }));
}

# back to the start: the old masters and workers gone, the same descriptors, memory within a
# margin (allocator slack), checked once the last clients' connections closed
ok(wait_for(sub { !-e $s->oldbin_file && $s->workers($s->pid) == $Workers }, 20),
   'only the current master and its workers are left')
    or diag(join("\n", map { "@$_" } $s->workers($s->pid)));
my $end;
ok(wait_for(sub {
    $end = idle_state() or return 0;
    return "@{ $end->{worker_fds} }" eq "@{ $start->{worker_fds} }"
        && $end->{master_fds} == $start->{master_fds};
}, 10), 'the master and the workers hold as many descriptors as at the start')
    or diag("start: master $start->{master_fds}, workers @{ $start->{worker_fds} }; "
            . "end: master $end->{master_fds}, workers @{ $end->{worker_fds} }");
diag("RSS: master $start->{master_rss} -> $end->{master_rss} kB, "
     . "worker $start->{worker_rss} -> $end->{worker_rss} kB");
# the master (a new binary by then, after its own reloads under load) keeps its allocator's
# high water mark of several generations at once: a looser bound, still far below what a
# leak per reload would leave after 100 of them
SKIP: {
    # ASan's allocator keeps freed blocks in quarantine and its shadow grows: RSS says nothing
    skip 'RSS under AddressSanitizer', 2 if defined $ENV{ASAN_OPTIONS};
    cmp_ok($end->{master_rss}, '<=', $start->{master_rss} * 1.5 + 4096,
           'the master\'s memory stays bounded (within 50% + 4 MB)');
    cmp_ok($end->{worker_rss}, '<=', $start->{worker_rss} * 1.2 + 1024,
           'a worker\'s memory is back (within 20% + 1 MB)');
}
unlike(slurp($s->error_log), qr/\[(alert|crit|emerg)\]/, 'nothing alarming logged')
    or diag(join("\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, slurp($s->error_log)));

$s->stop;
Test::More::done_testing();
