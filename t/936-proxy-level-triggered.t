# Upstream-side sockets with `use poll`: no edge-triggered events, so the stream proxy's peers and
# the HTTP proxy's upstream connections take the level-triggered side of their shared watch
# (core/watch.c: mg_watch_new_et says no). The cases where a lost or repeated report would
# hang or spin: a peer that speaks first and closes, a large answer and a large upload through
# 1k buffers, a half-closed client, a first peer that refuses (next upstream); over HTTP,
# requests on one kept-alive upstream connection (the backend's $connection stays the same)
# and a large answer through 1k proxy buffers. Moongate only: Debian's nginx has no poll module
# (its Linux build is epoll only), so it says invalid event type "poll".
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::More;
use Test::MoongateTcp qw(exchange dead_port);
use Test::MoongatePeers;

plan skip_all => 'use poll: moongate only (Debian\'s nginx is built with epoll alone)' if is_nginx();

my ($hi, $talker, $echo) = stream_peers();
my $big = $Test::MoongatePeers::Big;
my $dead = dead_port();
my @p = map { Test::Moongate::find_free_port() } 1 .. 6;

my $s = Test::MoongateProc->new(name => 'poll-proxy', workers => 1);
Test::MoongateProc::spew($s->html . '/big.txt', $big);
my $html = $s->html;
$s->write_conf(
    events => '    use poll;',
    stream => <<"EOF2",
    upstream refused_first { server 127.0.0.1:$dead; server 127.0.0.1:$echo; }
    server { listen 127.0.0.1:$p[0]; proxy_pass 127.0.0.1:$hi; }
    server { listen 127.0.0.1:$p[1]; proxy_pass 127.0.0.1:$talker; proxy_buffer_size 1k; }
    server { listen 127.0.0.1:$p[2]; proxy_pass 127.0.0.1:$echo; proxy_buffer_size 1k; }
    server { listen 127.0.0.1:$p[3]; proxy_pass 127.0.0.1:$echo; proxy_half_close on; }
    server { listen 127.0.0.1:$p[4]; proxy_pass refused_first; }
EOF2
    http => <<"EOF2",
    upstream back { server 127.0.0.1:$p[5]; keepalive 4; }
    server {
        listen 127.0.0.1:$p[5];
        root $html;
        location = /small { add_header X-Conn \$connection; return 200 "small\\n"; }
    }
EOF2
    server => <<"EOF2",
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffer_size 1k;
        proxy_buffers 4 1k;
        location / { proxy_pass http://back; }
EOF2
);
$s->start or BAIL_OUT('the server did not start');

peer_checks(\@p, 3);

{
    my ($got) = exchange($p[4], "again\n", 6, timeout => 10);
    is($got, "again\n", 'the first peer refuses: the next one answers');
}

my %conn;
for my $i (1 .. 4) {
    my $r = Test::MoongateProc::http_get($s->port, '/small', timeout => 10);
    is($r->{status}, 200, "proxied over a kept-alive upstream connection ($i)");
    is($r->{body}, "small\n", "its body ($i)");
    $conn{$r->{headers}{'x-conn'} // 'none'}++;
}
is(scalar keys %conn, 1, 'the four requests went over one upstream connection');

{
    my $r = Test::MoongateProc::http_get($s->port, '/big.txt', timeout => 20);
    is($r->{status}, 200, 'a 320000-byte answer through 1k proxy buffers');
    ok(defined $r->{body} && $r->{body} eq $big, 'every byte, in order');
}

$s->stop;
done_testing();
