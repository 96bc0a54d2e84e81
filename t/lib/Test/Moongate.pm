package Test::Moongate;

# Test harness for moongate: runs data-driven test files written in the
# Test::Nginx::Socket block format ("=== TEST 1: ...", "--- config",
# "--- request", "--- response_body", ...).  A Test::Nginx user's file works
# with `use Test::Nginx::Socket;` replaced by `use Test::Moongate;`.
#
# Written from Test::Nginx's documented behaviour only; no code is shared.
#
# Per block: write conf/moongate.conf and the user files, truncate the error
# log, start the server (daemon on: the start command returns once the
# listener is open), send the requests, check the responses and the error
# log, stop the server (QUIT, then TERM, then KILL; bounded polling, no fixed
# sleeps).  Every server this module starts is stopped again, also when the
# test file dies or gets INT/TERM, unless TEST_MOONGATE_NO_CLEAN=1.
#
# Environment:
#   TEST_MOONGATE_BINARY    server binary (default <repo>/objs/moongate)
#   TEST_MOONGATE_PORT      listen port (default: a free port, once per file)
#   TEST_MOONGATE_SERVROOT  server root (default <repo>/t/servroot/<test>)
#   TEST_MOONGATE_NO_CLEAN  keep servroot and leave the last server running
#   TEST_MOONGATE_VERBOSE   diag() every config and raw response
#   TEST_MOONGATE_LOG_WAIT  seconds to wait for --- error_log lines (5: room for a loaded
#                           ASan run; a check waits only until its lines are there)

use Test::MoongateBadConf ();
use Test::Base -base;

use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();
use POSIX ();
use File::Path ();
use File::Temp ();
use File::Basename ();
use Cwd ();
use Errno ();
use Fcntl ();
use Scalar::Util ();

sub find_free_port();

our @EXPORT = qw(
    run_tests run_test repeat_each no_shuffle no_long_string no_root_location
    log_level worker_connections master_on master_off master_process_enabled
    workers env_to_nginx env_to_moongate add_block_preprocessor use_bad_conf_blocks env_port
    add_known_sections
    server_port server_port_for_client server_root servroot html_dir
    log_dir conf_dir error_log_file pid_file binary repo_root run_cmd
    $ServerPort $ServerPortForClient $ServerAddr $ServRoot $HtmlDir $LogDir
    $ConfDir $ConfFile $ErrLogFile $PidFile $RepeatEach $LogLevel
    $Binary $RepoRoot
);

# ---------------------------------------------------------------------------
# paths and settings

our $RepoRoot = Cwd::abs_path(File::Basename::dirname(Cwd::abs_path(__FILE__))
                              . '/../../..');

our $Binary = $ENV{TEST_MOONGATE_BINARY} || "$RepoRoot/objs/moongate";
$Binary = Cwd::abs_path($Binary) || $Binary if $Binary =~ m{/};

our $TestName = do {
    my $n = File::Basename::basename($0);
    $n =~ s/\.t\z//;
    $n =~ s/[^\w.-]+/_/g;
    length $n && $n ne '-e' ? $n : 'default';
};

our $ServRoot   = $ENV{TEST_MOONGATE_SERVROOT} || "$RepoRoot/t/servroot/$TestName";
$ServRoot =~ s{/+\z}{};
our $HtmlDir    = "$ServRoot/html";
our $LogDir     = "$ServRoot/logs";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/moongate.conf";
our $ErrLogFile = "$LogDir/error.log";
our $PidFile    = "$LogDir/moongate.pid";

our $ServerAddr = '127.0.0.1';
our $ServerPort = $ENV{TEST_MOONGATE_PORT} || find_free_port();
our $ServerPortForClient = $ENV{TEST_MOONGATE_CLIENT_PORT} || $ServerPort;

our $RepeatEach        = 1;
our $LogLevel          = 'debug';
our $WorkerConnections = 64;
our $Workers           = 1;
our $MasterProcess     = 0;
our $NoRootLocation    = 0;
our @EnvToServer;
our @BlockPreprocessors;

# Every section name a block may have.  Any other name fails its block (not run): Test::Base
# takes any word after "--- ", so a typo would silently turn a check into nothing.
our %KnownSections = map { $_ => 1 } qw(
    config http_config main_config stream_config log_level user_files must_die init
    request more_headers raw_request raw_request_middle_delay pipelined_requests
    timeout abort ignore_response wait log_wait
    error_code response_headers response_headers_like raw_response_headers_like
    raw_response_headers_unlike response_body response_body_filters response_body_like
    response_body_unlike response_incomplete
    error_log no_error_log grep_error_log grep_error_log_out
    moongate_only moongate_skip ssl listen_options
    ONLY LAST SKIP
);
# Test::Nginx's sections this harness accepts and does not implement: each only skips a block
# or marks it TODO on some condition, or selects a leak-check run mode, so running the block
# regardless checks as much or more.  Sections that would check something (stap, curl,
# shutdown_error_log, udp_*, tcp_*, ...) are unknown here and fail their block.
our %IgnoredSections = map { $_ => 1 } qw(
    skip_nginx skip_nginx2 skip_eval skip_openssl skip_slave todo no_check_leak check_leak
);

our $NoClean  = $ENV{TEST_MOONGATE_NO_CLEAN} ? 1 : 0;
our $Verbose  = $ENV{TEST_MOONGATE_VERBOSE} ? 1 : 0;
our $LogWait  = defined $ENV{TEST_MOONGATE_LOG_WAIT} ? $ENV{TEST_MOONGATE_LOG_WAIT} : 5;
our $StartTimeout = 5;
our $StopTimeout  = 3;

# configs and requests may say $TEST_NGINX_SERVER_PORT and friends (never
# set the input variables above: a child test file would inherit them)
for my $p (qw(TEST_NGINX TEST_MOONGATE)) {
    $ENV{"${p}_SERVER_PORT"} = $ServerPort;
    $ENV{"${p}_SERVER_ADDR"} = $ServerAddr;
    $ENV{"${p}_HTML_DIR"}    = $HtmlDir;
    $ENV{"${p}_LOG_DIR"}     = $LogDir;
}
$ENV{TEST_NGINX_SERVROOT} = $ServRoot;

# The block's --- ssl options (undef: plain HTTP): { sni, cert, key }
our $Ssl;

# "sni=NAME cert=FILE key=FILE" (each optional; FILE relative to the test certificates' dir)
sub ssl_options {
    my $block = shift;
    my $spec = sec($block, 'ssl');
    return undef unless defined $spec;
    require Test::Moongate::Certs;
    my $dir = Test::Moongate::Certs::make();
    my %o = (sni => 'localhost');
    for my $kv (split ' ', expand_env($spec)) {
        if ($kv eq 'plain' || $kv eq 'plain_listen') {
            $o{$kv} = 1;
            next;
        }
        my ($k, $v) = split /=/, $kv, 2;
        die "Test::Moongate: bad --- ssl option \"$kv\"\n"
            unless defined $v && $k =~ /\A(?:sni|cert|key)\z/;
        $v = "$dir/$v" if $k ne 'sni' && $v !~ m{\A/};
        $o{$k} = $v;
    }
    $o{sni} = undef if $o{sni} eq '-';
    $o{dir} = $dir;
    return \%o;
}

my $MainPid = $$;
my $Running;            # { pid => N, child => 0|1 } of the server we started

