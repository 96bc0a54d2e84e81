package Test::MoongateRaw;

# Raw bytes to the test server (Test::Moongate's $ServerPort) on a connection of their own,
# read until the server closes it: for what the harness's response parser cannot frame
# (HTTP/0.9 answers, heads cut off, a close that is itself the thing checked).
#
#   use Test::MoongateRaw;
#   my $out = raw_exchange("GET /t\r\n");                      # what came, '' if nothing
#   my ($out, $secs) = until_close("GET /t HTTP/1.1\r\n", 3); # $secs undef: not closed in 3 s
#   my $got = read_until($sock, qr/\r\n\r\n/, 3);          # on a socket of the test's own
#
# and, on request, for a test that drives keepalive connections of its own to a port it names:
#   use Test::MoongateRaw qw(tcp_connect send_all read_responses);
#   my $c = tcp_connect($port);         # TCP_NODELAY, dies if refused
#   send_all($c, $bytes);               # every byte, dies on an error
#   my @r = read_responses($c, $n);     # [status, body] of $n responses with Content-Length
#   use Test::MoongateRaw qw(server_conn read_end);
#   my $c = server_conn($tls);          # to the test server, over TLS when $tls
#   my ($out, $how) = read_end($c, qr/until/);   # how it ended: EOF, RST, MATCH, TIMEOUT
#   use Test::MoongateRaw qw(worker_nodelay);
#   my $flag = worker_nodelay($pid, sub { my ($peer_port, $my_port) = @_; ... });
#                                       # TCP_NODELAY of the worker's socket the sub picks

use strict;
use warnings;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();
use Socket qw(AF_INET IPPROTO_TCP TCP_NODELAY sockaddr_family unpack_sockaddr_in);
use POSIX ();
use Exporter 'import';

our @EXPORT = qw(raw_exchange until_close read_until);
our @EXPORT_OK = qw(tcp_connect send_all read_responses server_conn read_end worker_nodelay);

# send $bytes, read until EOF or $bound seconds in all: (what came, seconds until EOF), or
# (what came, undef) when the server did not close in time; ("connect: ...") when it refused
sub until_close {
    my ($bytes, $bound) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                  Proto => 'tcp', Timeout => 3) or return ("connect: $!");
    print $s $bytes if length $bytes;
    my $t0 = Time::HiRes::time();
    my $sel = IO::Select->new($s);
    my $out = '';
    while (1) {
        my $left = $t0 + $bound - Time::HiRes::time();
        return ($out, undef) if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $buf, 65536);
        return ($out, Time::HiRes::time() - $t0) unless $n;
        $out .= $buf;
    }
}

# the bytes the server sends back to $bytes until it closes (10 s at most)
sub raw_exchange { return (until_close($_[0], 10))[0] }

# what arrives on $s until it matches $want, EOF or $timeout seconds in all (3)
sub read_until {
    my ($s, $want, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $got = '';
    my $deadline = Time::HiRes::time() + ($timeout // 3);
    while ($got !~ $want) {
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        $got .= $buf;
    }
    return $got;
}

sub tcp_connect {
    my ($port) = @_;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5) or die "connect: $!";
    setsockopt($c, IPPROTO_TCP, TCP_NODELAY, 1);
    return $c;
}

sub send_all {
    my ($c, $data) = @_;
    for (my $off = 0; $off < length $data;) {
        my $n = syswrite($c, $data, length($data) - $off, $off);
        die "send: $!" unless defined $n;
        $off += $n;
    }
}

# $n responses (each framed by its Content-Length, none: empty), fewer when the server closes
# or 5 s pass without a byte
sub read_responses {
    my ($c, $n) = @_;
    my ($buf, @out) = ('');
    my $sel = IO::Select->new($c);
    while (@out < $n) {
        if ($buf =~ /\A(HTTP\/1\.1 (\d+)[^\r]*\r\n(.*?)\r\n\r\n)/s) {
            my ($headlen, $status, $fields) = (length $1, $2, $3);
            my ($len) = $fields =~ /^Content-Length:\s*(\d+)/mi;
            $len //= 0;
            if (length($buf) >= $headlen + $len) {
                push @out, [$status, substr($buf, $headlen, $len)];
                substr($buf, 0, $headlen + $len) = '';
                next;
            }
        }
        last unless $sel->can_read(5);
        last unless sysread($c, $buf, 65536, length $buf);
    }
    return @out;
}

sub server_conn {
    my $tls = shift;
    require IO::Socket::SSL if $tls;
    my $s = $tls
        ? IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$Test::Moongate::ServerPort",
                               SSL_verify_mode => 0, Timeout => 5)
        : IO::Socket::INET->new(PeerAddr => "127.0.0.1:$Test::Moongate::ServerPort",
                                Proto => 'tcp', Timeout => 5);
    $s or die "connect: $! " . ($tls ? $IO::Socket::SSL::SSL_ERROR : '') . "\n";
    return $s;
}

# Read until the server ends the connection or $until matches: (data, "EOF" | "RST" | "MATCH"
# | "TIMEOUT" after 5 s without a byte)
sub read_end {
    my ($s, $until) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my ($out, $sel) = ('', IO::Select->new($s));
    while (1) {
        return ($out, 'MATCH') if defined $until && $out =~ $until;
        my $pending = $s->can('pending') && $s->pending;
        return ($out, 'TIMEOUT') unless $pending || $sel->can_read(5);
        my $n = sysread($s, my $buf, 65536);
        if (!defined $n) {
            next if $!{EAGAIN};
            return ($out, ($!{ECONNRESET} || ($IO::Socket::SSL::SSL_ERROR // '') =~ /reset/i)
                ? 'RST' : "ERROR $!");
        }
        return ($out, 'EOF') if $n == 0;
        $out .= $buf;
    }
}

# TCP_NODELAY on the worker's own end of a connection, seen from here: pidfd_getfd(2) copies
# each of its sockets into this process, where getsockopt reads the flag. $pick gets each IPv4
# socket's (peer port, own port) and says whether it is the one. -1: none picked; -2: no pidfd.
use constant { SYS_pidfd_open => 434, SYS_pidfd_getfd => 438 };

sub worker_nodelay {
    my ($pid, $pick) = @_;
    my $pfd = syscall(SYS_pidfd_open, $pid + 0, 0);
    return -2 if $pfd < 0;
    my $flag = -1;
    opendir my $d, "/proc/$pid/fd" or return -1;
    for my $f (grep { /^\d+$/ } readdir $d) {
        next unless (readlink("/proc/$pid/fd/$f") // '') =~ /^socket:/;
        my $fd = syscall(SYS_pidfd_getfd, $pfd, $f + 0, 0);
        next if $fd < 0;
        open(my $s, '+<&=', $fd) or next;
        my $peer = getpeername($s);
        my $me = getsockname($s);
        if ($peer && $me && sockaddr_family($peer) == AF_INET
            && $pick->((unpack_sockaddr_in($peer))[0], (unpack_sockaddr_in($me))[0])) {
            $flag = unpack('i', getsockopt($s, IPPROTO_TCP, TCP_NODELAY));
        }
        close $s;
        last if $flag >= 0;
    }
    POSIX::close($pfd);
    return $flag;
}

1;
