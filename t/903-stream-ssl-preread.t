# stream ssl_preread (issue 20): TLS passthrough routed by the ClientHello's SNI through a map to
# two TLS backends (each proves who it is with its certificate), $ssl_preread_* for hand-made
# ClientHellos (ALPN, TLSv1.3, a message split over records and over TCP segments), and what
# is not a ClientHello: a plain-text client, garbage, a preread that never completes
# (preread_timeout ends the session, as the client's end does), a ClientHello larger than preread_buffer_size. Passes on Debian's nginx.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::MoongateTcp;
use Test::More;
use IO::Socket::SSL;
use Time::HiRes ();

my $certs = Test::Moongate::Certs::make();

# a TLS server with NAME's certificate: says who it is and which name the client asked for,
# then echoes lines
sub tls_backend {
    my ($name) = @_;
    return tcp_server(sub {
        my $c = shift;
        IO::Socket::SSL->start_SSL($c, SSL_server => 1, SSL_cert_file => "$certs/$name.crt",
                                   SSL_key_file => "$certs/$name.key") or return;
        print $c "backend $name sni=" . ($c->get_servername // '-') . "\n";
        while (my $l = <$c>) { print $c $l }
    });
}

# a TLS client through the proxy with SNI $name, verifying the backend's certificate for it
sub tls_client {
    my ($port, $name, $line) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$port", SSL_hostname => $name,
                                 SSL_verify_mode => SSL_VERIFY_PEER,
                                 SSL_ca_file => "$certs/ca.crt", SSL_verifycn_name => $name,
                                 SSL_verifycn_scheme => 'http', Timeout => 5)
        or return "handshake failed: $SSL_ERROR";
    my $got = <$s> // '';
    print $s $line;
    $got .= <$s> // '';
    close $s;
    return $got;
}

my $a = tls_backend('a.test');
my $b = tls_backend('b.test');
my @p = map { Test::Moongate::find_free_port() } 1 .. 5;

