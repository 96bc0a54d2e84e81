# stream {}: active health checks (nginx Plus's ngx_stream_upstream_hc_module; open-source
# nginx has none, so this file runs on moongate only): TCP connect checks, match blocks with
# send/expect, UDP checks; an unhealthy peer gets no session.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;
use IO::Select;

plan skip_all => 'health_check in stream is nginx Plus\'s (moongate only)' if is_nginx();

sub ask {
    my ($port, $data) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or return '';
    syswrite($s, $data);
    my $got = '';
    IO::Select->new($s)->can_read(5) and sysread($s, $got, 100);
    return $got;
}

# a TCP server answering each read with $reply
sub replier {
    my $reply = shift;
    return tcp_server(sub { while (sysread($_[0], my $b, 65536)) { syswrite($_[0], $reply) // last } });
}

my $good = replier("PONG\n");
my $bad = replier("NOPE\n");
my $dead = dead_port();
my $uecho = udp_server(sub { "echo:$_[0]" });
my $udead = dead_port('udp');
my @p = map { Test::Moongate::find_free_port() } 1 .. 4;
my $s = Test::MoongateProc->new(name => 'hc', workers => 2, error_level => 'info');
$s->write_conf(stream => <<"EOF");
    upstream conn { zone hc 256k; server 127.0.0.1:$dead; server 127.0.0.1:$good; }
    upstream proto { zone hc; server 127.0.0.1:$bad; server 127.0.0.1:$good; }
    upstream dgram { zone hc; server 127.0.0.1:$udead; server 127.0.0.1:$uecho; }
    match pong { send "PING\\x0a"; expect "PONG"; }
    match pong_re { send "x"; expect ~ "^echo:x\$"; }
    server { listen 127.0.0.1:$p[0]; proxy_pass conn; health_check interval=200ms; }
    server { listen 127.0.0.1:$p[1]; proxy_pass proto; health_check interval=200ms match=pong;
             health_check_timeout 2s; }
    server { listen 127.0.0.1:$p[2] udp; proxy_pass dgram; proxy_responses 1; proxy_timeout 2s;
             health_check udp interval=200ms match=pong_re; }
EOF
$s->start or stop_here('the server did not start');

ok($s->wait_log(qr/\[warn\] .*peer is unhealthy while connecting to upstream, health check "" of peer 127\.0\.0\.1:$dead in upstream "conn"/),
   'TCP check: a refused peer is found unhealthy');
ok($s->wait_log(qr/\[warn\] .*peer is unhealthy while checking response, health check "pong" of peer 127\.0\.0\.1:$bad in upstream "proto"/),
   'match send/expect: a peer answering something else is unhealthy');
ok($s->wait_log(qr/\[warn\] .*peer is unhealthy while .*health check "pong_re" of peer 127\.0\.0\.1:$udead in upstream "dgram"/),
   'UDP check: a port nothing listens on is unhealthy');

my $mark = $s->log_mark;
my %tcp = map { ask($p[0], "PING\n") => 1 } 1 .. 10;
is_deeply(\%tcp, { "PONG\n" => 1 }, 'sessions go to the healthy peer only');
my %proto = map { ask($p[1], "PING\n") => 1 } 1 .. 10;
is_deeply(\%proto, { "PONG\n" => 1 }, 'match: sessions go to the peer that passes');
my %udp;
for (1 .. 6) {
    my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[2]") or die $!;
    send($u, "q$_", 0);
    my $d = '';
    recv($u, $d, 100, 0) if IO::Select->new($u)->can_read(3);
    $udp{$d =~ /^echo:q\d$/ ? 'echo' : "other:$d"}++;
}
is_deeply(\%udp, { echo => 6 }, 'udp: datagrams go to the healthy peer only');
my @connect_errors = grep { /connect\(\) failed .*upstream: "127\.0\.0\.1:$dead"/ } split /\n/, $s->log_since($mark);
is(scalar(@connect_errors), 0, 'no session tried the unhealthy peer');

# a peer that comes back is healthy again
{
    my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$dead", Listen => 8, ReuseAddr => 1);
    SKIP: {
        skip "port $dead was taken meanwhile", 1 unless $l;
        ok($s->wait_log(qr/\[notice\] .*peer is healthy, health check "" of peer 127\.0\.0\.1:$dead in upstream "conn"/, $mark),
           'a peer listening again is healthy again');
    }
}

# health_check needs the group in a zone
{
    $s->write_conf(stream => <<"EOF");
    upstream nozone { server 127.0.0.1:$good; }
    server { listen 127.0.0.1:$p[3]; proxy_pass nozone; health_check; }
EOF
    my ($code, $out, $err) = $s->cmd('-t');
    isnt($code, 0, 'health_check without a zone: -t fails');
    like($err, qr/\[emerg\] .*"health_check" requires upstream "nozone" to be in shared memory/,
         'health_check without a zone: the message');
}

$s->stop;
done_testing();