# ---------------------------------------------------------------------------
# functions a test file calls

sub repeat_each(;$) { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle() { }                       # blocks always run in file order
sub no_long_string() { }                   # bodies are compared with is()
sub no_root_location() { $NoRootLocation = 1 }
sub log_level(;$) { $LogLevel = shift if @_; $LogLevel }
sub worker_connections(;$) { $WorkerConnections = shift if @_; $WorkerConnections }
sub workers(;$) { $Workers = shift if @_; $Workers }
sub master_on() { $MasterProcess = 1 }
sub master_off() { $MasterProcess = 0 }
sub master_process_enabled(;$) { $MasterProcess = shift if @_; $MasterProcess }
sub env_to_nginx(@) { push @EnvToServer, @_ }
sub env_to_moongate(@) { push @EnvToServer, @_ }
sub add_block_preprocessor(&) { push @BlockPreprocessors, shift }
# sections a test file's own code reads (through a preprocessor or its own loop)
sub add_known_sections(@) { $KnownSections{$_} = 1 for @_ }

# Config-error blocks: "--- bad_conf" lines go to conf/bad.conf, included from the level named
# by "--- include_in" (main, http, server (default) or a location /t), and the block must die;
# in "--- error_log", %F is bad.conf's path, %D the conf directory, %C the main conf file and
# $PORT the test port. Turn it on with use_bad_conf_blocks().
sub use_bad_conf_blocks {
    add_known_sections(qw(bad_conf include_in));
    push @BlockPreprocessors, \&bad_conf_preprocessor;
}

sub bad_conf_preprocessor {
    Test::MoongateBadConf::bad_conf_block($_[0], conf_dir => $ConfDir, conf_file => $ConfFile,
                                          port => $ServerPort);
}

sub server_port() { $ServerPort }
sub server_port_for_client() { $ServerPortForClient }
sub server_root() { $ServRoot }
sub servroot() { $ServRoot }
sub html_dir() { $HtmlDir }
sub log_dir() { $LogDir }
sub conf_dir() { $ConfDir }
sub error_log_file() { $ErrLogFile }
sub pid_file() { $PidFile }
sub binary() { $Binary }
sub repo_root() { $RepoRoot }

# A port nobody listens on.  Ports come from below the usual ephemeral range
# so that client connections of parallel test files cannot occupy them.
# Ports handed out in this process, by find_free_port and by the helpers' own picks
# (MoongateBackend, MoongateDNS): a file that takes several never gets one twice (a port is
# free until the server binds it, so a check by binding alone cannot see that; t/915 once
# got its server port again for a stream listener).
our %PortTaken;

# ... and across processes (prove -j2 runs two files at once, and other checkouts' tests may
# run beside): a port is claimed by an flock on $TMPDIR/moongate-test-ports/PORT held while
# this process (or a backend it forked) lives; the kernel drops it with the last holder, so a
# killed test leaves no stale claim.  claim_port(PORT): 1 when the port is this process's now,
# 0 when it was taken (here or by another process).  Without the directory the claim is per
# process only.  (No state set up here but the declarations: the server's port is found as
# the module loads, above.)
our %PortLock;

sub claim_port {
    my $port = shift;
    return 0 if $PortTaken{$port};
    my $dir = ($ENV{TMPDIR} || '/tmp') . '/moongate-test-ports';
    unless (-d $dir) {
        my $old = umask 0;
        mkdir $dir, 01777;
        umask $old;
    }
    if (sysopen my $fh, "$dir/$port", Fcntl::O_RDONLY() | Fcntl::O_CREAT(), 0644) {
        return 0 unless flock($fh, Fcntl::LOCK_EX() | Fcntl::LOCK_NB());
        $PortLock{$port} = $fh;
    }
    $PortTaken{$port} = 1;
    return 1;
}

sub find_free_port() {
    for my $try (1 .. 50) {
        my $port = $try < 50 ? 20000 + int(rand(12000)) : 0;
        next if $PortTaken{$port};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1)
            or next;
        $port = $s->sockport;
        close $s;
        next unless claim_port($port);
        return $port;
    }
    die "Test::Moongate: cannot find a free port on 127.0.0.1\n";
}

# env_port('TEST_NGINX_PORT2'): a free port (never the server's, also when TEST_MOONGATE_PORT
# set it) put in that environment variable for the configs ($TEST_NGINX_PORT2); returns it
sub env_port {
    my ($name) = @_;
    my $port;
    do { $port = find_free_port() } while $port == $ServerPort;
    $ENV{$name} = $port;
    return $port;
}

# run_cmd([{ timeout => 30, stdin => '...' },] @argv): (exit code, stdout,
# stderr).  The exit code is 128 + signal number when killed by a signal and
# -1 when the command could not be run or timed out.
sub run_cmd {
    my $opts = ref $_[0] eq 'HASH' ? shift : {};
    my @argv = @_;
    my $timeout = $opts->{timeout} || 30;
    my $out = File::Temp->new;
    my $err = File::Temp->new;
    my $in = File::Temp->new;
    print $in $opts->{stdin} if defined $opts->{stdin};
    close $in;

    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', $in->filename;
        open STDOUT, '>', $out->filename;
        open STDERR, '>', $err->filename;
        { no warnings 'exec'; exec { $argv[0] } @argv; }
        print STDERR "exec $argv[0]: $!\n";
        POSIX::_exit(127);
    }

    my $code;
    my $deadline = Time::HiRes::time() + $timeout;
    # naps of 2 ms at most here and in start_server/stop_server: a block starts and stops a
    # server, and each wait overshot the command's end by half a nap on average (8 ms with the
    # 16 ms naps these grew to), for a server that starts in some 30 ms
    my $nap = 0.0005;
    while (1) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        if ($r == $pid) {
            $code = POSIX::WIFSIGNALED($?) ? 128 + POSIX::WTERMSIG($?) : $? >> 8;
            last;
        }
        if (Time::HiRes::time() > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $code = -1;
            last;
        }
        Time::HiRes::sleep($nap);
        $nap *= 2 if $nap < 0.002;
    }
    return ($code, slurp($out->filename), slurp($err->filename));
}

# ---------------------------------------------------------------------------
# small helpers

sub slurp {
    my $file = shift;
    open my $fh, '<:raw', $file or return '';
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

sub spew {
    my ($file, $data) = @_;
    open my $fh, '>:raw', $file or die "Test::Moongate: cannot write $file: $!\n";
    print $fh $data;
    close $fh or die "Test::Moongate: cannot write $file: $!\n";
}

# the value of a section (first value of a list), or undef when absent
sub sec {
    my ($block, $name) = @_;
    my @v = $block->$name;
    return undef unless @v;
    return @v > 1 ? [@v] : $v[0];
}

sub pick {
    my ($v, $i) = @_;
    return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

sub expand_env {
    my $s = shift;
    return $s unless defined $s && !ref $s;
    $s =~ s{\$(TEST_(?:NGINX|MOONGATE)_[A-Z0-9_]+)}{
        defined $ENV{$1} ? $ENV{$1}
            : die "Test::Moongate: environment variable $1 is not set\n"
    }ge;
    return $s;
}

sub parse_seconds {
    my ($v, $default) = @_;
    return $default unless defined $v && $v =~ /\S/;
    $v =~ s/\s+//g;
    return $1 / 1000 if $v =~ /^([\d.]+)ms$/;
    return $1 if $v =~ /^([\d.]+)s?$/;
    die "Test::Moongate: bad time value \"$v\"\n";
}

sub process_alive {
    my $pid = shift;
    return 0 unless $pid && kill(0, $pid);
    # an exited daemon stays a zombie until its new parent reaps it
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh> // '';
        return 0 if $stat =~ /\)\s+[ZX]\s/;
    }
    return 1;
}

