package Test::MoongateTcp;

# The stream TLS tests' helpers: Test::MoongateStream's forked servers and dead port, a client
# exchange bounded in time that sends in pieces (with gaps, a shut write side, a pattern to stop
# at), and hand-made TLS ClientHellos for the preread tests.
#
#   my $port = tcp_server(sub { my $sock = shift; ... });
#   my ($got, $eof) = exchange($port, $data, $want_bytes, timeout => 5);

use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes ();
use Exporter 'import';
use Test::MoongateStream qw(tcp_server dead_port echo_serve);

our @EXPORT = qw(tcp_server exchange dead_port client_hello echo_serve);

# connect, send $data (an array ref: pieces sent $o{gap} seconds apart), read until $want
# bytes or EOF or $o{timeout} (5 s) or what was read matches $o{until}, after a shutdown of the write side with $o{shut}; returns what was read and whether the peer closed
sub exchange {
    my ($port, $data, $want, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or return ("connect: $!", 1);
    $s->setsockopt(Socket::IPPROTO_TCP(), Socket::TCP_NODELAY(), 1);
    my @pieces = ref $data ? @$data : ($data);
    for my $i (0 .. $#pieces) {
        Time::HiRes::sleep($o{gap} // 0.05) if $i;
        syswrite($s, $pieces[$i]) if length $pieces[$i];
    }
    shutdown($s, 1) if $o{shut};
    my $sel = IO::Select->new($s);
    my ($got, $eof) = ('', 0);
    my $end = Time::HiRes::time() + ($o{timeout} // 5);
    while ((!defined $want || length($got) < $want) && !($o{until} && $got =~ $o{until})) {
        my $left = $end - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $b, 65536);
        if (!$n) { $eof = 1; last }
        $got .= $b;
    }
    close $s;
    return ($got, $eof);
}

# A TLS ClientHello: sni => name, alpn => [names], tls13 => 1 (supported_versions with a
# GREASE value, TLSv1.3 and TLSv1.2), record => N (the message cut into records of N bytes),
# pad => N (a padding extension of N bytes)
sub client_hello {
    my (%o) = @_;
    my $ext = '';
    $ext .= pack('n n/a*', 0, pack('n/a*', pack('C n/a*', 0, $o{sni}))) if defined $o{sni};
    $ext .= pack('n n/a*', 16, pack('n/a*', join('', map { pack('C/a*', $_) } @{ $o{alpn} })))
        if $o{alpn};
    $ext .= pack('n n/a*', 43, pack('C/a*', pack('n*', 0x0a0a, 0x0304, 0x0303))) if $o{tls13};
    $ext .= pack('n n/a*', 21, "\0" x $o{pad}) if $o{pad};
    my $body = pack('n', 0x0303) . ("\x01" x 32) . pack('C/a*', '')
             . pack('n/a*', pack('n*', 0x1301, 0xc02f)) . pack('C/a*', "\0") . pack('n/a*', $ext);
    my $msg = "\x01" . substr(pack('N', length $body), 1) . $body;
    my $rec = $o{record} // 16384;
    my $out = '';
    for (my $i = 0; $i < length $msg; $i += $rec) {
        my $part = substr($msg, $i, $rec);
        $out .= "\x16\x03\x01" . pack('n', length $part) . $part;
    }
    return $out;
}

1;
