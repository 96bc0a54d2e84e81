# stream {}: more of what a differential run against Debian's nginx (1.22) found, checked on
# both: an I/O error while proxying is said with nginx's action for it ("while proxying and
# reading from upstream", "... reading from client"), a UDP peer's refusal too; the TLS
# variables ($ssl_session_reused, $ssl_alpn_protocol, ...) are not found ("-" in a log) on a
# session without TLS, or when empty (no ALPN); access_log's buffer=, flush=, gzip and if= in
# stream (were refused as not supported), to syslog: and to a path with variables (were taken
# as file names).
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;
use IO::Socket::SSL;
use IO::Select;
use Socket qw(SOL_SOCKET SO_LINGER);

my $certs = Test::Moongate::Certs::make();
# reads what the client sent, then resets the connection (SO_LINGER 0)
my $resetter = tcp_server(sub {
    my $c = shift;
    sysread($c, my $b, 100);
    setsockopt($c, SOL_SOCKET, SO_LINGER, pack('II', 1, 0));
    close $c;
});
my $echo = tcp_server(\&echo_serve);
my $udead = dead_port('udp');
my @p = map { Test::Moongate::find_free_port() } 1 .. 7;
my $syslog = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1', LocalPort => 0)
    or die "syslog: $!";
my $sport = $syslog->sockport;

my $s = Test::MoongateProc->new(name => 'sdio', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/s.log';
my ($blog, $zlog, $ilog) = map { $s->dir . "/logs/$_" } qw(buffered.log gz.log.gz if.log);
# files named by variables are opened by the workers (nobody, when the tests run as root)
my $vdir = $s->dir . '/vlogs';
mkdir $vdir;
chmod 0777, $vdir;
$s->write_conf(stream => <<"EOF");
    log_format t '\$server_port \$status "\$ssl_protocol" "\$ssl_session_reused" "\$ssl_alpn_protocol" "\$ssl_server_name" "\$ssl_client_s_dn"';
    access_log $alog t;
    server { listen 127.0.0.1:$p[0]; proxy_pass 127.0.0.1:$resetter; }
    server { listen 127.0.0.1:$p[1]; proxy_pass 127.0.0.1:$echo; }
    server { listen 127.0.0.1:$p[2] udp; proxy_pass 127.0.0.1:$udead; proxy_timeout 5s; }
    server { listen 127.0.0.1:$p[3] ssl; ssl_certificate $certs/localhost.crt;
             ssl_certificate_key $certs/localhost.key; return "tls\\n"; }
    server { listen 127.0.0.1:$p[4]; return "plain\\n"; }
    log_format b '\$server_port \$protocol';
    map \$server_port \$keep { $p[5] 1; default 0; }
    server { listen 127.0.0.1:$p[5]; access_log $blog b buffer=64k flush=1h; access_log $zlog b gzip;
             access_log $ilog b if=\$keep; access_log $alog t; return "b\\n"; }
    server { listen 127.0.0.1:$p[6]; access_log $ilog b if=\$keep; access_log $alog t;
             access_log syslog:server=127.0.0.1:$sport b; access_log $vdir/v_\$server_port.log b;
             return "c\\n"; }
EOF
$s->start or stop_here('the server did not start');

sub log_lines { -f $alog ? split /\n/, slurp($alog) : () }
sub log_of {
    my $port = shift;
    my $line;
    wait_for(sub { ($line) = grep { /^$port / } log_lines(); defined $line }, 10);
    return $line // '';
}

# ---- I/O errors ----
{
    my $mark = $s->log_mark;
    exchange($p[0], 'x', timeout => 5);
    ok($s->wait_log(qr/\[error\] .*recv\(\) failed \(104: Connection reset by peer\) while proxying and reading from upstream, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[0], upstream: "127\.0\.0\.1:$resetter"/, $mark),
       'error_log: the peer reset, "while proxying and reading from upstream"');

    $mark = $s->log_mark;
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p[1]", Timeout => 5) or die $!;
    syswrite($c, "ping\n");
    my $got = '';
    IO::Select->new($c)->can_read(5) and sysread($c, $got, 100);
    is($got, "ping\n", 'the echo answers');
    setsockopt($c, SOL_SOCKET, SO_LINGER, pack('II', 1, 0));
    close $c;
    ok($s->wait_log(qr/\[info\] .*recv\(\) failed \(104: Connection reset by peer\) while proxying and reading from client, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[1]/, $mark),
       'error_log: the client reset, "while proxying and reading from client"');

    $mark = $s->log_mark;
    my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[2]") or die $!;
    send($u, 'dg', 0);
    ok($s->wait_log(qr/\[error\] .*recv\(\) failed \(111: Connection refused\) while proxying and reading from upstream, udp client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[2], upstream: "127\.0\.0\.1:$udead"/, $mark),
       'error_log: a UDP peer refused, "while proxying and reading from upstream, udp client"');
}

# ---- TLS variables ----
{
    my $c = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$p[3]", SSL_verify_mode => SSL_VERIFY_NONE,
                                 SSL_hostname => 'sn.test', Timeout => 5)
        or die "tls: $SSL_ERROR";
    my $got = '';
    IO::Select->new($c)->can_read(5) and sysread($c, $got, 100);
    close $c;
    is($got, "tls\n", 'a TLS session');
    like(log_of($p[3]), qr/^$p[3] 200 "TLSv1\.[23]" "\." "-" "sn\.test" "-"$/,
         'TLS without ALPN nor a client certificate: $ssl_alpn_protocol, $ssl_client_s_dn not found');
    my ($plain) = exchange($p[4], '');
    is($plain, "plain\n", 'a plain session');
    is(log_of($p[4]), qq{$p[4] 200 "-" "-" "-" "-" "-"}, 'no TLS: the TLS variables are not found');
}

# ---- access_log buffer=, gzip, if= ----
{
    is((exchange($p[5], ''))[0], "b\n", 'a session logged to the buffered, gzip and if= logs');
    is((exchange($p[6], ''))[0], "c\n", 'a session whose if= is "0"');
    log_of($p[5]);
    log_of($p[6]); # both ended: their unbuffered lines are there
    is(-s $blog, 0, 'buffer= with a long flush: nothing written yet');
    is(-s $zlog, 0, 'gzip: buffered too');
    is(slurp($ilog), "$p[5] TCP\n", 'if=: only the session whose condition is not "0"');
    is(slurp("$vdir/v_$p[6].log"), "$p[6] TCP\n", 'a path with variables: the file it names');
    my $dg = '';
    recv($syslog, $dg, 4096, 0) if IO::Select->new($syslog)->can_read(5);
    like($dg, qr/^<190>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ nginx: $p[6] TCP\z/,
         'syslog: the line as a datagram, header, tag nginx');
    $s->stop;
    is(slurp($blog), "$p[5] TCP\n", 'buffer=: written when the server stops');
    my $z = `gzip -dc $zlog 2>&1`;
    is($z, "$p[5] TCP\n", 'gzip: a gzip member that gzip -d reads');
}

done_testing();
