package Test::MoongateProc;

# Helpers for the process-model tests (t/2xx): a real master with real workers, started as a
# daemon from a config of the test's own under t/servroot/<file>/<name>/, observed through its
# pid files, its error log and the process table (/proc), driven with real signals, and a load
# client that counts every failed request.
#
#   use Test::Moongate;                       # $Binary, run_cmd, find_free_port, Test::More
#   use Test::MoongateProc;
#
#   my $s = Test::MoongateProc->new(name => 'basic', workers => 2,
#                                   server => 'location / { return 200 "v1\n"; }');
#   $s->start;                                # daemon on, master_process on; waits for workers
#   my $m = $s->pid;                          # from the pid file
#   my @w = $s->workers;                      # [pid, title] of the master's worker children
#   $s->signal('HUP');                        # to the pid file's master (or ->signal(SIG, PID))
#   my $m1 = $s->usr2($m, 10);                # USR2 to $m: the new master once it runs
#   my ($code, $out, $err) = $s->reload;      # -s reload; 0: new connections get the new config
#   my $mark = $s->log_mark;                  # then $s->wait_log(qr/.../, $mark)
#   my $r = http_get($s->port, '/');          # { status, headers, body, error, raw }
#   $s->stop;                                 # TERM, then KILL, every process it started
#
#   my $load = load_start(port => $s->port, conns => 20);      # forked, non-blocking client
#   ...; my $res = $load->finish;             # { requests, ok, failed, errors => {kind => n}, ... }
#
# Every process a server object saw (masters from pid files, their children) is remembered and
# killed (SIGSTOP the masters first so that nothing is respawned, then SIGKILL the whole set) in an
# END block, also when the test dies or gets INT/TERM; so are load clients.  A pid is only
# signalled while its /proc start time is the one recorded, so a reused pid is never hit.
#
# The binary names itself in titles and messages: nginx for Debian's nginx
# (TEST_MOONGATE_BINARY=/usr/sbin/nginx), moongate otherwise; `proc_name` is that name.

use strict;
use warnings;

use Test::Moongate ();
use Test::More ();
use IO::Socket::INET ();
use IO::Select ();
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_ERROR IPPROTO_TCP TCP_NODELAY
              inet_aton pack_sockaddr_in);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK EINTR ECONNREFUSED ECONNRESET EPIPE);
use POSIX ();
use Time::HiRes ();
use File::Path ();
use File::Basename ();
use File::Copy ();
use File::Temp ();
use Cwd ();
use JSON::PP ();
use Exporter 'import';

our @EXPORT = qw(
    proc_name is_nginx wait_for wait_gone proc_alive proc_title proc_ppid children_of
    descendants_of stop_here http_get http_request tcp_refused slow_get load_start slurp spew
);

our $Name = File::Basename::basename($Test::Moongate::Binary) =~ /nginx/ ? 'nginx' : 'moongate';
our $Timeout = $ENV{TEST_MOONGATE_PROC_TIMEOUT} || 10;   # default bound of every wait

my $MainPid = $$;
my %Tracked;            # pid => start time (field 22 of /proc/PID/stat)
my @Loads;              # running load clients

sub proc_name() { $Name }
sub is_nginx() { $Name eq 'nginx' }
sub slurp { Test::Moongate::slurp(@_) }
sub spew { Test::Moongate::spew(@_) }

# ---------------------------------------------------------------------------
# the process table

sub _stat {
    my $pid = shift;
    open my $fh, '<', "/proc/$pid/stat" or return;
    my $line = <$fh> // return;
    # pid (comm) state ppid ... ; comm may hold spaces and parentheses
    $line =~ /^\d+ \(.*\) (\S) (\d+)((?: \S+){17}) (\d+)/s or return;
    return { state => $1, ppid => $2, start => $4 };
}

# alive and not a zombie (a daemon's exited processes may stay zombies when init does not reap)
sub proc_alive {
    my $pid = shift;
    return 0 unless $pid && $pid =~ /^\d+$/ && $pid > 1;
    my $st = _stat($pid) or return 0;
    return $st->{state} !~ /^[ZX]$/;
}

sub proc_ppid {
    my $st = _stat(shift) or return;
    return $st->{ppid};
}

# the title as ps shows it: the command line with NULs as spaces, trailing padding removed
sub proc_title {
    my $pid = shift;
    my $s = slurp("/proc/$pid/cmdline");
    $s =~ s/\0+\z//;
    $s =~ tr/\0/ /;
    $s =~ s/\s+\z//;
    return $s;
}

# live children of $pid: list of [pid, title], sorted by pid
sub children_of {
    my $ppid = shift;
    my @kids;
    opendir my $dh, '/proc' or return;
    for my $p (grep { /^\d+$/ } readdir $dh) {
        my $st = _stat($p) or next;
        next unless $st->{ppid} == $ppid && $st->{state} !~ /^[ZX]$/;
        push @kids, [$p + 0, proc_title($p)];
    }
    @kids = sort { $a->[0] <=> $b->[0] } @kids;
    return @kids;
}

sub descendants_of {
    my @todo = @_;
    my @all;
    while (defined(my $p = shift @todo)) {
        for my $k (children_of($p)) { push @all, $k->[0]; push @todo, $k->[0] }
    }
    return @all;
}

sub track {
    for my $pid (@_) {
        next unless $pid && !$Tracked{$pid};
        my $st = _stat($pid) or next;
        $Tracked{$pid} = $st->{start};
    }
}

