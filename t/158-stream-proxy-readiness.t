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
use Test::MoongatePeers;

my ($hi, $talker, $echo) = stream_peers();
my @p = map { Test::Moongate::find_free_port() } 1 .. 4;

my $s = Test::MoongateProc->new(name => 'stream-ready', workers => 1);
$s->write_conf(stream => <<"EOF2");
    server { listen 127.0.0.1:$p[0]; proxy_pass 127.0.0.1:$hi; }
    server { listen 127.0.0.1:$p[1]; proxy_pass 127.0.0.1:$talker; proxy_buffer_size 1k; }
    server { listen 127.0.0.1:$p[2]; proxy_pass 127.0.0.1:$echo; proxy_buffer_size 1k; }
    server { listen 127.0.0.1:$p[3]; proxy_pass 127.0.0.1:$echo; proxy_half_close on; }
EOF2
$s->start or BAIL_OUT('the server did not start');

peer_checks(\@p, 5);

$s->stop;
done_testing();
