package Test::MoongatePeers;

# The plain peers of the stream proxy tests where a missed or repeated readiness event would
# hang a session (t/158 with edge-triggered events, t/936 with `use poll`): one that speaks
# first and closes at once, one that sends $Big (320000 bytes) at once, an echo; and the
# checks of the sessions through the proxy's ports to them.
#
#   my ($hi, $talker, $echo) = stream_peers();
#   ... stream { server { listen $p[0]; proxy_pass 127.0.0.1:$hi; } ... } ...
#   peer_checks(\@p, 5);

use strict;
use warnings;
use Test::More;
use Test::MoongateTcp qw(tcp_server echo_serve exchange);
use Exporter 'import';

our @EXPORT = qw(stream_peers peer_checks);

our $Greeting = "hello from the peer\n";
our $Big = join '', map { sprintf "%07d\n", $_ } 1 .. 40000; # 320000 bytes

# the peers' ports: (speaks first and closes, sends $Big, echo)
sub stream_peers {
    my $hi = tcp_server(sub { syswrite($_[0], $Greeting) });
    my $talker = tcp_server(sub {
        my $c = shift;
        my $off = 0;
        while ($off < length $Big) {
            my $n = syswrite($c, $Big, 65536, $off);
            last unless $n;
            $off += $n;
        }
    });
    my $echo = tcp_server(\&echo_serve);
    return ($hi, $talker, $echo);
}

# $p->[0] proxies to the peer that speaks first ($rounds sessions), $p->[1] to the talker and
# $p->[2] to the echo with a 1k proxy_buffer_size, $p->[3] to the echo with proxy_half_close on
sub peer_checks {
    my ($p, $rounds) = @_;
    for my $i (1 .. $rounds) {
        my ($got, $eof) = exchange($p->[0], '', undef, timeout => 10);
        is($got, $Greeting, "a peer that speaks first and closes: its line ($i)");
        ok($eof, "and the session ends ($i)");
    }
    {
        my ($got, $eof) = exchange($p->[1], '', undef, timeout => 20);
        is(length $got, length $Big, 'a 320000-byte answer through a 1k buffer: every byte');
        ok($got eq $Big, 'in order');
        ok($eof, 'then the end');
    }
    {
        my $up = 'u' x 200000;
        my ($got) = exchange($p->[2], $up, length $up, timeout => 20);
        is(length $got, length $up, 'a 200000-byte upload through a 1k buffer comes back whole');
    }
    {
        my ($got, $eof) = exchange($p->[3], "half\n", undef, shut => 1, timeout => 10);
        is($got, "half\n", 'proxy_half_close: the echo comes back after the client shut its side');
        ok($eof, 'and the session ends once the peer closes too');
    }
}

1;