# still the process we saw (not a reused pid) and alive
sub _same {
    my $pid = shift;
    my $st = _stat($pid) or return 0;
    return 0 if $st->{state} =~ /^[ZX]$/;
    return !defined $Tracked{$pid} || $Tracked{$pid} eq $st->{start};
}

# wait_for(sub { cond }, timeout): polls with a growing nap (10 ms at most: the naps grew to
# 75 ms, and a wait overshot its condition by half a nap on average; files wait for reloads,
# workers and log lines hundreds of times); returns the condition's last true value, or false
# after the timeout
sub wait_for {
    my ($cond, $timeout) = @_;
    $timeout //= $Timeout;
    my $deadline = Time::HiRes::time() + $timeout;
    my $nap = 0.002;
    while (1) {
        my $v = $cond->();
        return $v if $v;
        return 0 if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep($nap);
        $nap *= 1.5 if $nap < 0.007;
    }
}

# the rest of the file cannot run (the failure was reported): end the test file here
sub stop_here {
    Test::More::diag('stopping here: ' . (shift // 'nothing to test without a server'));
    Test::More::done_testing();
    exit 0;
}

# _refuse($what, $why): fails the test at the caller's caller (the test file's line) and returns
# false.  For a helper given nothing to check, whose check would then pass at once.
sub _refuse {
    my ($what, $why) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 2;
    Test::More::ok(0, "$what: $why");
    return 0;
}

# wait_gone($timeout, @pids): true once none of @pids is alive, false after the timeout.  An
# empty list or a pid that is not one (undef: a pid file read too early, a server that never
# forked its workers) would be "all gone" at once, a check that cannot fail: it fails the test.
sub wait_gone {
    my ($timeout, @pids) = @_;
    return _refuse('wait_gone', 'no pid to wait for') unless @pids;
    my @bad = grep { !defined || !/^\d+$/ || $_ <= 1 } @pids;
    return _refuse('wait_gone', 'not a pid: ' . join(', ', map { $_ // 'undef' } @bad)) if @bad;
    return wait_for(sub { !grep { proc_alive($_) } @pids }, $timeout);
}

# ---------------------------------------------------------------------------
# HTTP

# http_request($port, $raw_request, timeout => 5): one connection, the request, read to EOF.
# Returns { status, headers => {lc name => value}, body, raw, error }.
sub http_request {
    my ($port, $req, %o) = @_;
    my $timeout = $o{timeout} // 5;
    my %r = (raw => '', error => undef);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => $timeout);
    unless ($s) { $r{error} = "connect: $!"; return \%r }
    local $SIG{PIPE} = 'IGNORE';
    unless (defined syswrite($s, $req)) { $r{error} = "write: $!"; return \%r }
    my $sel = IO::Select->new($s);
    my $deadline = Time::HiRes::time() + $timeout;
    while (1) {
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0 || !$sel->can_read($left)) { $r{error} = 'timeout'; last }
        my $n = sysread($s, my $buf, 65536);
        if (!defined $n) { next if $!{EINTR} || $!{EAGAIN}; $r{error} = "read: $!"; last }
        last if $n == 0;
        $r{raw} .= $buf;
    }
    close $s;
    _parse_response(\%r);
    return \%r;
}

sub _parse_response {
    my $r = shift;
    my $i = index($r->{raw}, "\r\n\r\n");
    return if $i < 0;
    my $head = substr($r->{raw}, 0, $i);
    $r->{body} = substr($r->{raw}, $i + 4);
    my ($line, @h) = split /\r\n/, $head;
    ($r->{status}) = $line =~ m{^HTTP/\d\.\d (\d{3})};
    for (@h) { $r->{headers}{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
    if (($r->{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
        # decoded; an incomplete chunked body sets error
        my ($in, $out) = ($r->{body}, '');
        while ($in =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            if ($n == 0) { $r->{chunked_complete} = 1; last }
            last if length($in) < $n + 2;
            $out .= substr($in, 0, $n);
            substr($in, 0, $n + 2) = '';
        }
        $r->{body} = $out;
        $r->{error} //= 'truncated chunked body' unless $r->{chunked_complete};
    }
}

# http_get($port, $path, host => 'x', headers => "X: y\r\n", timeout => 5)
sub http_get {
    my ($port, $path, %o) = @_;
    my $req = "GET " . ($path // '/') . " HTTP/1.1\r\nHost: " . ($o{host} // 'localhost')
        . "\r\nConnection: close\r\n" . ($o{headers} // '') . "\r\n";
    return http_request($port, $req, %o);
}

# the port refuses connections (nothing listens any more)
sub tcp_refused {
    my $port = shift;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 2);
    return 0 if $s;
    return $!{ECONNREFUSED} ? 1 : 0;
}

# slow_get($port, $path, keepalive => 0): a connection with a small receive buffer that sends
# a GET and reads only the head and the first bytes of the body, so that the response stays in
# flight (the server blocks on a full socket) until ->finish reads the rest.  A large file makes
# the worker wait.  ->finish(timeout) returns { status, headers, body_len, body (when small),
# tail (the last 256 bytes), eof, error }; ->close drops the connection.
sub slow_get {
    my ($port, $path, %o) = @_;
    socket(my $fh, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
    setsockopt($fh, SOL_SOCKET, Socket::SO_RCVBUF(), 4096);
    connect($fh, pack_sockaddr_in($port, inet_aton('127.0.0.1'))) or return undef;
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\n"
            . ($o{keepalive} ? '' : "Connection: close\r\n") . "\r\n";
    local $SIG{PIPE} = 'IGNORE';
    syswrite($fh, $req) or return undef;
    my $self = bless { fh => $fh, raw => '' }, 'Test::MoongateProc::Slow';
    # the head and a first piece of the body
    my $sel = IO::Select->new($fh);
    my $deadline = Time::HiRes::time() + 5;
    while (index($self->{raw}, "\r\n\r\n") < 0 && Time::HiRes::time() < $deadline) {
        $sel->can_read(0.5) or next;
        my $n = sysread($fh, my $buf, 4096);
        last unless $n;
        $self->{raw} .= $buf;
    }
    my $i = index($self->{raw}, "\r\n\r\n");
    return undef if $i < 0;
    my ($line, @h) = split /\r\n/, substr($self->{raw}, 0, $i);
    ($self->{status}) = $line =~ m{^HTTP/\d\.\d (\d{3})};
    for (@h) { $self->{headers}{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
    $self->{body_len} = length($self->{raw}) - $i - 4;
    $self->{body} = substr($self->{raw}, $i + 4);
    return $self;
}

package Test::MoongateProc::Slow;

sub status { $_[0]{status} }
sub headers { $_[0]{headers} }

sub finish {
    my ($self, $timeout) = @_;
    $timeout //= 20;
    my $fh = $self->{fh};
    my $sel = IO::Select->new($fh);
    my $want = $self->{headers}{'content-length'};
    my $deadline = Time::HiRes::time() + $timeout;
    while (!defined $want || $self->{body_len} < $want) {
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0) { $self->{error} = 'timeout'; last }
        $sel->can_read($left) or next;
        my $n = sysread($fh, my $buf, 262144);
        if (!defined $n) { next if $!{EINTR} || $!{EAGAIN}; $self->{error} = "read: $!"; last }
        if ($n == 0) { $self->{eof} = 1; last }
        $self->{body_len} += $n;
        $self->{body} .= $buf if length($self->{body}) < 65536;
        $self->{tail} = substr(($self->{tail} // '') . $buf, -256);
    }
    close $fh;
    return { map { $_ => $self->{$_} } qw(status headers body_len body tail eof error) };
}

sub close { close $_[0]{fh} }

package Test::MoongateProc;

# ---------------------------------------------------------------------------
# a server: its own directory, config, pid file and logs

# new(name => 'x', workers => 2, port => N, main => '', events => '', http => '', server => '',
#     listen => 'extra listen parameters', access_log => 0|1, binary => path, error_level => 'info',
#     stream => 'the inside of a top-level stream {} block (none when empty)',
#     master => 0 for master_process off: one process serves, and keeps serving old generations)
sub new {
    my ($class, %o) = @_;
    my $self = bless {
        name => $o{name} // 'server',
        workers => $o{workers} // 2,
        port => $o{port} // Test::Moongate::find_free_port(),
        binary => $o{binary} // $Test::Moongate::Binary,
        error_level => $o{error_level} // 'info',
        access_log => $o{access_log} // 0,
        master => $o{master} // 1,
        map { $_ => $o{$_} // '' } qw(main events http server listen stream),
    }, $class;
    $self->{dir} = proc_root() . "/$self->{name}";
    File::Path::remove_tree($self->{dir});
    File::Path::make_path(map { "$self->{dir}/$_" } qw(conf logs html sbin));
    chmod 0755, proc_root(), $self->{dir}, map { "$self->{dir}/$_" } qw(conf logs html);
    spew("$self->{dir}/html/index.html", "index\n");
    $self->write_conf;
    return $self;
}

# Where servers live: the test's servroot, unless some directory above it is closed to other
# users (a checkout under /root, say): workers run as nobody when the tests run as root and
# must reach their logs (USR1 reopens them as the worker user), so then a world-traversable
# directory under /tmp is used instead and removed at the end.
my $ProcRoot;
sub proc_root {
    return $ProcRoot if defined $ProcRoot;
    my $dir = Cwd::abs_path($Test::Moongate::ServRoot) // $Test::Moongate::ServRoot;
    my $open = 1;
    for (my $d = File::Basename::dirname($dir); ; $d = File::Basename::dirname($d)) {
        my @st = stat $d;
        $open = 0 if @st && !($st[2] & 01);
        last if $d eq '/' || $d eq '.';
    }
    if ($open) {
        $ProcRoot = $Test::Moongate::ServRoot;
        File::Path::make_path($ProcRoot);
    } else {
        $ProcRoot = File::Temp::tempdir('moongate-proc-XXXXXX', TMPDIR => 1, CLEANUP => 1);
        chmod 0755, $ProcRoot;
    }
    return $ProcRoot;
}

sub dir { $_[0]{dir} }
sub port { $_[0]{port} }
sub conf_file { "$_[0]{dir}/conf/$Name.conf" }
sub pid_file { "$_[0]{dir}/logs/$Name.pid" }
sub oldbin_file { "$_[0]{dir}/logs/$Name.pid.oldbin" }
sub error_log { "$_[0]{dir}/logs/error.log" }
sub access_log { "$_[0]{dir}/logs/access.log" }
sub html { "$_[0]{dir}/html" }
sub binary { $_[0]{binary} }

# A copy of the binary in <dir>/sbin/, used from then on (an upgrade execs the file on disk).
sub use_binary_copy {
    my $self = shift;
    my $copy = "$self->{dir}/sbin/$Name";
    File::Copy::copy($self->{binary}, $copy) or die "copy $self->{binary}: $!";
    chmod 0755, $copy;
    $self->{binary} = $copy;
    return $copy;
}

# The config text for the given parts (defaults: the object's); also written by write_conf.
sub conf_text {
    my ($self, %o) = @_;
    my %p = (%$self, %o);
    my $d = $self->{dir};
    my $c = "daemon on;\nmaster_process " . ($p{master} ? 'on' : 'off')
          . ";\nworker_processes $p{workers};\n"
          . "error_log $d/logs/error.log $p{error_level};\npid $d/logs/$Name.pid;\n"
          . (length $p{stream} && is_nginx() && $p{main} !~ /load_module/
             ? "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n" : '')
          . "$p{main}\n"
          . "events {\n    worker_connections 512;\n$p{events}\n}\n\n"
          . (length $p{stream} ? "stream {\n$p{stream}\n}\n\n" : '')
          . "http {\n    default_type text/plain;\n"
          . ($p{access_log} ? "    access_log $d/logs/access.log;\n" : "    access_log off;\n")
          . "    client_body_temp_path $d/client_body_temp;\n";
    $c .= "    ${_}_temp_path $d/${_}_temp;\n" for is_nginx() ? qw(proxy fastcgi uwsgi scgi) : ();
    $c .= "$p{http}\n    server {\n        listen 127.0.0.1:$p{port}"
        . (length $p{listen} ? " $p{listen}" : '') . ";\n        root $d/html;\n"
        . "$p{server}\n    }\n}\n";
    return $c;
}

# write_conf(%parts) or write_conf(text => '...'); the parts given are kept for later writes
sub write_conf {
    my ($self, %o) = @_;
    my $text = delete $o{text};
    unless (defined $text) {
        $self->{$_} = $o{$_} for keys %o;
        $text = $self->conf_text;
    }
    spew($self->conf_file, $text);
    chmod 0644, $self->conf_file;
    return $text;
}

# the binary with -p and -c (and the arguments given), through run_cmd: (code, stdout, stderr)
sub cmd {
    my ($self, @args) = @_;
    my $opts = ref $args[0] eq 'HASH' ? shift @args : { timeout => 20 };
    return Test::Moongate::run_cmd($opts, $self->{binary}, '-p', "$self->{dir}/",
                                   '-c', $self->conf_file, @args);
}

sub _read_pidfile {
    my $f = shift;
    my $s = slurp($f);
    return $s =~ /\A(\d+)\n\z/ ? $1 + 0 : undef;
}

sub pid {
    my $self = shift;
    my $p = _read_pidfile($self->pid_file);
    if ($p) { track($p); $self->{masters}{$p} = 1 }
    return $p;
}
sub oldbin_pid {
    my $self = shift;
    my $p = _read_pidfile($self->oldbin_file);
    if ($p) { track($p); $self->{masters}{$p} = 1 }
    return $p;
}

# USR2 to the master $old: the new master's pid once the pid file names it (alive) and
# pid.oldbin names $old; 0 when that did not come in $timeout seconds (wait_for's)
sub usr2 {
    my ($self, $old, $timeout) = @_;
    $self->signal('USR2', $old);
    return wait_for(sub {
        my $p = $self->pid;
        $p && $p != $old && ($self->oldbin_pid // 0) == $old && proc_alive($p) ? $p : 0;
    }, $timeout);
}

# the binary upgrade: usr2 (10 s), the new master's $n workers, $between->() while both binaries
# run, QUIT to the old master and its exit (10 s): the new master's pid, or undef
sub upgrade {
    my ($self, $n, $between) = @_;
    my $old = $self->pid;
    my $new = $self->usr2($old, 10);
    return unless $new && $self->wait_workers($n, master => $new);
    $between->() if $between;
    $self->signal('QUIT', $old);
    return wait_gone(10, $old) ? $new : undef;
}

# [pid, title] of the worker children of $master (default: the pid file's); draining => 0 leaves
# out the ones "is shutting down", draining => 1 keeps only those
sub workers {
    my ($self, $master, %o) = @_;
    $master //= $self->pid or return;
    my @w = grep { $_->[1] =~ /^\Q$Name\E: worker process/ } children_of($master);
    track(map { $_->[0] } @w);
    if (defined $o{draining}) {
        @w = grep { ($_->[1] =~ /is shutting down$/ ? 1 : 0) == $o{draining} } @w;
    }
    return @w;
}

sub worker_pids { my $self = shift; return map { $_->[0] } $self->workers(@_) }

# waits until $master (default: the pid file's) has exactly $n workers not shutting down and
# none shutting down (all => 1, the default) and returns their pids, or () after the timeout;
# $n is at least 1 (with 0 the answer would be () whether or not it came)
sub wait_workers {
    my ($self, $n, %o) = @_;
    return _refuse('wait_workers', ($n // 'undef') . " workers: () could not tell a timeout")
        unless ($n // 0) >= 1;
    my $all = $o{all} // 1;
    my @pids;
    wait_for(sub {
        my $m = $o{master} // $self->pid or return 0;
        my @w = $self->workers($m);
        my @live = grep { $_->[1] !~ /is shutting down$/ } @w;
        return 0 unless @live == $n && (!$all || @w == $n);
        @pids = map { $_->[0] } @live;
        return 1;
    }, $o{timeout});
    return @pids;
}

# start: the binary with the config; returns the master's pid once the pid file names a live
# master and it has its workers (0 and a diag on failure); cmd_timeout bounds the command
# (20 s), timeout the wait for the workers (5 s)
sub start {
    my ($self, %o) = @_;
    unlink $self->pid_file, $self->oldbin_file;
    my ($code, $out, $err) = $self->cmd({ timeout => $o{cmd_timeout} // 20 }, @{ $o{args} || [] });
    if ($code != 0) {
        Test::More::diag("$self->{binary} exited $code: $out$err" . _tail($self->error_log));
        return 0;
    }
    my $m = wait_for(sub { my $p = $self->pid; $p && proc_alive($p) ? $p : 0 });
    unless ($m) { Test::More::diag("no pid file " . $self->pid_file); return 0 }
    my $n = $o{workers} // $self->{workers};
    unless ($n == 0 || $self->wait_workers($n, master => $m, timeout => $o{timeout} // 5)) {
        Test::More::diag("master $m: not $n workers: "
                         . join(', ', map { "@$_" } children_of($m)) . _tail($self->error_log));
        return 0;
    }
    return $m if $o{no_worker};
    # a worker title is set before its listeners are polled: wait until one answers, or closes
    # the connection itself (a listener that takes no plain GET: proxy_protocol's broken header;
    # waiting for a status there took the whole 5 s)
    wait_for(sub {
        my $r = http_get($self->{port}, '/', timeout => 1);
        defined $r->{status} || !defined $r->{error};
    }, 5);
    return $m;
}

# kill -SIG: to the pid file's master, or to the pids given
sub signal {
    my ($self, $sig, @pids) = @_;
    @pids = ($self->pid) unless @pids;
    @pids = grep { defined } @pids;
    return _refuse("signal $sig", 'no pid to signal') unless @pids;
    track(@pids);
    return kill($sig, @pids);
}

# reload(workers => N, timeout => S): `-s reload` to the pid file's master; returns (code,
# stdout, stderr).  Code 0 means the reload is done: every connection opened from then on
# reaches the new generation (a bare HUP returns before that, and a request sent right after it
# may still be accepted by an old worker).  moongate's -s reload waits for the master's verdict
# (exit 1 and the error when the config was rejected).  nginx's only sends HUP, so for nginx
# this waits until each worker from before is gone or titled "is shutting down" (set right
# before it closes its listeners, with no event handled in between) and N new ones run; code 1
# if that does not happen in time (e.g. a rejected config).
sub reload {
    my ($self, %o) = @_;
    my $m = $self->pid;
    my %old = map { $_ => 1 } $m ? $self->worker_pids($m) : ();
    my ($code, $out, $err) = $self->cmd({ timeout => $o{cmd_timeout} // 20 }, '-s', 'reload');
    return ($code, $out, $err) unless is_nginx() && $code == 0 && $m;
    my $n = $o{workers} // $self->{workers};
    my $done = wait_for(sub {
        my @w = $self->workers($m);
        my @accepting = grep { $_->[1] !~ /is shutting down$/ } @w;
        return !grep({ $old{$_->[0]} } @accepting) && @accepting == $n;
    }, $o{timeout});
    return ($done ? 0 : 1, $out, $done ? $err : "$err(nginx: the old workers did not stop)\n");
}

# every process of this server and its upgrades, for the tests' process-tree checks
sub all_pids {
    my $self = shift;
    my @m = grep { $_ && proc_alive($_) } $self->pid, $self->oldbin_pid;
    my %all = map { $_ => 1 } @m, descendants_of(@m);
    track(keys %all);
    return sort { $a <=> $b } keys %all;
}

# stop: TERM to every master of this server we know of (the pid files' and every master it
# started or read from them), repeated (a signal can land while a master is busy), then STOP and
# KILL whatever is left; true when TERM was enough
sub stop {
    my $self = shift;
    my @m = grep { $_ && _same($_) } $self->pid, $self->oldbin_pid, keys %{ $self->{masters} || {} };
    my %seen;
    @m = grep { !$seen{$_}++ } @m;
    return 1 unless @m;                 # nothing of it runs
    my @all = (@m, descendants_of(@m));
    track(@all);
    my $deadline = Time::HiRes::time() + 5;
    while (Time::HiRes::time() < $deadline) {
        kill 'TERM', grep { _same($_) } @m;
        return 1 if wait_gone(0.2, @all);
    }
    kill 'STOP', grep { _same($_) } @m;
    @all = (@all, descendants_of(@m));
    kill 'KILL', grep { _same($_) } @all;
    wait_gone(2, @all);
    Test::More::diag("$self->{name}: had to SIGKILL the server");
    return 0;
}

# the error log: a mark (its size now) and what was written after it
sub log_mark { my $self = shift; return -s $self->error_log || 0 }
sub log_since {
    my ($self, $mark) = @_;
    my $s = slurp($self->error_log) // '';
    $mark //= 0;
    # a log shorter than the mark was replaced since (a new servroot): all of it is new
    return length($s) >= $mark ? substr($s, $mark) : $s;
}
sub wait_log {
    my ($self, $re, $mark, $timeout) = @_;
    return wait_for(sub { $self->log_since($mark) =~ $re }, $timeout);
}

sub _tail {
    my $f = shift;
    my @l = split /\n/, slurp($f);
    @l = @l[-15 .. -1] if @l > 15;
    return @l ? "\n--- $f (tail):\n" . join("\n", @l) . "\n" : '';
}
sub log_tail { _tail($_[0]->error_log) }

# ---------------------------------------------------------------------------
# the load client
#
# load_start(port => N, conns => 20, keepalive => 1, requests_per_conn => 0, path => '/',
#            host => 'localhost', status => 200, body => qr/.../, timeout => 5,
#            max_duration => 60, pause => 0)
#
# Forks one process that keeps `conns` connections busy with GET requests in a non-blocking
# loop until stopped (finish) or max_duration.  keepalive => 1: HTTP/1.1 keep-alive requests,
# reconnecting when the server answers "Connection: close" (and after requests_per_conn
# requests when set); keepalive => 0: a new connection with "Connection: close" per request.
# Every request is counted once: ok, or failed with a kind:
#   connect_refused connect_error connect_timeout  write_reset  reset  eof_idle (EOF before any
#   byte of the response on a reused keepalive connection: nginx's reload race)  eof_partial
#   (EOF inside the response)  bad_response  status_NNN  bad_body  timeout
# `failures` lists the first 1000 failed requests: { t (epoch seconds), kind, conn (its number),
# nreq (the request's number on its connection), prev (the body of the connection's previous
# response, which tells whose connection it was) }.
# The result also counts bodies (first 40 bytes) and, per body, the first and last time a
# connection that was *started* at that time got it as its first response (new_first/new_last,
# epoch seconds): with the times of reloads this shows how soon new connections get a new config.
# $load->progress reads the counters while it runs (updated every 100 ms).

sub load_start {
    my %o = (conns => 20, keepalive => 1, requests_per_conn => 0, path => '/', host => 'localhost',
             status => 200, body => undef, timeout => 5, max_duration => 60, pause => 0, @_);
    die "load_start: port?\n" unless $o{port};
    my $file = proc_root() . "/load.$$." . (scalar(@Loads) + 1) . '.json';
    unlink $file;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $ok = eval { _load_run(\%o, $file); 1 };
        print STDERR "load client: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    my $self = bless { pid => $pid, file => $file, opts => \%o, started => Time::HiRes::time() },
        'Test::MoongateProc::Load';
    push @Loads, $self;
    # wait until it has completed requests, so that whatever the test does next happens under load
    wait_for(sub { my $p = $self->progress; $p && $p->{requests} > 0 }, 5);
    return $self;
}

sub _load_run {
    my ($o, $file) = @_;
    $SIG{PIPE} = 'IGNORE';
    my $stop = 0;
    $SIG{TERM} = $SIG{INT} = $SIG{USR1} = sub { $stop = 1 };
    my $t0 = Time::HiRes::time();
    my %res = (requests => 0, ok => 0, failed => 0, errors => {}, samples => [], bodies => {},
               new_first => {}, new_last => {}, connections => 0, closes => 0, failures => []);
    my $addr = pack_sockaddr_in($o->{port}, inet_aton('127.0.0.1'));
    my $req = "GET $o->{path} HTTP/1.1\r\nHost: $o->{host}\r\n"
            . ($o->{keepalive} ? '' : "Connection: close\r\n") . "\r\n";
    my @c = map { { id => $_, fh => undef } } 1 .. $o->{conns};
    my $last_write = 0;

    my $fail = sub {
        my ($c, $kind, $detail) = @_;
        $res{requests}++;
        $res{failed}++;
        $res{errors}{$kind}++;
        push @{ $res{samples} }, sprintf('%.3f %s conn#%d req#%d%s', Time::HiRes::time() - $t0,
                                         $kind, $c->{id}, $c->{nreq},
                                         defined $detail ? ": $detail" : '')
            if @{ $res{samples} } < 20;
        push @{ $res{failures} }, { t => Time::HiRes::time(), kind => $kind, conn => $c->{id},
                                    nreq => $c->{nreq}, prev => $c->{last_body} }
            if @{ $res{failures} } < 1000;
        close $c->{fh} if $c->{fh};
        $c->{fh} = undef;
    };
    my $connect = sub {
        my $c = shift;
        socket(my $fh, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
        my $fl = fcntl($fh, F_GETFL, 0);
        fcntl($fh, F_SETFL, $fl | O_NONBLOCK);
        setsockopt($fh, IPPROTO_TCP, TCP_NODELAY, 1);
        $c->{fh} = $fh;
        $c->{nreq} = 0;
        $c->{last_body} = undef;
        $c->{conn_t} = Time::HiRes::time();
        $res{connections}++;
        if (connect($fh, $addr)) {
            $c->{state} = 'send';
        } elsif ($! == EINPROGRESS) {
            $c->{state} = 'connecting';
        } else {
            $c->{nreq} = 1;
            $fail->($c, $! == ECONNREFUSED ? 'connect_refused' : 'connect_error', "$!");
            return;
        }
        $c->{deadline} = Time::HiRes::time() + $o->{timeout};
    };
    my $start_req = sub {
        my $c = shift;
        $c->{nreq}++;
        $c->{wbuf} = $req;
        $c->{rbuf} = '';
        $c->{state} = 'send' unless $c->{state} eq 'connecting';
        $c->{deadline} = Time::HiRes::time() + $o->{timeout};
    };
    # a complete response in rbuf? returns (status, headers-hash, body, total length) or ()
    my $complete = sub {
        my $c = shift;
        my $i = index($c->{rbuf}, "\r\n\r\n");
        return if $i < 0;
        my $head = substr($c->{rbuf}, 0, $i);
        my ($line, @h) = split /\r\n/, $head;
        my ($st) = $line =~ m{^HTTP/1\.[01] (\d{3})} or return ('bad', {}, '', 0);
        my %h;
        for (@h) { $h{lc $1} = $2 if /^([^:]+):\s*(.*?)\s*$/ }
        my $len = $h{'content-length'};
        if (defined $len) {
            return if length($c->{rbuf}) < $i + 4 + $len;
            return ($st, \%h, substr($c->{rbuf}, $i + 4, $len), $i + 4 + $len);
        }
        if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
            my $p = $i + 4;
            my $body = '';
            while (1) {
                my $e = index($c->{rbuf}, "\r\n", $p);
                return if $e < 0;
                my $n = hex substr($c->{rbuf}, $p, $e - $p);
                if ($n == 0) {
                    my $end = index($c->{rbuf}, "\r\n\r\n", $e);
                    return if $end < 0;
                    return ($st, \%h, $body, $end + 4);
                }
                return if length($c->{rbuf}) < $e + 2 + $n + 2;
                $body .= substr($c->{rbuf}, $e + 2, $n);
                $p = $e + 2 + $n + 2;
            }
        }
        return ($st, \%h, '', $i + 4) if $st =~ /^(1..|204|304)$/;
        return;                                         # a body up to EOF: wait for EOF
    };
    my $done = sub {
        my ($c, $st, $h, $body) = @_;
        if ($st ne $o->{status}) {
            $fail->($c, "status_$st", substr($body, 0, 60));
            return;
        }
        if (defined $o->{body} && $body !~ $o->{body}) {
            $fail->($c, 'bad_body', substr($body, 0, 60));
            return;
        }
        $res{requests}++;
        $res{ok}++;
        $c->{last_body} = $body;
        my $key = substr($body, 0, 40);
        $res{bodies}{$key}++;
        if ($c->{nreq} == 1) {
            $res{new_first}{$key} //= $c->{conn_t};
            $res{new_last}{$key} = $c->{conn_t}
                if !defined $res{new_last}{$key} || $res{new_last}{$key} < $c->{conn_t};
        }
        my $close = !$o->{keepalive} || ($h->{connection} // '') =~ /close/i
            || ($o->{requests_per_conn} && $c->{nreq} >= $o->{requests_per_conn});
        if ($close) {
            $res{closes}++ if $o->{keepalive} && ($h->{connection} // '') =~ /close/i;
            close $c->{fh};
            $c->{fh} = undef;
        } else {
            $c->{state} = 'idle';
        }
    };
    my $write_status = sub {
        my $final = shift;
        $res{elapsed} = Time::HiRes::time() - $t0;
        $res{finished} = $final ? 1 : 0;
        open my $fh, '>', "$file.tmp" or return;
        print $fh JSON::PP->new->canonical->encode(\%res);
        close $fh;
        rename "$file.tmp", $file;
        $last_write = Time::HiRes::time();
    };

    my $end = $t0 + $o->{max_duration};
    while (1) {
        my $now = Time::HiRes::time();
        $stop = 1 if $now > $end;
        # next requests (not after stop: in-flight ones are completed, new ones not started)
        for my $c (@c) {
            next if $stop;
            if (!$c->{fh}) {
                $connect->($c);
                next unless $c->{fh};
                $start_req->($c);
            } elsif ($c->{state} eq 'idle') {
                $start_req->($c);
            }
        }
        my @busy = grep { $_->{fh} && $_->{state} ne 'idle' } @c;
        last if $stop && !@busy;
        my ($rin, $win) = ('', '');
        for my $c (@busy) {
            if ($c->{state} eq 'connecting' || $c->{state} eq 'send') {
                vec($win, fileno($c->{fh}), 1) = 1;
            } else {
                vec($rin, fileno($c->{fh}), 1) = 1;
            }
        }
        my $n = select(my $rout = $rin, my $wout = $win, undef, 0.05);
        $now = Time::HiRes::time();
        for my $c (@busy) {
            next unless $c->{fh};
            my $fd = fileno($c->{fh});
            if ($n > 0 && ($c->{state} eq 'connecting') && vec($wout, $fd, 1)) {
                my $err = unpack('i', getsockopt($c->{fh}, SOL_SOCKET, SO_ERROR) // pack('i', 0));
                if ($err) {
                    $! = $err;
                    $fail->($c, $err == ECONNREFUSED ? 'connect_refused' : 'connect_error', "$!");
                    next;
                }
                $c->{state} = 'send';
            }
            if ($n > 0 && $c->{state} eq 'send' && vec($wout, $fd, 1)) {
                my $w = syswrite($c->{fh}, $c->{wbuf});
                if (!defined $w) {
                    next if $! == EAGAIN || $! == EINTR;
                    $fail->($c, ($! == ECONNREFUSED ? 'connect_refused'
                                 : $c->{nreq} > 1 ? 'write_reset' : 'connect_error'), "$!");
                    next;
                }
                substr($c->{wbuf}, 0, $w) = '';
                $c->{state} = 'read' unless length $c->{wbuf};
            } elsif ($n > 0 && $c->{state} eq 'read' && vec($rout, $fd, 1)) {
                my $r = sysread($c->{fh}, my $buf, 65536);
                if (!defined $r) {
                    next if $! == EAGAIN || $! == EINTR;
                    $fail->($c, $! == ECONNREFUSED ? 'connect_refused'
                                : length $c->{rbuf} ? 'reset' : $c->{nreq} > 1 ? 'reset_idle'
                                : 'reset', "$!");
                    next;
                }
                if ($r == 0) {
                    # EOF: complete only for a body delimited by the end of the connection
                    my $i = index($c->{rbuf}, "\r\n\r\n");
                    if ($i >= 0 && $c->{rbuf} =~ m{^HTTP/1\.[01] (\d{3}) }
                        && substr($c->{rbuf}, 0, $i) !~ /\r\n(?:content-length|transfer-encoding):/i) {
                        $done->($c, $1, { connection => 'close' }, substr($c->{rbuf}, $i + 4));
                        if ($c->{fh}) { close $c->{fh}; $c->{fh} = undef }
                        next;
                    }
                    $fail->($c, length $c->{rbuf} ? 'eof_partial'
                                : $c->{nreq} > 1 ? 'eof_idle' : 'eof_partial',
                            length $c->{rbuf} ? length($c->{rbuf}) . ' bytes' : 'no bytes');
                    next;
                }
                $c->{rbuf} .= $buf;
                my @resp = $complete->($c);
                if (@resp) {
                    if ($resp[0] eq 'bad') {
                        $fail->($c, 'bad_response', substr($c->{rbuf}, 0, 60));
                        next;
                    }
                    $done->($c, @resp[0 .. 2]);
                    Time::HiRes::sleep($o->{pause}) if $o->{pause};
                }
            }
            if ($c->{fh} && $c->{state} ne 'idle' && $now > $c->{deadline}) {
                $fail->($c, $c->{state} eq 'connecting' ? 'connect_timeout' : 'timeout',
                        "state $c->{state}, " . length($c->{rbuf} // '') . ' bytes read');
            }
        }
        $write_status->(0) if $now - $last_write > 0.1;
    }
    close $_->{fh} for grep { $_->{fh} } @c;
    $write_status->(1);
}

package Test::MoongateProc::Load;

sub pid { $_[0]{pid} }

# the counters so far (a hash as finish returns), or undef before the first update
sub progress {
    my $self = shift;
    my $s = Test::MoongateProc::slurp($self->{file});
    return undef unless length $s;
    return eval { JSON::PP->new->decode($s) };
}

# waits until $n more requests completed (ok or failed) than now; true if they did in time
sub wait_requests {
    my ($self, $n, $timeout) = @_;
    my $p = $self->progress;
    my $base = $p ? $p->{requests} : 0;
    return Test::MoongateProc::wait_for(sub {
        my $q = $self->progress;
        $q && $q->{requests} >= $base + $n;
    }, $timeout);
}

# stops the client (in-flight requests are completed or time out) and returns the result
sub finish {
    my $self = shift;
    return $self->{result} if $self->{result};
    kill 'TERM', $self->{pid};
    my $deadline = Time::HiRes::time() + $self->{opts}{timeout} + 5;
    my $st;
    while (1) {
        my $r = waitpid($self->{pid}, POSIX::WNOHANG());
        last if $r == $self->{pid} || $r < 0;
        if (Time::HiRes::time() > $deadline) {
            kill 'KILL', $self->{pid};
            waitpid($self->{pid}, 0);
            last;
        }
        Time::HiRes::sleep(0.01);
    }
    my $res = $self->progress || { requests => 0, ok => 0, failed => 0, errors => {} };
    unlink $self->{file};
    @Test::MoongateProc::Loads = grep { $_ != $self } @Test::MoongateProc::Loads;
    return $self->{result} = $res;
}

# a one-line summary for diag
sub summary {
    my ($class, $r) = @_;
    my $e = join(', ', map { "$_=$r->{errors}{$_}" } sort keys %{ $r->{errors} || {} });
    return sprintf('%d requests, %d ok, %d failed%s; %d connections, %d closed by the server',
                   $r->{requests}, $r->{ok}, $r->{failed}, $e ? " ($e)" : '',
                   $r->{connections} // 0, $r->{closes} // 0);
}

package Test::MoongateProc;

sub cleanup_all {
    return unless $$ == $MainPid;
    for my $l (@Loads) {
        kill 'KILL', $l->{pid};
        waitpid($l->{pid}, 0);
        unlink $l->{file};
    }
    @Loads = ();
    my @live = grep { _same($_) } keys %Tracked;
    return unless @live;
    # freeze the masters we know so that they respawn nothing, collect every descendant, kill all
    kill 'STOP', @live;
    my %all = map { $_ => 1 } @live, descendants_of(@live);
    kill 'KILL', grep { $Tracked{$_} ? _same($_) : proc_alive($_) } keys %all;
    %Tracked = ();
}

END {
    local $?;
    cleanup_all() unless $ENV{TEST_MOONGATE_NO_CLEAN};
}

# INT/TERM/HUP (and PIPE: a reader of our output went away) end the file through exit, so that
# the END block runs
for my $sig (qw(INT TERM HUP PIPE)) {
    next if $SIG{$sig} && ref $SIG{$sig};
    $SIG{$sig} = sub { cleanup_all(); POSIX::_exit(128 + 1) if $_[0] eq 'PIPE'; exit 130 };
}

1;
