# The command line: -v -V -h, option errors, -t -T -q, -p -c -g -e, -s against a daemonized
# server, and a startup failure.  Passes against nginx too
# (TEST_MOONGATE_BINARY=/usr/sbin/nginx), less the moongate-only checks noted below.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use File::Path ();
use IO::Socket::INET ();
use Time::HiRes ();

my $is_nginx = $Binary =~ /nginx/;
my $N = $is_nginx ? 'nginx' : 'moongate';   # the name the binary calls itself

File::Path::remove_tree($ServRoot);
File::Path::make_path("$ServRoot/conf/inc", "$ServRoot/logs", "$ServRoot/html",
                      "$ServRoot/other/logs");

my $conf = "$ServRoot/conf/good.conf";
my $pidf = "$ServRoot/logs/cli.pid";
my $errf = "$ServRoot/logs/cli-error.log";
my $early = "$ServRoot/logs/early.log";

my $good = <<"EOC";
pid logs/cli.pid;
error_log logs/cli-error.log info;
master_process off;
events {
    worker_connections 64;
}
include inc/*.conf;
http {
    server {
        listen 127.0.0.1:$ServerPort;
        location / { return 200 "cli\\n"; }
    }
}
EOC
my $inc = "worker_processes 1;\n";
Test::Moongate::spew($conf, $good);
Test::Moongate::spew("$ServRoot/conf/inc/one.conf", $inc);
Test::Moongate::spew("$ServRoot/conf/bad.conf",
                     "events {\n}\n\nfoo bar;\n");

# every run gets -e: the early log then never depends on the binary's compiled-in default
sub mg { run_cmd($Binary, '-e', $early, @_) }
sub lines_of { my $s = shift; [split /\n/, $s] }
sub wait_for {
    my ($what, $cond) = @_;
    my $deadline = Time::HiRes::time() + 5;
    until ($cond->()) {
        return 0 if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.01);
    }
    return 1;
}

# ---------------------------------------------------------------------------
# -v -V -h

my ($code, $out, $err) = run_cmd($Binary, '-v');
is($code, 0, '-v exits 0');
# nginx's line; moongate's names the nginx release it follows, then its own version, so tools
# that parse nginx's (Test::Nginx) read a version they know
my $ver = $is_nginx ? qr/nginx version: nginx\/\d+\.\d+\.\d+/
                    : qr/nginx version: moongate\/\d+\.\d+\.\d+ \(moongate\/\d+\.\d+\.\d+\)/;
like($err, qr/\A$ver\n\z/, '-v prints the version line on stderr');
is($out, '', '-v prints nothing on stdout');

($code, $out, $err) = run_cmd($Binary, '-V');
is($code, 0, '-V exits 0');
like($err, qr/\A$ver\n/, '-V starts with the version line');
unless ($is_nginx) {
    # the modules moongate lacks, in nginx's spelling (fastcgi comes with a later issue), and
    # one it has that nginx builds only when asked
    like($err, qr/^configure arguments:.* --with-http_gzip_static_module/m, '-V: --with-http_gzip_static_module');
    unlike($err, qr/--without-http_proxy_module|--without-http_rewrite_module/, '-V: proxy and rewrite are there');
    like($err, qr/^configure arguments:.* --with-http_ssl_module/m, '-V: --with-http_ssl_module');
}
like($err, qr/^configure arguments:/m, '-V prints "configure arguments:"');
like($err, qr/^configure arguments:.* --with-stream( |=dynamic|$)/m, '-V: --with-stream');
SKIP: {
    skip('-V "built by": Debian\'s nginx prints none', 1) if $is_nginx;
    like($err, qr/^built by \S.*\nbuilt with OpenSSL 3\S* .*\nTLS SNI support enabled\nconfigure arguments:/m,
         '-V prints "built by", "built with OpenSSL" and "TLS SNI support enabled" before it');
}

for my $opt ('-h', '-?') {
    ($code, $out, $err) = run_cmd($Binary, $opt);
    is($code, 0, "$opt exits 0");
    like($err, qr/\Anginx version: .*\nUsage: $N \[-\?hvVtTq\] \[-s signal\] \[-p prefix\]\n/,
         "$opt prints the version and the usage line");
    like($err, qr/^  -g directives : set global directives out of configuration file$/m,
         "$opt lists -g");
}

# ---------------------------------------------------------------------------
# option errors

my @bad_opts = (
    [['-x'], 'invalid option: "x"'],
    [['abc'], 'invalid option: "abc"'],
    [['-s', 'foo'], 'invalid option: "-s foo"'],
    [['-s'], 'option "-s" requires parameter'],
    [['-p'], 'option "-p" requires directory name'],
    [['-c'], 'option "-c" requires file name'],
    [['-e'], 'option "-e" requires file name'],
    [['-g'], 'option "-g" requires parameter'],
);
for my $b (@bad_opts) {
    ($code, $out, $err) = run_cmd($Binary, @{ $b->[0] });
    is($code, 1, "@{ $b->[0] } exits 1");
    is($err, "$N: $b->[1]\n", "@{ $b->[0] }: $b->[1]");
}

# ---------------------------------------------------------------------------
# -t -q -T

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-t');
is($code, 0, '-t on a good config exits 0');
is($err, "$N: the configuration file $conf syntax is ok\n"
         . "$N: configuration file $conf test is successful\n",
   '-t prints exactly the two lines on stderr');
is($out, '', '-t prints nothing on stdout');
# nginx opens (creating, not truncating) the pid file to check it can; nothing is written
ok(-e $pidf && -z $pidf, '-t leaves an empty pid file behind');
unlink $pidf;
ok(IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $ServerPort, Listen => 1,
                         ReuseAddr => 1), '-t leaves the port free');

# -t binds every listen address as nginx -t does: an address in use passes (the running
# server's), one that cannot be bound fails the test; a unix socket's file is not left behind
{
    my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $ServerPort,
                                     Listen => 1, ReuseAddr => 1) or die "listen: $!";
    ($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-t');
    is($code, 0, '-t passes while the address is in use (a running server)') or diag($err);
    close $busy;
    unlink $pidf;

    (my $noaddr = $good) =~ s/listen 127\.0\.0\.1:$ServerPort;/listen 192.0.2.1:$ServerPort;/ or die;
    Test::Moongate::spew("$ServRoot/conf/noaddr.conf", $noaddr);
    my $f = "$ServRoot/conf/noaddr.conf";
    ($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/noaddr.conf', '-t');
    is($code, 1, '-t fails when a listen address cannot be bound');
    is($err, "$N: the configuration file $f syntax is ok\n"
             . "$N: [emerg] bind() to 192.0.2.1:$ServerPort failed (99: Cannot assign requested address)\n"
             . "$N: configuration file $f test failed\n",
       '-t: syntax ok, the bind() error, test failed');
    unlink $pidf;

    my $sock = "$ServRoot/logs/t.sock";
    (my $unix = $good) =~ s/listen 127\.0\.0\.1:$ServerPort;/listen unix:$sock;/ or die;
    Test::Moongate::spew("$ServRoot/conf/unix.conf", $unix);
    unlink $sock;
    ($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/unix.conf', '-t');
    is($code, 0, '-t with a unix socket') or diag($err);
    ok(!-e $sock, '-t leaves no unix socket file behind');
    unlink $pidf;
}

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-tq');
is($code, 0, '-tq exits 0');
is($err . $out, '', '-q suppresses the ok lines');

my $badf = "$ServRoot/conf/bad.conf";
($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/bad.conf', '-t');
is($code, 1, '-t on a bad config exits 1');
is($err, "$N: [emerg] unknown directive \"foo\" in $badf:4\n"
         . "$N: configuration file $badf test failed\n",
   '-t on a bad config: the emerg line with FILE:LINE, then "test failed"');
like(Test::Moongate::slurp($early),
     qr/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[emerg\] \d+#\d+: unknown directive "foo" in \Q$badf\E:4$/m,
     'the emerg line is in the -e log too, in the error log format');

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/bad.conf', '-tq');
is($code, 1, '-tq on a bad config exits 1');
like($err, qr/test failed$/m, '-q does not hide the failure');

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/nothere.conf', '-t');
is($code, 1, '-t on a missing file exits 1');
is($err, "$N: [emerg] open() \"$ServRoot/conf/nothere.conf\" failed"
         . " (2: No such file or directory)\n"
         . "$N: configuration file $ServRoot/conf/nothere.conf test failed\n",
   '-t on a missing file: the open() error without FILE:LINE');

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-T');
is($code, 0, '-T exits 0');
is($out, "# configuration file $conf:\n$good\n"
         . "# configuration file $ServRoot/conf/inc/one.conf:\n$inc\n",
   '-T dumps the main file and each included file');
like($err, qr/syntax is ok/, '-T also says the syntax is ok');

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-Tq');
is($err, '', '-Tq: nothing on stderr');
like($out, qr/\A# configuration file \Q$conf\E:\n/, '-Tq still dumps');

# ---------------------------------------------------------------------------
# -p and -c

($code, $out, $err) = mg('-p', $ServRoot, '-c', 'conf/good.conf', '-t');
is($code, 0, '-p without a trailing slash');
like($err, qr/^$N: the configuration file \Q$conf\E syntax is ok$/m,
     '-p without a slash: -c relative to it gets the slash');

($code, $out, $err) = mg('-p', "$ServRoot/other/", '-c', $conf, '-t');
is($code, 0, '-c absolute ignores the prefix for the file');
like($err, qr/^$N: the configuration file \Q$conf\E syntax is ok$/m, '-c absolute: named as given');

{
    require Cwd;
    my $cwd = Cwd::getcwd();
    chdir $ServRoot or die;
    ($code, $out, $err) = mg('-p', '.', '-c', 'conf/good.conf', '-t');
    chdir $cwd;
    is($code, 0, '-p relative to the working directory');
    like($err, qr/^$N: the configuration file \.\/conf\/good\.conf syntax is ok$/m,
         '-p relative: the file is named under it');
}

# ---------------------------------------------------------------------------
# -g

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-t',
                         '-g', 'daemon off; worker_rlimit_nofile 512;');
is($code, 0, '-g with two directives') or diag($err);

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-t', '-g', 'pid x.pid;');
is($code, 1, '-g and the file set the same directive: exit 1');
like($err, qr/^$N: \[emerg\] "pid" directive is duplicate in \Q$conf\E:1$/m,
     '-g first: the duplicate is reported in the file');

my @g_errors = (
    ['foo;', 'unknown directive "foo" in command line'],
    ['daemon maybe;', 'invalid value "maybe" in "daemon" directive, it must be "on" or "off" in command line'],
    ['daemon on', 'unexpected end of parameter, expecting ";" in command line'],
    ['daemon "on', 'unexpected end of parameter, expecting ";" in command line'],
    ['events { }', 'block directives are not supported in -g option in command line'],
    ['listen 80;', '"listen" directive is not allowed here in command line'],
    ['daemon on; }', 'unexpected "}" in command line'],
);
for my $g (@g_errors) {
    ($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-t', '-g', $g->[0]);
    is($code, 1, "-g '$g->[0]' exits 1");
    like($err, qr/^$N: \[emerg\] \Q$g->[1]\E$/m, "-g '$g->[0]': $g->[1]");
}

# ---------------------------------------------------------------------------
# -e

unlink "$ServRoot/logs/e-rel.log";
($code, $out, $err) = run_cmd($Binary, '-p', "$ServRoot/", '-e', 'logs/e-rel.log',
                              '-c', 'conf/bad.conf', '-t');
like(Test::Moongate::slurp("$ServRoot/logs/e-rel.log"), qr/\[emerg\] \d+#\d+: unknown directive "foo"/,
     '-e relative to the prefix gets the early errors');

($code, $out, $err) = run_cmd($Binary, '-p', "$ServRoot/", '-e', 'stderr', '-c', 'conf/bad.conf', '-t');
like($err, qr/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[emerg\] \d+#\d+: unknown directive "foo" in \Q$badf\E:4$/m,
     '-e stderr: the error log line itself on stderr');
unlike($err, qr/^$N: \[emerg\]/m, '-e stderr: not twice');

# ---------------------------------------------------------------------------
# -s

unlink $pidf;
($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-s', 'quit');
is($code, 1, '-s without a pid file exits 1');
like($err, qr/^$N: \[error\] open\(\) "\Q$pidf\E" failed \(2: No such file or directory\)$/m,
     '-s without a pid file: the open() error');
like(Test::Moongate::slurp($early), qr/\[notice\] \d+#\d+: signal process started$/m,
     '-s logs "signal process started" in the early log');

Test::Moongate::spew($pidf, "garbage\n");
($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-s', 'reopen');
is($code, 1, '-s with garbage in the pid file exits 1');
like($err, qr/^$N: \[error\] invalid PID number "garbage" in "\Q$pidf\E"$/m, 'invalid PID number');
unlink $pidf;

sub start_daemon {
    unlink $pidf;
    my ($c, $o, $e) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-g', 'daemon on;');
    return ($c, $e);
}

sub get {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort,
                                  Timeout => 3) or return '';
    print $s "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    return $r;
}

my ($scode, $serr) = start_daemon();
is($scode, 0, 'daemon start exits 0') or diag($serr);
if ($is_nginx) {
    # nginx writes its pid file after its parent has returned
    wait_for('pid file', sub { -s $pidf });
}
ok(-s $pidf, 'the pid file exists when the start command returns');
my ($pid) = Test::Moongate::slurp($pidf) =~ /^(\d+)\n\z/;
ok($pid && Test::Moongate::process_alive($pid), 'the pid file names a live process');
like(get(), qr/\r\n\r\ncli\n\z/, 'the daemon serves');

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-s', 'reopen');
is($code, 0, '-s reopen exits 0');
ok(wait_for('reopen', sub { Test::Moongate::slurp($errf) =~ /reopening logs/ }),
   'reopen reaches the server');

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-s', 'reload');
is($code, 0, '-s reload exits 0');
ok(wait_for('reload', sub { Test::Moongate::slurp($errf) =~ /reconfiguring/ }),
   'reload reaches the server');
SKIP: {
    skip('still serves after reload: nginx in single-process mode may not', 1) if $is_nginx;
    ok(wait_for('serves after reload', sub { get() =~ /\ncli\n\z/ }), 'still serves after reload');
}

($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-s', 'quit');
is($code, 0, '-s quit exits 0');
ok(wait_for('exit', sub { !Test::Moongate::process_alive($pid) }), '-s quit: the server exits');
ok(wait_for('pid file gone', sub { !-e $pidf }), '-s quit: the pid file is removed (after a reload too)');

($scode, $serr) = start_daemon();
wait_for('pid file', sub { -s $pidf }) if $is_nginx;
($pid) = Test::Moongate::slurp($pidf) =~ /^(\d+)\n\z/;
# (no pid would pass "the server exits" below on nothing)
ok($pid && Test::Moongate::process_alive($pid), 'started again: the pid file names a live process');
($code, $out, $err) = mg('-p', "$ServRoot/", '-c', 'conf/good.conf', '-s', 'stop');
is($code, 0, '-s stop exits 0');
ok(wait_for('exit', sub { !Test::Moongate::process_alive($pid) }), '-s stop: the server exits');
if ($pid && Test::Moongate::process_alive($pid)) {
    kill 'KILL', $pid;
}

# ---------------------------------------------------------------------------
# a startup error: the port is taken by a socket we hold

my $holder = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $ServerPort,
                                   Listen => 1, ReuseAddr => 1)
    or die "cannot hold port $ServerPort: $!";
unlink $errf;
($code, $out, $err) = run_cmd({ timeout => 10 }, $Binary, '-e', $early, '-p', "$ServRoot/",
                              '-c', 'conf/good.conf', '-g', 'daemon on;');
is($code, 1, 'startup with the port taken exits 1');
like($err, qr/^$N: \[emerg\] bind\(\) to 127\.0\.0\.1:$ServerPort failed \(98: Address already in use\)$/m,
     'the bind() error on stderr');
like(Test::Moongate::slurp($errf),
     qr/\[emerg\] \d+#\d+: bind\(\) to 127\.0\.0\.1:$ServerPort failed \(98: Address already in use\)$/m,
     'the bind() error in the error log');
like($err, qr/^$N: \[emerg\] still could not bind\(\)$/m, 'then "still could not bind()"');
ok(!-e $pidf, 'no pid file after a failed start');
close $holder;

Test::More::done_testing();
