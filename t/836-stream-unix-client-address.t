# stream {}: a unix-domain client's address variables read as nginx's: $remote_addr "unix:",
# $binary_remote_addr the same text (it was empty: limit_conn keyed on it skipped unix
# clients, nginx counts them together), $remote_port empty; a TCP client's for comparison.
#
#   prove -I t/lib t/836-stream-unix-client-address.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/836-stream-unix-client-address.t
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::More;
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;

my $port = Test::Moongate::find_free_port();
my $s = Test::MoongateProc->new(name => 'sunix', workers => 1);
my $sock = $s->dir . '/s836.sock';
my $fmt = '[$binary_remote_addr] [$remote_addr] [$remote_port]';
$s->write_conf(stream => <<"EOF2");
    server { listen unix:$sock; return "$fmt\\n"; }
    server { listen 127.0.0.1:$port; return "$fmt\\n"; }
EOF2
$s->start or stop_here('the server did not start');

sub answer {
    my $c = shift or return "connect: $!";
    my ($got, $sel) = ('', IO::Select->new($c));
    while ($got !~ /\n/ && $sel->can_read(5)) {
        last unless sysread($c, $got, 4096, length $got);
    }
    return $got;
}

is(answer(IO::Socket::UNIX->new(Peer => $sock, Type => SOCK_STREAM)),
   "[unix:] [unix:] []\n", 'a unix client: "unix:" for both addresses, no port');
my $got = answer(IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5));
like($got, qr/^\[\x7f\0\0\x01\] \[127\.0\.0\.1\] \[\d+\]\n\z/, 'a TCP client: 4 bytes, text, port');

$s->stop;
done_testing();
