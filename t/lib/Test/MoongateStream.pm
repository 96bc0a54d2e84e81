package Test::MoongateStream;

# Peers and a client for the stream{} tests (t/906 and on): forked TCP and UDP servers on free
# 127.0.0.1 ports (killed when the test ends), a port nothing listens on, and one exchange on a
# TCP connection bounded in time.
#
#   my $port = tcp_server(sub { my $c = shift; ... });   # a child per connection
#   my $udp  = udp_server(sub { "echo:$_[0]" });          # the answer to each datagram
#   my $dead = dead_port();   dead_port('udp');
#   my ($got, $eof) = exchange($port, $data, want => 5, timeout => 5);
#       # reads until `want` bytes (default: until EOF) or the timeout; eof: the server closed

use strict;
use warnings;

use IO::Socket::INET ();
use IO::Select ();
use POSIX ();
use Time::HiRes ();
use Exporter 'import';

our @EXPORT = qw(tcp_server udp_server dead_port exchange echo_serve);

my $MainPid = $$;
my @Kids;
END { kill 'KILL', @Kids if $$ == $MainPid && @Kids }

sub tcp_server {
    my ($serve) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 128,
                                  ReuseAddr => 1) or die "listen: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{CHLD} = 'IGNORE';
        while (1) {
            my $c = $l->accept or next;
            my $k = fork;
            if (defined $k && $k == 0) { $serve->($c); POSIX::_exit(0) }
            close $c;
        }
    }
    push @Kids, $pid;
    my $port = $l->sockport;
    close $l;
    return $port;
}

# every read sent back
sub echo_serve {
    my $c = shift;
    while (sysread($c, my $b, 65536)) { syswrite($c, $b) // last }
}

sub udp_server {
    my ($answer) = @_;
    my $u = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1', LocalPort => 0)
        or die "udp: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        while (1) {
            my $from = recv($u, my $d, 65536, 0) // next;
            send($u, $answer->($d), 0, $from);
        }
    }
    push @Kids, $pid;
    my $port = $u->sockport;
    close $u;
    return $port;
}

sub dead_port {
    my ($proto) = @_;
    $proto //= 'tcp';
    my $s = IO::Socket::INET->new(Proto => $proto, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  $proto eq 'udp' ? () : (Listen => 1)) or die "dead_port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub exchange {
    my ($port, $data, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or return ("connect: $!", 1);
    syswrite($s, $data) if defined $data && length $data;
    my $sel = IO::Select->new($s);
    my ($got, $eof) = ('', 0);
    my $end = Time::HiRes::time() + ($o{timeout} // 5);
    while (!defined $o{want} || length($got) < $o{want}) {
        my $left = $end - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $b, 65536);
        if (!$n) { $eof = 1; last }
        $got .= $b;
    }
    close $s;
    return ($got, $eof);
}

1;
