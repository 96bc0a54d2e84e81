# stream {} proxy_pass reads a plain peer only when its (edge-triggered) events said so since the
# last short read: the cases where a missed event would hang a session. A peer that speaks first
# and closes at once (its bytes and its FIN in one event), a peer's large answer through a
# 1k buffer (reading stops with the socket still full and goes on when the client took the
# bytes, no new event coming), a client's large upload the same way, and a half-closed client
# whose echo still comes back. Passes on Debian's nginx too.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::More;
use Test::MoongateTcp qw(tcp_server echo_serve exchange);

my $greeting = "hello from the peer\n";
my $big = join '', map { sprintf "%07d\n", $_ } 1 .. 40000; # 320000 bytes
my $hi = tcp_server(sub { syswrite($_[0], $greeting) });
my $talker = tcp_server(sub {
    my $c = shift;
    my $off = 0;
    while ($off < length $big) {
        my $n = syswrite($c, $big, 65536, $off);
        last unless $n;
        $off += $n;
    }
});
my $echo = tcp_server(\&echo_serve);
my @p = map { Test::Moongate::find_free_port() } 1 .. 4;

my $s = Test::MoongateProc->new(name => 'stream-ready', workers => 1);
$s->write_conf(stream => <<"EOF2");
    server { listen 127.0.0.1:$p[0]; proxy_pass 127.0.0.1:$hi; }
    server { listen 127.0.0.1:$p[1]; proxy_pass 127.0.0.1:$talker; proxy_buffer_size 1k; }
    server { listen 127.0.0.1:$p[2]; proxy_pass 127.0.0.1:$echo; proxy_buffer_size 1k; }
    server { listen 127.0.0.1:$p[3]; proxy_pass 127.0.0.1:$echo; proxy_half_close on; }
EOF2
$s->start or BAIL_OUT('the server did not start');

for my $i (1 .. 5) {
    my ($got, $eof) = exchange($p[0], '', undef, timeout => 10);
    is($got, $greeting, "a peer that speaks first and closes: its line ($i)");
    ok($eof, "and the session ends ($i)");
}

{
    my ($got, $eof) = exchange($p[1], '', undef, timeout => 20);
    is(length $got, length $big, 'a 320000-byte answer through a 1k buffer: every byte');
    ok($got eq $big, 'in order');
    ok($eof, 'then the end');
}

{
    my $up = 'u' x 200000;
    my ($got) = exchange($p[2], $up, length $up, timeout => 20);
    is(length $got, length $up, 'a 200000-byte upload through a 1k buffer comes back whole');
}

{
    my ($got, $eof) = exchange($p[3], "half\n", undef, shut => 1, timeout => 10);
    is($got, "half\n", 'proxy_half_close: the echo comes back after the client shut its side');
    ok($eof, 'and the session ends once the peer closes too');
}

$s->stop;
done_testing();