my $s = Test::MoongateProc->new(name => 'preread', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/stream.log';
$s->write_conf(stream => <<"EOF");
    log_format sni '\$ssl_preread_server_name|\$ssl_preread_alpn_protocols|\$ssl_preread_protocol '
                   '\$status \$upstream_addr';
    map \$ssl_preread_server_name \$backend {
        a.test 127.0.0.1:$a;
        b.test 127.0.0.1:$b;
        default 127.0.0.1:$p[3];
    }
    server { listen 127.0.0.1:$p[0]; ssl_preread on; proxy_pass \$backend; access_log $alog sni; }
    server { listen 127.0.0.1:$p[1]; ssl_preread on; preread_timeout 3s;
             return "[\$ssl_preread_server_name|\$ssl_preread_alpn_protocols|\$ssl_preread_protocol]\\n"; }
    server { listen 127.0.0.1:$p[2]; ssl_preread on; preread_buffer_size 128;
             return "[\$ssl_preread_server_name]\\n"; }
    server { listen 127.0.0.1:$p[3]; return "default\\n"; }
    server { listen 127.0.0.1:$p[4] proxy_protocol; ssl_preread on;
             return "\$proxy_protocol_addr [\$ssl_preread_server_name]\\n"; }
EOF
$s->start or stop_here('the server did not start');

# passthrough by SNI
{
    is(tls_client($p[0], 'a.test', "one\n"), "backend a.test sni=a.test\none\n",
       'SNI a.test: proxied to the a.test backend, which the client verified');
    is(tls_client($p[0], 'b.test', "two\n"), "backend b.test sni=b.test\ntwo\n",
       'SNI b.test: proxied to the b.test backend');
    my ($got) = exchange($p[0], client_hello(sni => 'c.test'), undef);
    is($got, "default\n", 'an unknown name: the map\'s default');
    ok(wait_for(sub { my @l = -f $alog ? split /\n/, Test::MoongateProc::slurp($alog) : ();
                      @l >= 3 ? \@l : 0 }, 5), 'three sessions logged');
    my @l = split /\n/, Test::MoongateProc::slurp($alog);
    like($l[0], qr/^a\.test\|[^ ]*\|TLSv1\.[23] 200 127\.0\.0\.1:$a$/, 'access_log: the name, the protocol, the peer');
    like($l[2], qr/^c\.test\|\|TLSv1\.2 200 127\.0\.0\.1:$p[3]$/, 'access_log: a hello without ALPN');
}

# hand-made ClientHellos
{
    my ($got) = exchange($p[1], client_hello(sni => 'x.test', alpn => ['h2', 'http/1.1'], tls13 => 1), undef);
    is($got, "[x.test|h2,http/1.1|TLSv1.3]\n", 'SNI, ALPN list, TLSv1.3 from supported_versions');
    my $hello = client_hello(sni => 'split.test', alpn => ['imap'], record => 20);
    my @pieces = map { substr($hello, $_ * 7, 7) } 0 .. int((length($hello) - 1) / 7);
    ($got) = exchange($p[1], \@pieces, undef, timeout => 10, gap => 0.01);
    is($got, "[split.test|imap|TLSv1.2]\n",
       'a ClientHello over several records, sent 7 bytes at a time: read whole');
    ($got) = exchange($p[1], client_hello(alpn => ['x']), undef);
    is($got, "[|x|TLSv1.2]\n", 'no SNI: an empty $ssl_preread_server_name');
}

# the PROXY header, then the ClientHello, in one segment and in two
{
    my $pp = "PROXY TCP4 192.0.2.1 192.0.2.2 1111 443\r\n";
    my $hello = client_hello(sni => 'pp.test');
    my ($got) = exchange($p[4], $pp . $hello, undef);
    is($got, "192.0.2.1 [pp.test]\n", 'listen proxy_protocol: the ClientHello after the header is preread');
    ($got) = exchange($p[4], [$pp . substr($hello, 0, 10), substr($hello, 10)], undef);
    is($got, "192.0.2.1 [pp.test]\n", 'listen proxy_protocol: a ClientHello cut after the header');
}

# not a ClientHello: the variables are empty and the session goes on at once
{
    my $t0 = Time::HiRes::time();
    my ($got) = exchange($p[1], "GET / HTTP/1.0\r\n\r\n", undef);
    is($got, "[||]\n", 'a plain-text client: empty variables');
    # preread_timeout is 3 s there: room for a loaded machine
    ok(Time::HiRes::time() - $t0 < 2.5, 'a plain-text client: no wait for preread_timeout');
    ($got) = exchange($p[1], "\x16\x03\x01\x00\x06\x02\x00\x00\x02\xab\xcd", undef);
    is($got, "[||]\n", 'a handshake record that is no ClientHello: empty variables');
    ($got) = exchange($p[1], "\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00", undef);
    is($got, "[||]\n", 'a ClientHello too short for its fields: empty variables');
    ($got) = exchange($p[1], "\x16\x07\x07\x00\x01\xff", undef);
    is($got, "[||]\n", 'a record of an unknown version: empty variables');
}

# a preread that never completes: preread_timeout ends the phase, the content runs
{
    my $t0 = Time::HiRes::time();
    my $hello = client_hello(sni => 'slow.test');
    my ($got, $eof) = exchange($p[1], substr($hello, 0, 30), undef, timeout => 10);
    my $took = Time::HiRes::time() - $t0;
    ok($got eq '' && $eof, 'preread_timeout: the session ends without an answer');
    ok($took >= 2.8 && $took < 9, 'preread_timeout 3s: waited about that long') or diag("took $took s");
    ($got, $eof) = exchange($p[1], substr($hello, 0, 30), undef, timeout => 10, shut => 1);
    ok($got eq '' && $eof, 'a client that closes halfway through its ClientHello: ended');
}

# a ClientHello larger than preread_buffer_size: 400, logged
{
    my ($got, $eof) = exchange($p[2], client_hello(sni => 'big.test', pad => 300), undef);
    ok($got eq '' && $eof, 'preread buffer full: closed without an answer');
    ok($s->wait_log(qr/\[error\] .*preread buffer full while prereading client data, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[2]$/m),
       'error_log: preread buffer full');
    ($got) = exchange($p[2], client_hello(sni => 'ok.test'), undef);
    is($got, "[ok.test]\n", 'a ClientHello that fits the small buffer');
}

$s->stop;
done_testing();
