# stream proxy_ssl (issue 20): a plain TCP client proxied over TLS to TLS backends started by the
# test (IO::Socket::SSL servers that report the name the proxy sent, its client certificate,
# the protocol, the cipher and whether the session was resumed, then echo): SNI with
# proxy_ssl_server_name/proxy_ssl_name, proxy_ssl_verify (a trusted certificate, a wrong name,
# an unknown CA), a client certificate, proxy_ssl_protocols/_ciphers, session reuse on and
# off, a backend that does not speak TLS, and next_upstream past a failed handshake.
# Passes on Debian's nginx.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::MoongateTcp;
use Test::More;
use IO::Socket::SSL;
use Net::SSLeay ();

my $c = Test::Moongate::Certs::make();

# a TLS backend with NAME's certificate (a client certificate asked for, and checked against
# the CA, with want_cert); its context is made before the fork so that every connection's
# child shares its ticket keys, and a session may resume
sub tls_backend {
    my ($name, %o) = @_;
    my $ctx = IO::Socket::SSL::SSL_Context->new(
        SSL_server => 1, SSL_cert_file => "$c/$name.crt", SSL_key_file => "$c/$name.key",
        $o{want_cert} ? (SSL_verify_mode => SSL_VERIFY_PEER, SSL_ca_file => "$c/ca.crt") : ())
        or die "context: $SSL_ERROR";
    return tcp_server(sub {
        my $s = shift;
        IO::Socket::SSL->start_SSL($s, SSL_server => 1, SSL_reuse_ctx => $ctx) or return;
        my $cn = $s->peer_certificate('cn') // '-';
        printf $s "sni=%s cn=%s proto=%s cipher=%s reused=%d\n", $s->get_servername // '-',
            $cn, $s->get_sslversion, $s->get_cipher,
            Net::SSLeay::session_reused($s->_get_ssl_object);
        while (my $l = <$s>) { print $s $l }
    });
}

my $a = tls_backend('a.test');
# a backend each for the verify checks: nginx resumes a peer's session from a server{} with
# other proxy_ssl_* settings, and with it that connection's verify result
my @v = map { tls_backend('a.test') } 1 .. 3;
my $mtls = tls_backend('localhost', want_cert => 1);
my $plain = tcp_server(\&echo_serve);
my $dead = dead_port();
my @p = map { Test::Moongate::find_free_port() } 1 .. 10;

my $s = Test::MoongateProc->new(name => 'proxyssl', workers => 1, error_level => 'info');
$s->write_conf(stream => <<"EOF");
    upstream failover { server 127.0.0.1:$plain; server 127.0.0.1:$a; }
    server { listen 127.0.0.1:$p[0]; proxy_ssl on; proxy_pass 127.0.0.1:$a; }
    server { listen 127.0.0.1:$p[1]; proxy_ssl on; proxy_pass 127.0.0.1:$v[0]; proxy_ssl_server_name on;
             proxy_ssl_name a.test; proxy_ssl_verify on; proxy_ssl_trusted_certificate $c/ca.crt; }
    server { listen 127.0.0.1:$p[2]; proxy_ssl on; proxy_pass 127.0.0.1:$v[1]; proxy_ssl_name wrong.test;
             proxy_ssl_verify on; proxy_ssl_trusted_certificate $c/ca.crt; }
    server { listen 127.0.0.1:$p[3]; proxy_ssl on; proxy_pass 127.0.0.1:$v[2]; proxy_ssl_name a.test;
             proxy_ssl_verify on; proxy_ssl_trusted_certificate $c/self.crt; }
    server { listen 127.0.0.1:$p[4]; proxy_ssl on; proxy_pass 127.0.0.1:$mtls;
             proxy_ssl_certificate $c/client.crt; proxy_ssl_certificate_key $c/client.key; }
    server { listen 127.0.0.1:$p[5]; proxy_ssl on; proxy_pass 127.0.0.1:$a; proxy_ssl_protocols TLSv1.3; }
    server { listen 127.0.0.1:$p[6]; proxy_ssl on; proxy_pass 127.0.0.1:$a; proxy_ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256; }
    server { listen 127.0.0.1:$p[7]; proxy_ssl on; proxy_pass 127.0.0.1:$a; proxy_ssl_session_reuse off; }
    server { listen 127.0.0.1:$p[8]; proxy_ssl on; proxy_pass 127.0.0.1:$plain; proxy_connect_timeout 2s; }
    server { listen 127.0.0.1:$p[9]; proxy_ssl on; proxy_pass failover; proxy_connect_timeout 2s; }
