package Test::MoongateRedis;
# A real redis-server for the tests that talk to one (t/413, t/421): started on 127.0.0.1 on a
# free port, without persistence, in a temporary directory; stopped when the test file ends.
#
#   my $port = Test::MoongateRedis::start() or plan(skip_all => $Test::MoongateRedis::Why);

use strict;
use warnings;
use POSIX ();
use IO::Socket::INET ();
use Time::HiRes ();
use File::Temp ();
use Test::Moongate ();

our $Bin = $ENV{TEST_MOONGATE_REDIS} || '/usr/bin/redis-server';
our $Why;
my ($Pid, $Owner);

# the port, or undef with $Why set when there is no redis-server
sub start {
    unless (-x $Bin) {
        $Why = "no $Bin (Debian's redis-server package; ./configure --install-deps installs it)";
        return undef;
    }
    my $port;
    do { $port = Test::Moongate::find_free_port() } while $port == $Test::Moongate::ServerPort;
    my $dir = File::Temp::tempdir('moongate-redis-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    $Owner = $$;
    $Pid = fork;
    die "fork: $!" unless defined $Pid;
    if ($Pid == 0) {
        open STDOUT, '>', "$dir/redis.out";
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec';
          exec $Bin, '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
               '--daemonize', 'no', '--dir', $dir; }
        POSIX::_exit(127);
    }
    my $deadline = Time::HiRes::time() + 5;
    until (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1)) {
        die "redis-server did not start on port $port\n" . `cat $dir/redis.out`
            if Time::HiRes::time() > $deadline || waitpid($Pid, POSIX::WNOHANG()) == $Pid;
        Time::HiRes::sleep(0.05);
    }
    return $port;
}

END {
    if ($Pid && $Owner && $$ == $Owner) {
        kill 'TERM', $Pid;
        waitpid($Pid, 0);
    }
}

1;
