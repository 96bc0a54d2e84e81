# stream {}: "zone" in a stream upstream{} block: the peers' run-time state is shared by the
# workers (modules/upstream_zone.c, as http's), so max_conns counts the sessions of every
# worker. Passes on Debian's nginx too.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();

# a TCP server that says "$name\n" to each connection, then echoes
sub named_server {
    my $name = shift;
    return tcp_server(sub { syswrite($_[0], "$name\n"); echo_serve($_[0]) });
}

# open a session, return (socket, the peer's name line)
sub session {
    my $port = shift;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or return;
    my $sel = IO::Select->new($s);
    my $got = '';
    my $end = Time::HiRes::time() + 5;
    while ($got !~ /\n/ && (my $left = $end - Time::HiRes::time()) > 0) {
        last unless $sel->can_read($left);
        sysread($s, my $b, 100) or last;
        $got .= $b;
    }
    return ($s, $got);
}

my $a = named_server('a');
my $b = named_server('b');
my @p = map { Test::Moongate::find_free_port() } 1 .. 2;
my $s = Test::MoongateProc->new(name => 'zone', workers => 4, events => 'accept_mutex off;');
$s->write_conf(stream => <<"EOF");
    upstream shared {
        zone shared 64k;
        server 127.0.0.1:$a max_conns=1;
        server 127.0.0.1:$b backup;
    }
    server { listen 127.0.0.1:$p[0]; proxy_pass shared; }
EOF
$s->start or stop_here('the server did not start');

my ($held, $first) = session($p[0]);
is($first, "a\n", 'the first session goes to the primary');
# every later session, whichever of the 4 workers takes it, sees the primary full
my %seen;
for (1 .. 20) {
    my ($c, $name) = session($p[0]);
    $seen{$name // 'none'}++;
    close $c if $c;
}
is_deeply(\%seen, { "b\n" => 20 },
          'zone: max_conns=1 counts the held session in every worker: all later ones go to the backup');
close $held;

# once the held session ends, the primary is free again (its end reaches the zone soon after
# the close: ask until then)
ok(wait_for(sub { my ($c, $name) = session($p[0]); close $c if $c; ($name // '') eq "a\n" }, 10),
   'zone: the primary is taken again once its session ended');

# a zone named without a size nowhere else is nginx's error
{
    $s->write_conf(stream => <<"EOF");
    upstream nosize { zone nosize; server 127.0.0.1:$a; }
    server { listen 127.0.0.1:$p[1]; proxy_pass nosize; }
EOF
    my ($code, $out, $err) = $s->cmd('-t');
    isnt($code, 0, 'zone without a size: -t fails');
    like($err, qr/\[emerg\] .*zero size shared memory zone "nosize"/, 'zone without a size: nginx\'s message');
}

$s->stop;
done_testing();