sub child_pids {
    my $ppid = shift;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // next;
        push @kids, $1 if $line =~ /^(\d+) \(.*\) \S+ (\d+) / && $2 == $ppid;
    }
    return @kids;
}

sub read_pid {
    my $s = slurp($PidFile);
    return $s =~ /\A\s*(\d+)\s*\n/ ? $1 : undef;
}

# ---------------------------------------------------------------------------
# server control

sub write_config {
    my $block = shift;
    my $main = expand_env(sec($block, 'main_config')) // '';
    my $http = expand_env(sec($block, 'http_config')) // '';
    my $conf = expand_env(sec($block, 'config')) // '';
    my $stream = expand_env(sec($block, 'stream_config'));
    my $level = sec($block, 'log_level') // $LogLevel;
    $level =~ s/\s+//g;

    my $has = sub { $main =~ /^\s*$_[0]\s/m };
    my $c = '';
    $c .= "worker_processes $Workers;\n" unless $has->('worker_processes');
    $c .= "daemon on;\n" unless $has->('daemon');
    $c .= 'master_process ' . ($MasterProcess ? 'on' : 'off') . ";\n"
        unless $has->('master_process');
    $c .= "error_log $ErrLogFile $level;\n";
    $c .= "pid $PidFile;\n";
    $c .= "env $_;\n" for @EnvToServer;
    my $files = sec($block, 'user_files') // '';
    if (File::Basename::basename($Binary) =~ /nginx/ && !$has->('load_module')) {
        # Debian's nginx has Lua, echo, headers-more and set-misc as dynamic modules
        # (libnginx-mod-http-*); moongate has them built in. TEST_MOONGATE_NGINX_MODULES names
        # another directory to look in (e.g. the packages unpacked with dpkg -x).
        my $all = "$main$http$conf$files";
        my @want;
        push @want, qw(ndk_http_module ngx_http_lua_module) if $all =~ /_by_lua|lua_|ndk\./;
        push @want, 'ngx_http_echo_module' if $all =~ /(?:^|[{;])\s*echo\w*[\s;]/m;
        push @want, 'ngx_http_headers_more_filter_module' if $all =~ /(?:^|[{;])\s*more_\w+_headers\b/m;
        push @want, qw(ndk_http_module ngx_http_set_misc_module) if $all =~ /(?:^|[{;])\s*set_(?!by_lua|real_ip)\w+\s|ndk\.set_var/m;
        my %seen;
        for my $m (grep { !$seen{$_}++ } @want) {
            my ($f) = grep { -f } map { "$_/$m.so" }
                grep { defined } ($ENV{TEST_MOONGATE_NGINX_MODULES}, '/usr/lib/nginx/modules');
            $c .= "load_module $f;\n" if $f;
        }
    }
    # Debian's nginx has stream as a dynamic module (libnginx-mod-stream); moongate has it built in
    $c .= "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n"
        if defined $stream && File::Basename::basename($Binary) =~ /nginx/
            && !$has->('load_module') && -f '/usr/lib/nginx/modules/ngx_stream_module.so';
    $c .= "\n$main\n";
    $c .= (defined $stream ? "stream {\n$stream\n}\n\n" : '');
    $c .= "events {\n    worker_connections $WorkerConnections;\n}\n\n";
    $c .= "http {\n";
    $c .= "    default_type text/plain;\n";
    $c .= "    keepalive_timeout 68;\n";
    $c .= "    client_body_temp_path $ServRoot/client_body_temp;\n";
    if (File::Basename::basename($Binary) =~ /nginx|openresty/) {
        # nginx's compiled-in temp dirs may not be writable; moongate has none
        $c .= "    ${_}_temp_path $ServRoot/${_}_temp;\n"
            for qw(proxy fastcgi uwsgi scgi);
    }
    $c .= "\n$http\n";
    $c .= "    server {\n";
    # "--- listen_options: http2": more parameters for the test server's listen
    my $lo = sec($block, 'listen_options') // '';
    $lo =~ s/\s+\z//;
    $lo = " $lo" if length $lo;
    if ($Ssl && !$Ssl->{plain_listen}) {
        $c .= "        listen $ServerAddr:$ServerPort ssl$lo;\n";
        $c .= "        ssl_certificate $Ssl->{dir}/localhost.crt;\n"
            . "        ssl_certificate_key $Ssl->{dir}/localhost.key;\n"
            unless "$http$conf" =~ /^\s*"?ssl_certificate(?:_key)?"?\s/m;
    } else {
        $c .= "        listen $ServerAddr:$ServerPort$lo;\n";
    }
    $c .= "        server_name 'localhost';\n";
    $c .= "        client_max_body_size 30M;\n\n";
    $c .= "$conf\n";
    unless ($NoRootLocation || $conf =~ /\blocation\s+(?:\^~\s+)?\/\s*\{/) {
        $c .= "        location / {\n";
        $c .= "            root $HtmlDir;\n";
        $c .= "            index index.html index.htm;\n";
        $c .= "        }\n";
    }
    $c .= "    }\n}\n";
    spew($ConfFile, $c);
    return $c;
}

sub write_user_files {
    my $block = shift;
    my $spec = sec($block, 'user_files');
    return unless defined $spec;
    my @files;                                  # [name, content, mtime]
    if (ref $spec eq 'ARRAY') {
        @files = map { ref $_ eq 'ARRAY' ? [@$_] : die "bad user_files\n" } @$spec;
    } else {
        my $cur;
        for my $line (split /^/, $spec) {
            if ($line =~ /^>>>\s+(\S+)(?:\s+(\S+))?\s*$/) {
                push @files, $cur = [$1, '', $2];
            } elsif ($cur) {
                $cur->[1] .= $line;
            } elsif ($line =~ /\S/) {
                die "Test::Moongate: user_files must start with \">>> name\"\n";
            }
        }
    }
    for my $f (@files) {
        my ($name, $content, $mtime) = @$f;
        my $path = $name =~ m{^/} ? $name : "$HtmlDir/$name";
        File::Path::make_path(File::Basename::dirname($path));
        spew($path, $content // '');
        if (defined $mtime) {
            my $t = touch_time($mtime);
            utime $t, $t, $path;
        }
    }
}

# A user file's date as Test::Nginx takes it (it runs `TZ=GMT touch -t DATE`):
# [[CC]YY]MMDDhhmm[.ss] in GMT, as seconds since the epoch.
sub touch_time {
    my $d = shift;
    my ($digits, $ss) = $d =~ /^(\d{8}|\d{10}|\d{12})(?:\.(\d\d))?$/
        or die "Test::Moongate: bad user_files date \"$d\" (touch -t's [[CC]YY]MMDDhhmm[.ss])\n";
    my @f = $digits =~ /(\d\d)/g;
    my ($mm, $dd, $hh, $mi) = @f[-4 .. -1];
    my $year = @f == 6 ? $f[0] * 100 + $f[1]
             : @f == 5 ? ($f[0] < 69 ? 2000 : 1900) + $f[0]
             : (gmtime)[5] + 1900;
    die "Test::Moongate: bad user_files date \"$d\"\n"
        if $mm < 1 || $mm > 12 || $dd < 1 || $dd > 31 || $hh > 23 || $mi > 59 || ($ss // 0) > 60;
    require Time::Local;
    return Time::Local::timegm($ss // 0, $mi, $hh, $dd, $mm - 1, $year);
}

sub prepare_servroot {
    my $fresh = shift;
    File::Path::remove_tree($ServRoot) if $fresh;
    File::Path::remove_tree($HtmlDir);
    File::Path::make_path($ConfDir, $LogDir, $HtmlDir, "$ServRoot/client_body_temp");
}

# Start the server for a block.  Returns (1) on success, or (0, text) where
# text holds the command's stderr and the error log.
sub start_server {
    my $block = shift;
    unlink $PidFile;
    spew($ErrLogFile, '');
    my @cmd = ($Binary, '-p', "$ServRoot/", '-c', $ConfFile);
    my $daemon_off = (sec($block, 'main_config') // '') =~ /^\s*daemon\s+off\s*;/m;

    my ($child, $stderr_file);
    if ($daemon_off) {
        $stderr_file = "$LogDir/stderr.log";
        $child = fork;
        die "fork: $!" unless defined $child;
        if ($child == 0) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', "$LogDir/stdout.log";
            open STDERR, '>', $stderr_file;
            { no warnings 'exec'; exec { $cmd[0] } @cmd; }
            print STDERR "exec $cmd[0]: $!\n";
            POSIX::_exit(127);
        }
        $Running = { pid => $child, child => 1 };
    } else {
        my ($code, $out, $err) = run_cmd({ timeout => $StartTimeout }, @cmd);
        if ($code != 0) {
            return (0, "$cmd[0] exited with $code\n$out$err");
        }
    }

    # daemon on: the start command returned after opening the listeners, so
    # the pid file is all we wait for.  daemon off: the pid file, then the port.
    my $deadline = Time::HiRes::time() + $StartTimeout;
    my $nap = 0.0005;
    while (1) {
        my $pid = read_pid();
        if ($pid) {
            if ($daemon_off) {
                last if tcp_probe();
            } else {
                $Running = { pid => $pid, child => 0 };
                last;
            }
        }
        if ($child && waitpid($child, POSIX::WNOHANG()) == $child) {
            my $st = $?;
            undef $Running;
            my $code = POSIX::WIFSIGNALED($st) ? 128 + POSIX::WTERMSIG($st) : $st >> 8;
            return (0, "$cmd[0] exited with $code\n" . slurp($stderr_file));
        }
        if (Time::HiRes::time() > $deadline) {
            return (0, "server did not become ready within ${StartTimeout}s"
                       . " (pid file $PidFile)\n" . ($child ? slurp($stderr_file) : ''));
        }
        Time::HiRes::sleep($nap);
        $nap *= 2 if $nap < 0.002;
    }
    return (1);
}

sub tcp_probe {
    my $s = IO::Socket::INET->new(PeerAddr => $ServerAddr, PeerPort => $ServerPort,
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

sub stop_server {
    my $r = $Running or return;
    undef $Running;
    my $pid = $r->{pid};
    my $gone = $r->{child}
        ? sub { waitpid($pid, POSIX::WNOHANG()) == $pid || !kill(0, $pid) }
        : sub { !process_alive($pid) };
    # gone before it was told to go: it died (a crash) unless the block stopped it itself
    return 'exited' if $gone->();
    my @kids = child_pids($pid);
    for my $sig (qw(QUIT TERM KILL)) {
        kill $sig, $pid;
        kill 'KILL', grep { process_alive($_) } @kids if $sig eq 'KILL';
        my $deadline = Time::HiRes::time() + ($sig eq 'QUIT' ? $StopTimeout : 1);
        my $resend = Time::HiRes::time() + 0.05;
        my $nap = 0.0005;
        while (Time::HiRes::time() < $deadline) {
            return if $gone->();
            Time::HiRes::sleep($nap);
            $nap *= 2 if $nap < 0.002;
            # a signal that lands before the server's event loop runs can go
            # unnoticed (nginx has this race); repeating QUIT/TERM is harmless
            if ($sig ne 'KILL' && Time::HiRes::time() > $resend) {
                kill $sig, $pid;
                $resend = Time::HiRes::time() + 0.05;
            }
        }
        Test::More::diag("Test::Moongate: server $pid did not exit on $sig")
            unless $sig eq 'KILL';
    }
}

# a server left behind by an earlier run with TEST_MOONGATE_NO_CLEAN
sub stop_stale_server {
    my $pid = read_pid() or return;
    return unless process_alive($pid);
    my $cmdline = slurp("/proc/$pid/cmdline");
    return unless index($cmdline, $ServRoot) >= 0;
    $Running = { pid => $pid, child => 0 };
    stop_server();
}

END {
    if ($$ == $MainPid && $Running && !$NoClean) {
        local $?;
        stop_server();
    }
}

# ---------------------------------------------------------------------------
# HTTP client

sub build_request {
    my ($text, $more_headers, $keepalive) = @_;
    $text =~ s/\A\s+//;
    my ($line, $body) = split /\r?\n/, $text, 2;
    $line = '' unless defined $line;
    $line =~ s/\s+\z//;
    $body = '' unless defined $body;
    $body =~ s/(?<!\r)\n\z//;        # the section's own newline, not a CRLF
    $line .= ' HTTP/1.1' unless $line =~ m{\sHTTP/\d+\.\d+\z};
    my ($method) = $line =~ /^(\S+)/;

    my @h = (['Host', 'localhost'], ['Connection', $keepalive ? 'keep-alive' : 'close']);
    my %user;
    for my $l (split /\n/, $more_headers // '') {
        next unless $l =~ /\S/;
        $l =~ s/\r\z//;
        my ($n, $v) = $l =~ /^\s*([^:]+?)\s*:\s?(.*)$/ or die
            "Test::Moongate: bad more_headers line \"$l\"\n";
        if (!$user{lc $n}++ && grep { lc $_->[0] eq lc $n } @h) {
            @h = grep { lc $_->[0] ne lc $n } @h;
        }
        push @h, [$n, $v];
    }
    push @h, ['Content-Length', length $body]
        if length $body && !$user{'content-length'} && !$user{'transfer-encoding'};
    my $req = "$line\r\n" . join('', map { "$_->[0]: $_->[1]\r\n" } @h) . "\r\n" . $body;
    return ($req, $method);
}

# Send the pieces of one connection's requests, then read until EOF, until
# the expected responses are complete on a kept-alive connection, or until
# nothing arrives for $timeout seconds.
sub exchange {
    my ($pieces, $delay, $methods, $timeout) = @_;
    my %r = (raw => '', eof => 0, timed_out => 0, error => undef);
    my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                     PeerPort => $ServerPortForClient,
                                     Proto => 'tcp', Timeout => $timeout);
    unless ($sock) {
        $r{error} = "cannot connect to $ServerAddr:$ServerPortForClient: $!";
        $r{eof} = 1;
        return \%r;
    }
    local $SIG{PIPE} = 'IGNORE';
    if ($Ssl && !$Ssl->{plain}) {
        require IO::Socket::SSL;
        # the handshake blocks (bounded by the timeout); the requests go as on plain sockets
        $sock->timeout($timeout);
        my $ok = IO::Socket::SSL->start_SSL($sock,
            SSL_verify_mode => 0, SSL_hostname => $Ssl->{sni} // '',
            ($Ssl->{cert} ? (SSL_cert_file => $Ssl->{cert}, SSL_key_file => $Ssl->{key}) : ()),
            Timeout => $timeout);
        unless ($ok) {
            $r{error} = "TLS handshake failed: " . IO::Socket::SSL::errstr();
            $r{eof} = 1;
            return \%r;
        }
    }
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    # TLS: bytes OpenSSL already decrypted are not the socket's to report
    my $can_read = sub {
        return 1 if $Ssl && !$Ssl->{plain} && $sock->pending;
        return $sel->can_read($_[0]);
    };

    my $rd = sub {
        my $n = sysread($sock, my $buf, 65536);
        if (defined $n) {
            if ($n == 0) { $r{eof} = 1 } else { $r{raw} .= $buf }
            return 1;
        }
        return 1 if $!{EAGAIN} || $!{EINTR};
        $r{error} = "read: $!";
        $r{eof} = 1;
        return 1;
    };

    SEND: for my $i (0 .. $#$pieces) {
        Time::HiRes::sleep($delay) if $i && $delay;
        my $data = $pieces->[$i];
        my $off = 0;
        my $deadline = Time::HiRes::time() + $timeout;
        while ($off < length $data) {
            my $n = syswrite($sock, $data, length($data) - $off, $off);
            if (defined $n) { $off += $n; $deadline = Time::HiRes::time() + $timeout; next }
            if ($!{EAGAIN} || $!{EINTR}) {
                my $left = $deadline - Time::HiRes::time();
                if ($left <= 0) { $r{timed_out} = 1; last SEND }
                my ($rr, $ww) = IO::Select->select($sel, $sel, undef, $left);
                $rd->() if $rr && @$rr;         # server answered early
                last SEND if $r{eof};
                next;
            }
            # EPIPE / ECONNRESET: the server stopped reading; read what it said
            last SEND;
        }
    }

    my $deadline = Time::HiRes::time() + $timeout;
    # parsed again only once the bytes the last parse lacked came: parsing at every read
    # copied the whole response each time (a 20 MB body read 64k at a time: seconds)
    my $need = 1;
    until ($r{eof} || $r{timed_out}) {
        if (length $r{raw} >= $need) {
            my @res = parse_responses($r{raw}, $methods, 0);
            last if @res >= @$methods && $res[-1]{complete} && $res[-1]{keepalive}
                    && !grep { $_->{error} } @res;
            $need = @res && !$res[-1]{complete} && $res[-1]{need} ? $res[-1]{need} : 1;
        }
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0 || !$can_read->($left)) { $r{timed_out} = 1; last }
        my $len = length $r{raw};
        $rd->();
        $deadline = Time::HiRes::time() + $timeout if length $r{raw} > $len;
    }
    close $sock;
    return \%r;
}

# Parse as many responses as $raw holds.  Each: { status, status_line,
# raw_headers, headers => { lc name => [values] }, body, complete,
# keepalive, error }; an incomplete one may say how long $raw must be before
# parsing it again can tell more (need).
sub parse_responses {
    my ($raw, $methods, $eof) = @_;
    my @res;
    my $pos = 0;
    my $i = 0;
    while ($pos < length $raw) {
        my $method = $methods->[$i] // $methods->[-1] // 'GET';
        my $r = parse_one($raw, \$pos, $method, $eof);
        next if $r->{interim};
        push @res, $r;
        last unless $r->{complete};
        last if $r->{error};
        $i++;
    }
    return @res;
}

sub parse_one {
    my ($raw, $posref, $method, $eof) = @_;
    my %r = (status => '', body => '', headers => {}, raw_headers => '',
             complete => 0, keepalive => 0);
    my $start = $$posref;
    my $hend = index($raw, "\r\n\r\n", $start);
    my $sep = 4;
    if ($hend < 0) {                                   # tolerate bare LF
        my $lf = index($raw, "\n\n", $start);
        ($hend, $sep) = ($lf, 2) if $lf >= 0;
    }
    if ($hend < 0) {
        $r{raw_headers} = substr($raw, $start);
        $r{error} = 'truncated response header' if $eof;
        $$posref = length $raw;
        return \%r;
    }
    my $head = substr($raw, $start, $hend - $start);
    $r{raw_headers} = substr($raw, $start, $hend + $sep - $start);
    my ($sl, @lines) = split /\r?\n/, $head;
    $r{status_line} = $sl;
    if ($sl =~ m{^HTTP/(\d+\.\d+)\s+(\d{3})(?:\s|$)}) {
        $r{version} = $1;
        $r{status} = $2;
    } else {
        $r{error} = "bad status line \"$sl\"";
        $$posref = length $raw;
        $r{complete} = 1;
        return \%r;
    }
    my $last;
    for my $l (@lines) {
        if ($l =~ /^[ \t]/ && $last) { $last->[-1] .= " $l"; next }
        if ($l =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/) {
            push @{ $r{headers}{lc $1} }, $2;
            $last = $r{headers}{lc $1};
        } else {
            $r{error} = "bad header line \"$l\"";
        }
    }
    my $pos = $hend + $sep;
    my $h = $r{headers};
    my $conn = lc join ',', @{ $h->{connection} || [] };
    $r{keepalive} = $r{version} eq '1.1' ? $conn !~ /close/ : $conn =~ /keep-alive/;

    if ($r{status} =~ /^1/ && $r{status} != 101) {
        $r{interim} = 1;
        $$posref = $pos;
        return \%r;
    }
    if (uc $method eq 'HEAD' || $r{status} =~ /^(?:1|204|304)/) {
        $r{complete} = 1;
    } elsif (grep { /chunked/i } @{ $h->{'transfer-encoding'} || [] }) {
        my $body = '';
        while (1) {
            my $eol = index($raw, "\r\n", $pos);
            if ($eol < 0) {
                $r{error} = 'truncated chunked body' if $eof;
                last;
            }
            my $line = substr($raw, $pos, $eol - $pos);
            if ($line !~ /^([0-9a-fA-F]+)[ \t]*(?:;.*)?$/) {
                $r{error} = "malformed chunk size line \"$line\"";
                $r{complete} = 1;
                last;
            }
            my $size = hex $1;
            if ($size == 0) {                          # trailers until CRLF CRLF
                my $tend = index($raw, "\r\n", $eol + 2);
                my $p = $eol + 2;
                while ($tend >= 0 && $tend != $p) {
                    $p = $tend + 2;
                    $tend = index($raw, "\r\n", $p);
                }
                if ($tend < 0) {
                    $r{error} = 'truncated chunked body' if $eof;
                    last;
                }
                $pos = $tend + 2;
                $r{complete} = 1;
                last;
            }
            if (length($raw) < $eol + 2 + $size + 2) {
                $r{error} = 'truncated chunked body' if $eof;
                $r{need} = $eol + 2 + $size + 2;
                last;
            }
            $body .= substr($raw, $eol + 2, $size);
            if (substr($raw, $eol + 2 + $size, 2) ne "\r\n") {
                $r{error} = "chunk data of $size bytes not followed by CRLF";
                $r{complete} = 1;
                last;
            }
            $pos = $eol + 2 + $size + 2;
        }
        $r{body} = $body;
    } elsif (defined(my $cl = $h->{'content-length'})) {
        my $len = $cl->[0];
        if (@$cl > 1 || $len !~ /^\d+$/) {
            $r{error} = 'bad Content-Length "' . join(', ', @$cl) . '"';
            $len = $len =~ /^(\d+)/ ? $1 : 0;
        }
        $r{body} = substr($raw, $pos, $len);
        if (length $r{body} == $len) {
            $pos += $len;
            $r{complete} = 1;
        } elsif ($eof) {
            $r{error} = 'truncated body: got ' . length($r{body}) . " of $len bytes";
        } else {
            $r{need} = $pos + $len;
        }
    } else {
        $r{body} = substr($raw, $pos);
        $pos = length $raw;
        $r{complete} = $eof;
        $r{keepalive} = 0;
        $r{need} = 1e15 unless $eof;                  # only the close ends it
    }
    $$posref = $r{complete} ? $pos : length $raw;
    return \%r;
}

# ---------------------------------------------------------------------------
# assertions: all go through here so a block whose server failed to start
# fails every one of its assertions and the planned count still matches

my $Poison;

sub check_ok {
    my ($ok, $name, @diag) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 2;
    if (defined $Poison) {
        Test::More::ok(0, $name);
        Test::More::diag($Poison);
        $Poison = 'server failed to start (see above)';
        return;
    }
    Test::More::ok($ok, $name) or @diag && Test::More::diag(@diag);
}

sub check_is {
    my ($got, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 2;
    if (defined $Poison) { return check_ok(0, $name) }
    Test::Base::is($got, $want, $name);
}

sub check_like {
    my ($got, $re, $name, $negate) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 2;
    if (defined $Poison) { return check_ok(0, $name) }
    # A pattern Perl rejects fails its own check, so the file goes on
    # and cannot pass by stopping early.
    unless (ref $re eq 'Regexp') {
        Test::More::diag("bad regex: $re");
        return check_ok(0, $name);
    }
    $got = '' unless defined $got;
    return $negate ? Test::More::unlike($got, $re, $name)
                   : Test::More::like($got, $re, $name);
}

# A section's text as a regex, its final newline kept as Test::Nginx::Socket keeps it (so a
# file passes under both harnesses: a section that must not end in one says `chomp`).
sub to_regex {
    my $p = shift;
    return $p if ref $p eq 'Regexp';
    my $re = eval { qr/$p/s };
    return $re if defined $re;
    (my $err = $@) =~ s/ at \S+ line \d+\.\n\z//;
    return $err;
}

# ---------------------------------------------------------------------------
# running blocks

sub run_tests () {
    $SIG{INT} = $SIG{TERM} = sub {
        stop_server() unless $NoClean;
        exit 130;
    } unless $$ != $MainPid;
    Test::More::plan('no_plan') unless Test::Builder->new->has_plan;
    stop_stale_server();
    prepare_servroot(1);
    my @blocks = blocks();
    for my $block (@blocks) {
        # a block that dies (a bad section, a failing init) fails here and the next one runs:
        # before, the die ended the file, which could then report no tests as a skip
        next if eval { run_test($block); 1 };
        my $err = $@;
        $err =~ s/\s+\z//;
        Test::More::ok(0, $block->name . " - died: $err");
    }
    stop_server() unless $NoClean;
}

# one block, for files that loop over blocks() themselves; false when it was not run
sub run_test ($) {
    my $block = shift;
    sections_known($block) or return 0;
    $_->($block) for @BlockPreprocessors;
    return 0 if skipped($block);
    run_block($block, $_) for 1 .. $RepeatEach;
    return 1;
}

# The block's sections as the file wrote them (not those a preprocessor set) are all known;
# otherwise one failed assertion naming them, and the block is not run.
sub sections_known {
    my $block = shift;
    my @bad = grep { !$KnownSections{$_} && !$IgnoredSections{$_} }
              @{ $block->{_section_order}[0] || [] };
    return 1 unless @bad;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::ok(0, $block->name . ' - unknown section' . (@bad > 1 ? 's ' : ' ')
                      . join(', ', map { "\"--- $_\"" } @bad));
    Test::More::diag('block "' . $block->name . '" not run: a typo? (a section the test file '
                     . 'reads itself is declared with add_known_sections)');
    return 0;
}

# One skipped assertion, with the reason, for a block that is not run here.
sub skipped {
    my $block = shift;
    my $why;
    # moongate differs from nginx on purpose here (e.g. Lua compiled at -t)
    $why = 'moongate_only: nginx behaves otherwise'
        if defined $block->{moongate_only} && File::Basename::basename($Binary) =~ /nginx/;
    # set by a preprocessor to the reason (e.g. a library is missing)
    if (!defined $why && defined(my $s = sec($block, 'moongate_skip'))) {
        $why = $s =~ /\S/ && $s ne '1' ? $s : 'moongate_skip';
        $why =~ s/\s+\z//;
    }
    return 0 unless defined $why;
    Test::Builder->new->skip($block->name . ": $why");
    return 1;
}

sub run_block {
    my ($block, $rep) = @_;
    my $name = $block->name;
    $name .= " (repeat $rep)" if $rep > 1;
    undef $Poison;

    stop_server();                              # lazily stopped in NO_CLEAN mode
    prepare_servroot(0);
    write_user_files($block);
    local $Ssl = ssl_options($block);
    my $conf = write_config($block);
    Test::More::diag("$name: $ConfFile:\n$conf") if $Verbose;

    my ($started, $why) = start_server($block);
    my $must_die = defined sec($block, 'must_die');

    if ($must_die) {
        check_ok(!$started, "$name - server failed to start as expected");
        stop_server();
        check_log($block, $name, $why // '');
        return;
    }
    unless ($started) {
        my $log = slurp($ErrLogFile);
        $log = substr($log, -4000) if length $log > 4000;
        $Poison = "server failed to start: $why\n--- error.log:\n$log";
        stop_server();
    }

    # init code talks to the server: not when it failed to start
    if (!defined $Poison && defined(my $init = sec($block, 'init'))) {
        ref $init eq 'CODE' ? $init->() : eval "package main; $init; 1" || die $@;
    }

    my @conns = plan_connections($block);
    my $timeout = parse_seconds(sec($block, 'timeout'), 3);
    my $delay = parse_seconds(sec($block, 'raw_request_middle_delay'), 0);
    my $abort = defined sec($block, 'abort');
    my $ignore = defined sec($block, 'ignore_response');
    my $total = 0;
    $total += @{ $_->{methods} } for @conns;
    my $idx = 0;
    for my $c (@conns) {
        my $x = $Poison ? { raw => '', eof => 1 }
                        : exchange($c->{pieces}, $delay, $c->{methods}, $timeout);
        Test::More::diag("$name: raw response:\n$x->{raw}") if $Verbose;
        my @res = parse_responses($x->{raw}, $c->{methods}, 1);
        if ($x->{timed_out} && !$abort && !$ignore && !$Poison) {
            check_ok(0, "$name - response read timed out after ${timeout}s",
                     "got so far:\n$x->{raw}");
        }
        for my $k (0 .. $#{ $c->{methods} }) {
            my $r = $res[$k] || { status => '', body => '', headers => {},
                                  raw_headers => '', complete => 0,
                                  error => $x->{error} };
            check_response($block, $name, $r, $idx, $total, $abort) unless $ignore;
            $idx++;
        }
    }

    if (defined(my $wait = sec($block, 'wait'))) {
        Time::HiRes::sleep(parse_seconds($wait, 0));
    }
    check_log($block, $name, '');
    # a server or worker that died under the block is a bug of the first rank, whatever the
    # responses said
    unless ($NoClean || $Poison) {
        # (an assertion only when it happened: plans count the others)
        my $exited = stop_server();
        check_ok(0, "$name - the server ran until it was stopped",
                 "it exited by itself during the block (a crash? see dmesg)") if $exited;
        my @died = grep { /exited on signal/ } split /\n/, slurp($ErrLogFile);
        check_ok(0, "$name - no process died on a signal", join("\n", @died)) if @died;
    }
}

# connections to open: { pieces => [bytes...], methods => [method per response] }
sub plan_connections {
    my $block = shift;
    my $more = expand_env(sec($block, 'more_headers'));
    if (defined(my $raw = sec($block, 'raw_request'))) {
        my @pieces = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        my ($m) = join('', @pieces) =~ /^\s*(\S+)/;
        return { pieces => [map { expand_env($_) } @pieces], methods => [$m // 'GET'] };
    }
    if (defined(my $pipe = sec($block, 'pipelined_requests'))) {
        my @reqs = ref $pipe eq 'ARRAY' ? @$pipe : ($pipe);
        my ($data, @methods) = ('');
        for my $i (0 .. $#reqs) {
            my ($req, $m) = build_request(expand_env($reqs[$i]), $more, $i < $#reqs);
            $data .= $req;
            push @methods, $m;
        }
        return { pieces => [$data], methods => \@methods };
    }
    my $req = sec($block, 'request');
    die "Test::Moongate: " . $block->name . ": no request section\n"
        unless defined $req || defined sec($block, 'must_die');
    my @conns;
    my @reqs = ref $req eq 'ARRAY' ? @$req : ($req);
    for my $i (0 .. $#reqs) {
        # an arrayref of more_headers pairs with an arrayref of requests
        my $h = ref $more eq 'ARRAY' ? expand_env($more->[$i]) : $more;
        my ($data, $m) = build_request(expand_env($reqs[$i]), $h, 0);
        push @conns, { pieces => [$data], methods => [$m] };
    }
    return @conns;
}

sub header_value {
    my ($r, $n) = @_;
    my $v = $r->{headers}{lc $n};
    return $v ? join(', ', @$v) : undef;
}

# response_body_filters: names of functions (main::NAME, or uc/lc) or code refs, applied in
# order to the body before response_body* compare it (Test::Nginx's section).
sub filter_body {
    my ($block, $body, $i) = @_;
    my $f = pick(sec($block, 'response_body_filters'), $i);
    return $body unless defined $f;
    my @f = ref $f eq 'ARRAY' ? @$f : ref $f ? ($f) : split ' ', $f;
    for my $x (@f) {
        my $code = ref $x eq 'CODE' ? $x
                 : $x eq 'uc' ? sub { uc shift } : $x eq 'lc' ? sub { lc shift }
                 : do { no strict "refs"; \&{"main::$x"} };
        $body = $code->($body);
    }
    return $body;
}

sub check_response {
    my ($block, $name, $r, $i, $total, $abort) = @_;
    my $sfx = $total > 1 ? " (req $i)" : '';

    my $code = pick(sec($block, 'error_code'), $i);
    $code = 200 unless defined $code && $code =~ /\S/;
    $code =~ s/\s+//g;
    my $sname = "$name - status code ok$sfx";
    # response_incomplete: the body must end early (a Content-Length not
    # met, no last chunk) and the connection be closed; the rest is checked
    # on what arrived
    my $incomplete = defined sec($block, 'response_incomplete');
    my $cut = qr/^truncated (?:chunked )?body/;
    if ($incomplete) {
        check_ok(!$r->{complete} && ($r->{error} // '') =~ $cut,
                 "$name - response is incomplete$sfx",
                 "response: " . ($r->{error} // 'complete') . "\n$r->{raw_headers}");
    }
    if ($r->{error} && !($incomplete && $r->{error} =~ $cut)) {
        check_ok(0, $sname, "response error: $r->{error}",
                 "raw response header:\n$r->{raw_headers}");
    } elsif ($abort && $r->{status} eq '') {
        check_ok(1, "$sname (aborted)");
    } else {
        check_is($r->{status}, $code, $sname);
    }

    if (defined(my $hs = pick(sec($block, 'response_headers'), $i))) {
        for my $l (split /\n/, $hs) {
            next unless $l =~ /\S/;
            if ($l =~ /^\s*!\s*([^:\s]+)\s*$/) {
                my $v = header_value($r, $1);
                check_ok(!defined $v, "$name - header $1 absent$sfx",
                         "got \"$1: " . ($v // '') . '"');
            } elsif ($l =~ /^\s*([^:\s]+)\s*:\s*(.*?)\s*$/) {
                my ($n, $want) = ($1, $2);
                my $v = header_value($r, $n);
                if ($want eq '') {
                    check_ok(!defined $v || $v eq '', "$name - header $n ok$sfx",
                             "got \"$n: " . ($v // "") . "\", expected it empty or absent");
                } else {
                    check_is($v, $want, "$name - header $n ok$sfx");
                }
            } else {
                die "Test::Moongate: bad response_headers line \"$l\"\n";
            }
        }
    }
    if (defined(my $hs = pick(sec($block, 'response_headers_like'), $i))) {
        for my $l (split /\n/, $hs) {
            next unless $l =~ /\S/;
            my ($n, $re) = $l =~ /^\s*([^:\s]+)\s*:\s*(.*?)\s*$/
                or die "Test::Moongate: bad response_headers_like line \"$l\"\n";
            check_like(header_value($r, $n), qr/^$re$/, "$name - header $n like ok$sfx");
        }
    }
    for my $s (qw(raw_response_headers_like raw_response_headers_unlike)) {
        my $p = pick(sec($block, $s), $i);
        next unless defined $p;
        check_like($r->{raw_headers}, to_regex($p), "$name - $s ok$sfx", $s =~ /unlike/);
    }

    my $got = filter_body($block, $r->{body}, $i);
    my $body = pick(sec($block, 'response_body'), $i);
    if (defined $body) {
        check_is($got, $body, "$name - response_body - response is expected$sfx");
    }
    for my $s (qw(response_body_like response_body_unlike)) {
        my $p = pick(sec($block, $s), $i);
        next unless defined $p;
        check_like($got, to_regex($p), "$name - $s - response is expected$sfx",
                   $s =~ /unlike/);
    }
}

sub log_patterns {
    my ($block, $s) = @_;
    my @v = $block->$s;
    return () unless @v;
    @v = @{ $v[0] } if @v == 1 && ref $v[0] eq 'ARRAY';
    return map { ref $_ ? $_ : grep { /\S/ } split /\n/ } @v;
}

sub log_match {
    my ($lines, $p) = @_;
    for my $l (@$lines) {
        return $l if ref $p ? $l =~ $p : index($l, $p) >= 0;
    }
    return undef;
}

sub pattern_text { my $p = shift; ref $p ? "$p" : "\"$p\"" }

# --- error_log / no_error_log / grep_error_log against error.log (plus the
# start command's output when the server was expected to die)
sub check_log {
    my ($block, $name, $extra) = @_;
    my @want = log_patterns($block, 'error_log');
    my @deny = log_patterns($block, 'no_error_log');
    my $grep = sec($block, 'grep_error_log');
    return unless @want || @deny || defined $grep;

    my $read = sub { [split /\n/, $extra . slurp($ErrLogFile)] };
    my $lines = $read->();
    if (@want && !$Poison) {
        # a block whose line comes late on purpose (a slow background request) says how late
        my $wait = parse_seconds(sec($block, 'log_wait'), 0);
        my $deadline = Time::HiRes::time() + ($wait > $LogWait ? $wait : $LogWait);
        my $nap = 0.001;
        while (grep { !defined log_match($lines, $_) } @want) {
            last if Time::HiRes::time() > $deadline || !$Running;
            Time::HiRes::sleep($nap);
            $nap *= 2 if $nap < 0.05;
            $lines = $read->();
        }
    }
    for my $p (@want) {
        check_ok(defined log_match($lines, $p),
                 "$name - pattern " . pattern_text($p) . ' matches a line in error.log',
                 "error.log was:\n" . tail($lines));
    }
    for my $p (@deny) {
        my $hit = log_match($lines, $p);
        check_ok(!defined $hit,
                 "$name - pattern " . pattern_text($p) . ' should not match any line in error.log',
                 "matched: " . ($hit // ""));
    }
    if (defined $grep) {
        my $re = ref $grep ? $grep : undef;
        my $out = '';
        for my $l (@$lines) {
            if ($re) { $out .= "$&\n" while $l =~ /$re/g }
            elsif (index($l, $grep) >= 0) { $out .= "$grep\n" }
        }
        my $expect = sec($block, 'grep_error_log_out') // '';
        if (ref $expect eq 'Regexp') {
            check_like($out, $expect, "$name - grep_error_log_out");
        } else {
            check_is($out, $expect, "$name - grep_error_log_out");
        }
    }
}

sub tail {
    my $lines = shift;
    my @t = @$lines > 40 ? @$lines[-40 .. -1] : @$lines;
    return join("\n", @t) . "\n";
}

1;

__END__

=head1 NAME

Test::Moongate - run Test::Nginx::Socket style test files against moongate

=head1 SYNOPSIS

    use Test::Moongate;             # was: use Test::Nginx::Socket;
    repeat_each(2);
    plan tests => repeat_each() * blocks() * 2;
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location /t { return 200 "hi\n"; }
    --- request
    GET /t
    --- response_body
    hi

Run: C<prove -I t/lib -r t/> (C<TEST_MOONGATE_BINARY=/usr/sbin/nginx> to
check a test against nginx).

=head1 SECTIONS

Server: C<config> (inside C<server {}>; a C<location /> is added unless the
section has one), C<http_config>, C<main_config> (C<daemon off;> there runs
the server in the foreground), C<stream_config> (the inside of a top-level C<stream {}> block,
written only when the section is there; for nginx the dynamic stream module is loaded), C<log_level>, C<user_files> (each file starts
with a line ">>> path [date]", date as Test::Nginx's: touch -t's [[CC]YY]MMDDhhmm[.ss] in GMT;
paths relative to html/), C<must_die> (startup must fail;
C<error_log> then also searches the start command's output), C<init> (Perl
run after startup; not run when the server failed to start).  C<$TEST_NGINX_*> / C<$TEST_MOONGATE_*> in configs and
requests are replaced by environment values (C<SERVER_PORT>, C<HTML_DIR>, ...).

Requests: C<request> (C<GET /x> gets C<HTTP/1.1>; lines after the first are
the body, less the section's final LF; an eval'd arrayref = one connection
per request), C<more_headers> (an eval'd arrayref pairs with such requests; override C<Host: localhost> and
C<Connection: close>), C<raw_request> (string, or arrayref of pieces sent
C<raw_request_middle_delay> seconds apart), C<pipelined_requests> (arrayref,
one connection, keep-alive but the last), C<timeout> (3, 1.5, 100ms; per
read), C<abort> (a timeout is expected), C<ignore_response>.

Checks, one assertion each: status (C<error_code>, default 200), every
C<response_headers> line (C<Name: value>; C<!Name> = absent; C<Name:> =
absent or empty), every C<response_headers_like> line (value anchored
regex), C<raw_response_headers_like>/C<_unlike>, C<response_body> (after
C<response_body_filters>: function names or code refs applied in order),
C<response_body_like>/C<_unlike> (a section's final newline is part of the pattern, as
Test::Nginx's: say C<chomp> where it must not be), every C<error_log> / C<no_error_log>
pattern (string = substring, qr// = regex, matched per line; positive ones
are awaited up to TEST_MOONGATE_LOG_WAIT seconds (default 5), or C<log_wait> seconds if the block says
more), C<grep_error_log> +
C<grep_error_log_out>, and C<must_die>.  Arrayref expectations pair with the
requests/responses by index.  A read timeout without C<abort> is one extra
failure.  C<response_incomplete>: the response must break off (a
Content-Length not met or no last chunk, then EOF); one more assertion,
status, headers and body are checked on what arrived.  When the server cannot start, every assertion of the block fails.

TLS: C<ssl> makes the harness's server C<listen ... ssl> (with
C<ssl_certificate>/C<_key> for localhost from L<Test::Moongate::Certs> unless C<config> or
C<http_config> has an C<ssl_certificate> or C<ssl_certificate_key> line) and sends the block's requests over TLS
(IO::Socket::SSL, no verification of the server).  Its value: options C<sni=NAME> (default
localhost; C<sni=-> sends none), C<cert=FILE key=FILE> (a client certificate; FILE relative to
the certificates' directory), C<plain> (the server listens with TLS, the client speaks plain
HTTP to it), C<plain_listen> (the listen line has no C<ssl>, no certificate is added: the
block's config turns TLS on another way).  The certificates are made once per server root
(C<Test::Moongate::Certs::make()>, which also sets C<$TEST_MOONGATE_CERT_DIR> for configs; call
it at the top of a file whose configs name them).

C<SKIP>, C<ONLY> and C<LAST> are Test::Base's.  C<moongate_only>: the
block is skipped (one skip assertion) when the binary is nginx (behaviour moongate has on purpose);
C<moongate_skip>: skipped, its value the reason (a preprocessor sets it, e.g. a library is missing).

Any other section name fails its block, which is not run: a typo must not turn a check into
nothing.  Exceptions: Test::Nginx's C<skip_nginx skip_nginx2 skip_eval skip_openssl skip_slave
todo no_check_leak check_leak>, accepted and ignored (each only skips or relaxes a block, so
running it regardless checks more); C<bad_conf> and C<include_in> after use_bad_conf_blocks();
and the names a test file declares with C<add_known_sections(...)> for the sections its own code
reads.

=head1 FUNCTIONS

C<run_tests repeat_each log_level worker_connections workers master_on
master_off env_to_nginx add_block_preprocessor add_known_sections no_shuffle no_long_string
no_root_location env_port>, path helpers C<server_port html_dir servroot ...> and
C<run_cmd(@argv)> returning C<(exit code, stdout, stderr)>.  Variables:
C<$ServerPort $ServRoot $HtmlDir $LogDir $ConfFile $ErrLogFile $PidFile
$Binary $RepoRoot>.

=cut
