# stream {} over UDP (issue 20): "listen ... udp" with a UDP echo started by the test behind
# proxy_pass; proxy_responses ends a session once the peer answered each datagram, without it
# the session takes the client's datagrams until proxy_timeout; proxy_requests; the access log's
# $protocol and counters. Passes on Debian's nginx too.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use POSIX ();

my @Kids;
END { kill 'KILL', @Kids if @Kids }

# a UDP echo: "echo:" before each datagram it got
my $uecho = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
        or die "udp: $!";
    my $pid = fork // die;
    if ($pid == 0) {
        while (my $peer = $s->recv(my $b, 65535)) { $s->send("echo:$b", 0, $peer) }
        POSIX::_exit(0);
    }
    push @Kids, $pid;
    $s->sockport;
};

# send the datagrams from one client socket, collect the answers until none comes for $quiet s
sub udp_exchange {
    my ($port, $quiet, @msgs) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'udp') or die;
    my @got;
    my $sel = IO::Select->new($s);
    for my $m (@msgs) {
        $s->send($m);
        # one at a time: the echo's answers come back in order
        if ($sel->can_read(3)) { $s->recv(my $b, 65535); push @got, $b }
    }
    while ($sel->can_read($quiet)) { $s->recv(my $b, 65535); push @got, $b }
    return \@got;
}

sub log_lines { my $f = shift; -f $f ? split /\n/, Test::MoongateProc::slurp($f) : () }

my @p = map { Test::Moongate::find_free_port() } 1 .. 3;
my $s = Test::MoongateProc->new(name => 'udp', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/stream.log';
$s->write_conf(stream => <<"EOF");
    log_format basic '\$protocol \$status \$bytes_sent \$bytes_received \$upstream_addr '
                     '\$upstream_bytes_sent \$upstream_bytes_received';
    access_log $alog basic;
    server { listen 127.0.0.1:$p[0] udp; proxy_pass 127.0.0.1:$uecho; proxy_responses 1; }
    server { listen 127.0.0.1:$p[1] udp; proxy_pass 127.0.0.1:$uecho; proxy_timeout 1s; }
    server { listen 127.0.0.1:$p[2] udp; proxy_pass 127.0.0.1:$uecho; proxy_responses 1;
             proxy_requests 1; }
EOF
$s->start or stop_here('the server did not start');

is_deeply(udp_exchange($p[0], 0.2, 'hello'), ['echo:hello'], 'udp: a datagram and its answer');
ok(wait_for(sub { scalar(log_lines($alog)) >= 1 }, 5), 'proxy_responses 1: the session ended');
is((log_lines($alog))[-1], "UDP 200 10 5 127.0.0.1:$uecho 5 10",
   'access_log: $protocol UDP, the byte counts');

is_deeply(udp_exchange($p[1], 0.2, 'a', 'bb', 'ccc'), ['echo:a', 'echo:bb', 'echo:ccc'],
          'udp: three datagrams from one client, three answers');
ok(wait_for(sub { scalar(log_lines($alog)) >= 2 }, 5), 'without proxy_responses: proxy_timeout ends it');
is((log_lines($alog))[-1], "UDP 200 21 6 127.0.0.1:$uecho 6 21",
   'access_log: one session took the three datagrams');

is_deeply(udp_exchange($p[2], 0.2, 'x', 'y'), ['echo:x', 'echo:y'],
          'proxy_requests 1: each datagram is answered');
ok(wait_for(sub { scalar(log_lines($alog)) >= 4 }, 5), 'proxy_requests 1: a session per datagram');
is_deeply([(log_lines($alog))[-2, -1]],
          ["UDP 200 6 1 127.0.0.1:$uecho 1 6", "UDP 200 6 1 127.0.0.1:$uecho 1 6"],
          'access_log: two sessions of one datagram each');

$s->stop;
done_testing();
