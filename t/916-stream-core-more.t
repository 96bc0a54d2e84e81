# stream {}: ssl_certificate/_key with variables (loaded per handshake, as nginx >= 1.15.9),
# many UDP sessions alive at once from distinct source ports (each datagram back to its own
# client), a PROXY header split in pieces and garbage after a first piece; http's
# $ssl_alpn_protocol. On moongate only (Debian's nginx 1.22 has them not, or answers
# otherwise): ssl_reject_handshake in stream (nginx >= 1.25.5), a PROXY header that arrives in
# pieces (nginx 1.22 refuses what a first read does not complete; moongate waits for the rest
# within proxy_protocol_timeout), and what pass (nginx >= 1.25.5) leaves in the stream's
# access_log: nothing for a connection passed, a line for a pass that failed.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;
use IO::Socket::SSL;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();

my $c = Test::Moongate::Certs::make();

# a TLS client: (the certificate's CN, what the server sent until it closed), or ("ERR ...")
sub tls {
    my ($port, %o) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$port", SSL_verify_mode => SSL_VERIFY_NONE,
                                 SSL_hostname => $o{sni} // 'localhost', Timeout => 5,
                                 map { $_ => $o{$_} } grep { /^SSL_/ } keys %o)
        or return ("ERR $SSL_ERROR");
    my $cn = $s->peer_certificate('cn') // '';
    syswrite($s, $o{send}) if defined $o{send};
    my $sel = IO::Select->new($s);
    my $got = '';
    my $end = Time::HiRes::time() + 5;
    while (1) {
        last unless $s->pending || $sel->can_read($end - Time::HiRes::time());
        my $n = sysread($s, my $b, 65536);
        last unless $n;
        $got .= $b;
    }
    close $s;
    return ($cn, $got);
}

my $mg = !is_nginx();
my $uecho = udp_server(sub { "re:$_[0]" });
my @p = map { Test::Moongate::find_free_port() } 1 .. 8;
my $s = Test::MoongateProc->new(name => 'more', workers => 1, error_level => 'info');
my $hp = $s->port;
my $hs = Test::Moongate::find_free_port();
my $alog = $s->dir . '/logs/stream.log';
my $only = $mg ? <<"EOF" : '';
    server { listen 127.0.0.1:$p[1] ssl; ssl_reject_handshake on; return "never\\n"; }
    server { listen 127.0.0.1:$p[4]; pass 127.0.0.1:$hp; }
    server { listen 127.0.0.1:$p[5]; pass 127.0.0.1:1; }
    server { listen 127.0.0.1:$p[6]; pass \$server_addr; }
EOF
$s->write_conf(
    http => <<"EOF",
    server { listen 127.0.0.1:$hs ssl; ssl_certificate $c/localhost.crt;
             ssl_certificate_key $c/localhost.key;
             location / { return 200 "[\$ssl_alpn_protocol]\\n"; } }
EOF
    stream => <<"EOF");
    log_format p '\$server_port \$status \$bytes_received';
    access_log $alog p;
    server { listen 127.0.0.1:$p[0] ssl;
             ssl_certificate $c/\${ssl_server_name}.pem;
             ssl_certificate_key $c/\${ssl_server_name}.pem;
             return "name=\$ssl_server_name \$ssl_protocol\\n"; }
    server { listen 127.0.0.1:$p[2] proxy_protocol; proxy_protocol_timeout 10s;
             return "ok \$proxy_protocol_addr:\$proxy_protocol_port\\n"; }
    server { listen 127.0.0.1:$p[3] udp; proxy_pass 127.0.0.1:$uecho; proxy_timeout 30s; }
$only
EOF
$s->start or stop_here('the server did not start');
my @w0 = $s->worker_pids;

# ---- ssl_certificate with variables ----
{
    my ($cn, $got) = tls($p[0], sni => 'a.test');
    is($cn, 'a.test', 'certificate with variables: SNI a.test gets a.test\'s certificate');
    like($got, qr/^name=a\.test TLSv1\.[23]\n\z/, 'certificate with variables: the session runs');
    ($cn, $got) = tls($p[0], sni => 'b.test');
    is($cn, 'b.test', 'certificate with variables: SNI b.test gets b.test\'s, in the same server');
    my $mark = $s->log_mark;
    ($cn) = tls($p[0], sni => 'nothere.test');
    like($cn, qr/^ERR /, 'certificate with variables: no such file, the handshake fails');
    ok($s->wait_log(qr/\[error\] .*cannot load certificate "[^"]*nothere\.test\.pem": BIO_new_file\(\) failed/, $mark),
       'error_log: the certificate that could not be loaded, as nginx says it');
    ($cn, $got) = tls($p[0], sni => 'a.test');
    is($cn, 'a.test', 'certificate with variables: the next handshake is served');
}

