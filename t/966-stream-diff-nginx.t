# stream {}: what a differential run against Debian's nginx (1.22, libnginx-mod-stream) found
# moongate answering otherwise, each checked here on both: the PROXY line sent upstream
# carries the connection's addresses (the client's as set_real_ip_from left it), not those of
# a PROXY header received; $bytes_received counts no PROXY header; $ssl_preread_* are not
# found ("-" in a log) where ssl_preread did not run or what came is no ClientHello; a UDP
# session's first datagram counts in $bytes_received whatever handles it (return too); an
# error of a UDP session names the "udp client"; a name in proxy_pass with no resolver is 500.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;
use IO::Select;

# the first line received (the PROXY line) sent back, then the rest until "END"
my $liner = tcp_server(sub {
    my $c = shift;
    my $got = '';
    while (sysread($c, my $b, 4096)) { $got .= $b; last if $got =~ /END/ }
    my ($line) = $got =~ /^([^\n]*\n)/;
    syswrite($c, $line // "none\n");
});
my $echo = tcp_server(\&echo_serve);
my $udead = dead_port('udp');
my @p = map { Test::Moongate::find_free_port() } 1 .. 8;

my $s = Test::MoongateProc->new(name => 'sdiff', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/s.log';
$s->write_conf(stream => <<"EOF");
    log_format d '\$server_port \$protocol \$status \$bytes_received '
                 '"\$ssl_preread_server_name" "\$ssl_preread_protocol" "\$ssl_preread_alpn_protocols"';
    access_log $alog d;
    server { listen 127.0.0.1:$p[0] proxy_protocol; proxy_pass 127.0.0.1:$liner; proxy_protocol on; }
    server { listen 127.0.0.1:$p[1] proxy_protocol; set_real_ip_from 127.0.0.1;
             proxy_pass 127.0.0.1:$liner; proxy_protocol on; }
    server { listen 127.0.0.1:$p[2]; proxy_pass 127.0.0.1:$echo; }
    server { listen 127.0.0.1:$p[3]; ssl_preread on; proxy_pass 127.0.0.1:$echo; }
    server { listen 127.0.0.1:$p[4] udp; return "udp\\n"; }
    server { listen 127.0.0.1:$p[5] udp; proxy_pass 127.0.0.1:$udead; proxy_timeout 5s; }
    server { listen 127.0.0.1:$p[6]; set \$h "nothere.test:80"; proxy_pass \$h; }
EOF
$s->start or stop_here('the server did not start');

sub log_lines { my $f = shift; -f $f ? split /\n/, slurp($f) : () }
sub last_log {
    my $n = shift;
    wait_for(sub { scalar(log_lines($alog)) >= $n }, 10);
    return (log_lines($alog))[$n - 1] // '';
}
my $n = 0;

# ---- PROXY protocol in, then out ----
{
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p[0]", Timeout => 5) or die $!;
    my $cport = $c->sockport;
    syswrite($c, "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\ndataEND");
    my ($got) = ('');
    my $sel = IO::Select->new($c);
    while ($got !~ /\n/ && $sel->can_read(5)) { sysread($c, my $b, 4096) or last; $got .= $b }
    close $c;
    is($got, "PROXY TCP4 127.0.0.1 127.0.0.1 $cport $p[0]\r\n",
       'listen proxy_protocol + proxy_protocol on: the PROXY line names the connection');
    is(last_log(++$n), qq{$p[0] TCP 200 7 "-" "-" "-"},
       '$bytes_received: the data, not the PROXY header');

    ($got) = exchange($p[1], "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\ndataEND", want => 1);
    like($got, qr/^PROXY TCP4 192\.0\.2\.1 127\.0\.0\.1 1234 $p[1]\r\n\z/,
         'with set_real_ip_from: the client of the header, our own address as the destination');
    last_log(++$n);
}

# ---- $ssl_preread_* ----
{
    my ($got) = exchange($p[2], "hello\n", want => 6);
    is($got, "hello\n", 'proxy without ssl_preread');
    is(last_log(++$n), qq{$p[2] TCP 200 6 "-" "-" "-"},
       '$ssl_preread_*: not found where ssl_preread is off');
    ($got) = exchange($p[3], "hello\n", want => 6);
    is($got, "hello\n", 'ssl_preread on, plain bytes: proxied as they are');
    like(last_log(++$n), qr/^$p[3] TCP 200 \d+ "-" "-" "-"$/,
         '$ssl_preread_*: not found when what came is no TLS handshake');
}

# ---- UDP ----
sub udp_ask {
    my ($port, $data, $wait) = @_;
    my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$port") or die $!;
    send($u, $data, 0);
    my $got = '';
    recv($u, $got, 100, 0) if IO::Select->new($u)->can_read($wait // 5);
    return $got;
}
{
    is(udp_ask($p[4], 'dg'), "udp\n", 'UDP return answers');
    is(last_log(++$n), qq{$p[4] UDP 200 2 "-" "-" "-"},
       'UDP return: the datagram counts in $bytes_received');
    my $mark = $s->log_mark;
    udp_ask($p[5], "dg", 1);
    ok($s->wait_log(qr/\[error\] .*recv\(\) failed \(111: Connection refused\) while .*, udp client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[5], upstream: "127\.0\.0\.1:$udead"/, $mark),
       'error_log: a UDP session\'s error names the "udp client"');
    last_log(++$n);
}

# ---- a name in proxy_pass without a resolver ----
{
    my $mark = $s->log_mark;
    my ($got, $eof) = exchange($p[6], 'x');
    ok($eof && $got eq '', 'no resolver: the connection is closed');
    is(last_log(++$n), qq{$p[6] TCP 500 0 "-" "-" "-"}, 'no resolver: status 500');
    ok($s->wait_log(qr/\[error\] .*no resolver defined to resolve nothere\.test, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[6]/, $mark),
       'error_log: no resolver defined to resolve NAME');
}

$s->stop;
done_testing();
