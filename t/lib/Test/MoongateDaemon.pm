package Test::MoongateDaemon;

# Real application servers for the upstream protocol tests (t/60x: php-fpm,
# uwsgi, memcached): each started by the test file in the foreground on a free
# 127.0.0.1 port (or a unix-domain socket), in its own process group, waited
# for until it accepts connections (60 s at most), and killed (the whole
# group) in an END block, also when the test file dies.
#
#   use Test::MoongateDaemon;
#   my $port = daemon(fpm => sub { my ($port, $dir) = @_; ...; return @argv });
#   # $TEST_NGINX_FPM_PORT in configs; daemon_dir('fpm') its scratch directory
#   daemon_skip_unless('php-fpm8.2')   # skip_all when the binary is missing
#   daemon(fpm => php_fpm('php_admin_value[output_buffering] = 0'))  # php-fpm, 2 children
#   daemon(scgi => wsgi_app('scgi'))  # uwsgi running t/wsgi/app.py as an SCGI server
#
# A daemon that does not come up fails the file with its log's tail.

use strict;
use warnings;

use File::Temp ();
use IO::Socket::INET ();
use IO::Socket::UNIX ();
use POSIX ();
use Time::HiRes ();
use Test::More ();
use Test::Moongate ();
use Exporter 'import';

our @EXPORT = qw(daemon daemon_dir daemon_skip_unless stop_daemons php_fpm wsgi_app);

my %Daemon;
my $MainPid = $$;

sub daemon_skip_unless {
    for my $bin (@_) {
        next if $bin =~ m{/} ? -e $bin : grep { -x "$_/$bin" } split /:/, $ENV{PATH} . ':/usr/sbin:/sbin';
        Test::More::plan(skip_all => "$bin is not installed (configure --install-deps)");
    }
}

sub daemon_dir { $Daemon{ $_[0] }{dir} }

# The start sub of a php-fpm (Debian's 8.2) in the foreground on the daemon's port: one pool of
# 2 static children with a clean environment, and the pool lines given added.
sub php_fpm {
    my @pool = @_;
    return sub {
        my ($port, $dir) = @_;
        open my $fh, '>', "$dir/fpm.conf" or die "fpm.conf: $!";
        print $fh "[global]\nerror_log = $dir/fpm.log\ndaemonize = no\n[www]\n"
            . "listen = 127.0.0.1:$port\npm = static\npm.max_children = 2\nclear_env = yes\n"
            . join('', map { "$_\n" } @pool);
        close $fh;
        return ('php-fpm8.2', '-F', '-n', '-R', '-y', "$dir/fpm.conf");
    };
}

# The start sub of Debian's uwsgi (python3 plugin) running t/wsgi/app.py in one process, on the
# daemon's port as a socket of $kind (uwsgi, scgi, suwsgi); $suffix follows the address
# (suwsgi: ",CERT,KEY").
sub wsgi_app {
    my ($kind, $suffix) = @_;
    my $app = "$Test::Moongate::RepoRoot/t/wsgi/app.py";
    return sub {
        my ($port) = @_;
        return ('uwsgi', '--plugin', 'python3', "--$kind-socket", "127.0.0.1:$port" . ($suffix // ''),
                '--wsgi-file', $app, '--processes', '1', '--disable-logging', '--need-app');
    };
}

# daemon(NAME => sub { ($port, $dir) -> @argv }, unix => 1 (then the socket is $dir/NAME.sock
# and the callback gets its path instead of a port), env => {...})
sub daemon {
    my ($name, $argv, %o) = @_;
    my $dir = File::Temp::tempdir("moongate-$name-XXXXXX", TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    my $addr = $o{unix} ? "$dir/$name.sock" : Test::Moongate::find_free_port();
    my @cmd = $argv->($addr, $dir);
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$dir/stdout.log";
        open STDERR, '>', "$dir/stderr.log";
        %ENV = (%ENV, %{ $o{env} || {} });
        exec @cmd or POSIX::_exit(127);
    }
    $Daemon{$name} = { pid => $pid, dir => $dir };
    # 60 s at most: a python3 daemon importing grpcio on a loaded machine (a parallel prove,
    # other suites) can take more than the 10 s this was; the wait ends once the port accepts
    my $up = 0;
    my $deadline = Time::HiRes::time() + 60;
    while (Time::HiRes::time() < $deadline) {
        my $s = $o{unix} ? IO::Socket::UNIX->new(Peer => $addr)
                         : IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $addr, Timeout => 1);
        if ($s) { close $s; $up = 1; last }
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        Time::HiRes::sleep(0.05);
    }
    unless ($up) {
        my $log = '';
        for my $f ("$dir/stderr.log", "$dir/stdout.log") {
            open my $fh, '<', $f or next;
            local $/;
            $log .= <$fh> // '';
        }
        stop_daemons();
        die "Test::MoongateDaemon: $name (@cmd) did not come up:\n$log\n";
    }
    my $key = 'TEST_NGINX_' . uc($name) . ($o{unix} ? '_SOCK' : '_PORT');
    $ENV{$key} = $addr;
    return $addr;
}

sub stop_daemons {
    return unless $$ == $MainPid;
    for my $d (values %Daemon) {
        my $pid = delete $d->{pid} or next;
        kill 'TERM', -$pid;
        for (1 .. 40) {
            last if waitpid($pid, POSIX::WNOHANG()) == $pid;
            Time::HiRes::sleep(0.05);
        }
        kill 'KILL', -$pid;
        waitpid($pid, 0);
    }
}

END { local $?; stop_daemons() }

1;