EOF
$s->start or stop_here('the server did not start');

# the backend's report and the echo of $line
sub report {
    my ($port, $line) = @_;
    my ($got) = exchange($port, "$line\n", undef, until => qr/\n\Q$line\E\n/);
    return $got;
}

like(report($p[0], 'one'), qr/^sni=- cn=- proto=TLSv1[._]2 cipher=\S+ reused=\d\none\n$/,
     'proxy_ssl on: TLSv1.2 (nginx 1.22\'s default protocols), no SNI by default, the bytes echoed');
like(report($p[1], 'two'), qr/^sni=a\.test cn=- proto=TLSv1[._]2 .*\ntwo\n$/,
     'proxy_ssl_server_name, proxy_ssl_name, proxy_ssl_verify with the CA: SNI sent, certificate accepted');
my ($got, $eof) = exchange($p[2], "x\n", undef);
ok($got eq '' && $eof, 'proxy_ssl_verify: a certificate for another name: no session');
ok($s->wait_log(qr/\[error\] .*upstream SSL certificate does not match "wrong\.test" while SSL handshaking to upstream, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[2], upstream: "127\.0\.0\.1:$v[1]"/),
   'error_log: upstream SSL certificate does not match');
($got, $eof) = exchange($p[3], "x\n", undef);
ok($got eq '' && $eof, 'proxy_ssl_verify: an unknown CA: no session');
ok($s->wait_log(qr/\[error\] .*upstream SSL certificate verify error: \(\d+:[^)]+\) while SSL handshaking to upstream/),
   'error_log: upstream SSL certificate verify error');
like(report($p[4], 'm'), qr/^sni=- cn=client proto=\S+ .*\nm\n$/, 'proxy_ssl_certificate: the backend got the client certificate');
like(report($p[5], 'v'), qr/^\S+ cn=- proto=TLSv1[._]3 /, 'proxy_ssl_protocols TLSv1.3');
like(report($p[6], 'c'), qr/ cipher=ECDHE-RSA-AES128-GCM-SHA256 /, 'proxy_ssl_ciphers');

# a bulk transfer both ways through the peer's TLS
{
    my $big = join('', map { "bulk line $_\n" } 1 .. 20000);
    my ($got) = exchange($p[6], $big, undef, until => qr/bulk line 20000\n/, timeout => 20);
    $got =~ s/^sni=[^\n]*\n//;
    ok($got eq $big, length($big) . ' bytes echoed through proxy_ssl') or diag('got ' . length($got));
}

# sessions: the peer's last one is resumed, unless proxy_ssl_session_reuse off
{
    my @r = map { report($p[0], "r$_") =~ /reused=(\d)/ ? $1 : 'x' } 1 .. 3;
    is($r[2], 1, 'proxy_ssl_session_reuse (default on): a later session resumes') or diag("@r");
    @r = map { report($p[7], "n$_") =~ /reused=(\d)/ ? $1 : 'x' } 1 .. 3;
    is("@r", '0 0 0', 'proxy_ssl_session_reuse off: never resumed');
}

# a backend that does not speak TLS; next_upstream past it
{
    ($got, $eof) = exchange($p[8], "x\n", undef, timeout => 8);
    ok($got eq '' && $eof, 'a plain backend: the handshake fails, the session ends');
    like(report($p[9], 'f'), qr/^sni=- .*\nf\n$/, 'next_upstream: a failed handshake, then the TLS peer');
}

$s->stop;
done_testing();