# ---- http's $ssl_alpn_protocol ----
{
    my (undef, $got) = tls($hs, SSL_alpn_protocols => ['http/1.1'],
                           send => "GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    like($got, qr/\r\n\r\n\[http\/1\.1\]\n\z/, 'http: $ssl_alpn_protocol');
    (undef, $got) = tls($hs, send => "GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    like($got, qr/\r\n\r\n\[\]\n\z/, 'http: $ssl_alpn_protocol empty without ALPN');
}

# ---- ssl_reject_handshake in stream ----
SKIP: {
    skip 'ssl_reject_handshake in stream: nginx >= 1.25.5', 3 unless $mg;
    my $mark = $s->log_mark;
    my ($err) = tls($p[1], sni => 'a.test');
    like($err, qr/^ERR .*unrecognized name/i, 'ssl_reject_handshake: refused with unrecognized_name');
    ($err) = tls($p[1], sni => '');
    like($err, qr/^ERR /, 'ssl_reject_handshake: refused without SNI too');
    ok($s->wait_log(qr/\[info\] .*handshake rejected while SSL handshaking, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[1]/, $mark),
       'error_log: handshake rejected');
}

# ---- a PROXY header in pieces ----
sub pieces {
    my ($port, @parts) = @_;
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or die $!;
    for my $i (0 .. $#parts) {
        Time::HiRes::sleep(0.3) if $i; # each piece its own read
        syswrite($c, $parts[$i]);
    }
    my $sel = IO::Select->new($c);
    my $got = '';
    my $end = Time::HiRes::time() + 5;
    while ($sel->can_read($end - Time::HiRes::time())) {
        my $n = sysread($c, my $b, 4096);
        last unless $n;
        $got .= $b;
    }
    return $got;
}
{
    my $mark = $s->log_mark;
    is(pieces($p[2], "PROX", "Y garbage\r\n"), '', 'PROXY: garbage after a first piece: closed');
    ok($s->wait_log(qr/\[error\] .*broken header: "PROX/, $mark), 'error_log: broken header');
}
SKIP: {
    skip 'a PROXY header in pieces: nginx 1.22 refuses what its first read does not complete', 4
        unless $mg;
    my $v1 = "PROXY TCP4 192.0.2.7 10.0.0.1 1234 80\r\n";
    is(pieces($p[2], substr($v1, 0, 3), substr($v1, 3, 12), substr($v1, 15)),
       "ok 192.0.2.7:1234\n", 'PROXY v1 in three pieces: read whole');
    my $v2 = "\r\n\r\n\0\r\nQUIT\n" . pack('CCn', 0x21, 0x11, 12) . pack('C4C4nn', 192, 0, 2, 5, 10, 0, 0, 1, 4321, 80);
    is(pieces($p[2], substr($v2, 0, 7), substr($v2, 7, 8), substr($v2, 15)),
       "ok 192.0.2.5:4321\n", 'PROXY v2 in three pieces (one inside the signature): read whole');
    # the first bytes of the signature, then a wrong one
    my $mark = $s->log_mark;
    is(pieces($p[2], "\r\n\r\n", "\0\r\nQUIX\n" . ("\0" x 8)), '', 'PROXY v2: a wrong signature in the second piece: closed');
    ok($s->wait_log(qr/\[error\] .*broken header: /, $mark), 'error_log: broken header');
}

# ---- many UDP sessions alive at once ----
# 200 sockets, a session each (no proxy_responses: they stay until proxy_timeout); every
# datagram goes back to the socket that sent it, the first round and the second
{
    my $n = 200;
    my @socks = map {
        IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[3]") or die "udp: $!"
    } 1 .. $n;
    my $sel = IO::Select->new(@socks);
    my %idx = map { (fileno($socks[$_]) => $_) } 0 .. $#socks;
    for my $round ('a', 'b') {
        # in waves of 50, so that the listening socket's buffer holds each wave
        my %got;
        for (my $w = 0; $w < $n; $w += 50) {
            send($socks[$_], "$round$_", 0) for $w .. $w + 49;
            my $end = Time::HiRes::time() + 10;
            while (keys %got < $w + 50 && (my $left = $end - Time::HiRes::time()) > 0) {
                for my $u ($sel->can_read($left)) {
                    recv($u, my $d, 100, 0);
                    $got{$idx{fileno $u}} = $d;
                }
            }
        }
        my $right = grep { ($got{$_} // '') eq "re:$round$_" } 0 .. $n - 1;
        is($right, $n, "udp, $n live sessions, round $round: each answer came to its own client");
    }
    close $_ for @socks;
}

# ---- pass and the access log ----
SKIP: {
    skip 'pass: nginx >= 1.25.5', 4 unless $mg;
    my ($got) = exchange($p[4], "GET / HTTP/1.0\r\n\r\n");
    like($got, qr/^HTTP\/1\.1 200 /, 'pass: http answers the passed connection');
    my $mark = $s->log_mark;
    exchange($p[5], 'x');
    exchange($p[6], 'y');
    ok($s->wait_log(qr/\[error\] .*no port in pass "127\.0\.0\.1" while passing connection to port/, $mark),
       'error_log: pass to an address without a port, nginx\'s words');
    my @lines;
    wait_for(sub { @lines = grep { /^($p[4]|$p[5]|$p[6]) / } split /\n/, slurp($alog); @lines >= 2 }, 5);
    Time::HiRes::sleep(0.2);
    @lines = grep { /^($p[4]|$p[5]|$p[6]) / } split /\n/, slurp($alog);
    is_deeply([sort @lines], [sort "$p[5] 200 0", "$p[6] 500 0"],
              'access_log: a failed pass logged with nginx\'s status (port not found 200, else 500)');
    ok(!grep({ /^$p[4] / } @lines), 'access_log: no line for the passed connection');
}

is_deeply([$s->worker_pids], \@w0, 'the same worker served it all (none died)');
my $crit = grep { /\[(alert|crit|emerg)\]/ } split /\n/, slurp($s->error_log);
is($crit, 0, 'no alert, crit or emerg line in the error log');

$s->stop;
done_testing();
