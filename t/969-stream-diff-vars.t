# stream {}: variables a differential run against Debian's nginx (1.22) found answering
# otherwise, checked on both: $status is "000" while the session runs (its end sets it),
# "set $x a$x" reads the variable's earlier value, and the core variables in a return (TCP,
# UDP, after a PROXY header) read as nginx's.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;
use IO::Select;

my @p = map { Test::Moongate::find_free_port() } 1 .. 4;
my $s = Test::MoongateProc->new(name => 'sdvars', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/s.log';
my $fmt = 'remote_addr=[$remote_addr] server_addr=[$server_addr] protocol=[$protocol] '
        . 'status=[$status] bytes_sent=[$bytes_sent] bytes_received=[$bytes_received] '
        . 'pp=[$proxy_protocol_addr:$proxy_protocol_port] upstream=[$upstream_addr] '
        . 'realip=[$realip_remote_addr]';
$s->write_conf(stream => <<"EOF");
    log_format s '\$server_port \$status';
    access_log $alog s;
    server { listen 127.0.0.1:$p[0]; return "$fmt\\n"; }
    server { listen 127.0.0.1:$p[1] udp; return "$fmt\\n"; }
    server { listen 127.0.0.1:$p[2] proxy_protocol; return "$fmt\\n"; }
    server { listen 127.0.0.1:$p[3]; set \$x "\$remote_addr-\$server_port"; set \$x "a \$x";
             return "\$x\\n"; }
EOF
$s->start or stop_here('the server did not start');

my ($got) = exchange($p[0], '');
is($got, 'remote_addr=[127.0.0.1] server_addr=[127.0.0.1] protocol=[TCP] status=[000] '
       . "bytes_sent=[0] bytes_received=[0] pp=[:] upstream=[] realip=[127.0.0.1]\n",
   'TCP: the core variables while the session runs, $status 000');
{
    my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[1]") or die $!;
    send($u, 'abc', 0);
    $got = '';
    recv($u, $got, 4096, 0) if IO::Select->new($u)->can_read(5);
    is($got, 'remote_addr=[127.0.0.1] server_addr=[127.0.0.1] protocol=[UDP] status=[000] '
           . "bytes_sent=[0] bytes_received=[3] pp=[:] upstream=[] realip=[127.0.0.1]\n",
       'UDP: the same, the datagram received');
}
($got) = exchange($p[2], "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n");
is($got, 'remote_addr=[127.0.0.1] server_addr=[127.0.0.1] protocol=[TCP] status=[000] '
       . "bytes_sent=[0] bytes_received=[0] pp=[192.0.2.1:1234] upstream=[] realip=[127.0.0.1]\n",
   'after a PROXY header: its addresses, nothing received');
($got) = exchange($p[3], '');
is($got, "a 127.0.0.1-$p[3]\n", 'set $x "a $x" reads the earlier value');

# the log has the status the session ended with
my @want = map { "$_ 200" } @p;
wait_for(sub { -f $alog && (() = slurp($alog) =~ /\n/g) >= 4 }, 10);
is_deeply([sort split /\n/, slurp($alog)], [sort @want], 'access_log: $status 200 once ended');

$s->stop;
done_testing();
