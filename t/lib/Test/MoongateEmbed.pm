# Helpers of the embedding tests (t/8xx-embed*.t): install the library into a scratch PREFIX,
# build a C program against it with pkg-config alone, run it, talk HTTP to it, signal it.
package Test::MoongateEmbed;
use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();
use Test::Moongate ();

our @EXPORT = qw(embed_install embed_build embed_start embed_request embed_wait_output
                 embed_wait_exit embed_wait_up);

my $root = $Test::Moongate::RepoRoot;

# The compiler and link flags the library was built with (objs/Makefile.conf): a sanitizer
# build's library needs its runtime in the program too.
sub build_conf {
    my %c;
    open my $fh, '<', "$root/objs/Makefile.conf" or die "objs/Makefile.conf: $!";
    while (<$fh>) {
        $c{$1} = $2 if /^(\w+) = ?(.*)$/;
    }
    return \%c;
}

# make install PREFIX=$dir/prefix; returns the prefix.
sub embed_install {
    my $dir = shift;
    remove_tree($dir);
    make_path($dir);
    my $prefix = "$dir/prefix";
    my ($code, $out, $err) = Test::Moongate::run_cmd({ timeout => 600 }, 'make', '-s', '-C',
        $root, 'install', "PREFIX=$prefix");
    die "make install failed: $out$err" if $code != 0;
    return $prefix;
}

# Build with the program's own Makefile (pkg-config only). Returns (exit code, output).
sub embed_build {
    my ($prefix, $srcdir, $builddir) = @_;
    my $c = build_conf();
    make_path($builddir);
    system('cp', glob("$srcdir/*"), $builddir) == 0 or die "cp: $?";
    local $ENV{PKG_CONFIG_PATH} = "$prefix/lib/pkgconfig";
    my ($code, $out, $err) = Test::Moongate::run_cmd({ timeout => 300 }, 'make', '-C',
        $builddir, "CC=$c->{CC}", "LDFLAGS=$c->{LDFLAGS}");
    return ($code, "$out$err");
}

# Start argv with stdout and stderr to $out; returns the pid.
sub embed_start {
    my ($out, @argv) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        { no warnings "exec"; exec { $argv[0] } @argv; }
        POSIX::_exit(127);
    }
    return $pid;
}

# One request on a new connection: (status, headers text, body); undef when the connection
# failed. `body` is sent with a Content-Length.
sub embed_request {
    my ($port, $method, $path, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
                                  Timeout => 5) or return;
    my $req = "$method $path HTTP/1.0\r\nHost: localhost\r\n";
    $req .= "$_: $o{headers}{$_}\r\n" for sort keys %{ $o{headers} || {} };
    $req .= "Content-Length: " . length($o{body}) . "\r\n" if defined $o{body};
    $req .= "\r\n" . (defined $o{body} ? $o{body} : '');
    print $s $req;
    local $/;
    my $resp = <$s>;
    close $s;
    return unless defined $resp && $resp =~ /^HTTP\/1\.\d (\d+)/;
    my $status = $1;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    return ($status, $head, $body);
}

# Polls (5 s at most) until a server just started answers: with $path, the first response to a
# GET of it (embed_request's list; empty when none came); without, 1 once $port accepts a
# connection (closed at once), else empty.
sub embed_wait_up {
    my ($port, $path) = @_;
    for (1 .. 250) {
        if (defined $path) {
            my @r = embed_request($port, 'GET', $path);
            return @r if @r;
        } elsif (my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)) {
            close $s;
            return 1;
        }
        select(undef, undef, undef, 0.02);
    }
    return;
}

# Wait (at most $secs) until the file matches $re; returns its text.
sub embed_wait_output {
    my ($file, $re, $secs) = @_;
    my $deadline = Time::HiRes::time() + ($secs || 10);
    my $text = '';
    while (Time::HiRes::time() < $deadline) {
        $text = Test::Moongate::slurp($file);
        return $text if $text =~ $re;
        Time::HiRes::sleep(0.02);
    }
    return $text;
}

# Wait (at most $secs) for the process to exit: its exit code, 128+signal, or -1 (killed
# after the time).
sub embed_wait_exit {
    my ($pid, $secs) = @_;
    my $deadline = Time::HiRes::time() + ($secs || 10);
    while (Time::HiRes::time() < $deadline) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        if ($r == $pid) {
            return POSIX::WIFSIGNALED($?) ? 128 + POSIX::WTERMSIG($?) : $? >> 8;
        }
        Time::HiRes::sleep(0.02);
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return -1;
}

1;
