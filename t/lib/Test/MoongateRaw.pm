package Test::MoongateRaw;

# Raw bytes to the test server (Test::Moongate's $ServerPort) on a connection of their own,
# read until the server closes it: for what the harness's response parser cannot frame
# (HTTP/0.9 answers, heads cut off, a close that is itself the thing checked).
#
#   use Test::MoongateRaw;
#   my $out = raw_exchange("GET /t\r\n");                      # what came, '' if nothing
#   my ($out, $secs) = until_close("GET /t HTTP/1.1\r\n", 3); # $secs undef: not closed in 3 s
#   my $got = read_until($sock, qr/\r\n\r\n/, 3);          # on a socket of the test's own

use strict;
use warnings;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();
use Exporter 'import';

our @EXPORT = qw(raw_exchange until_close read_until);

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

1;
