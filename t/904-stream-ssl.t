# stream "listen ... ssl" (issue 20, ngx_stream_ssl_module): TLS terminated in front of a TCP
# echo and a return, the $ssl_* variables, ssl_protocols/ssl_ciphers/ssl_dhparam/
# ssl_ecdh_curve, ssl_alpn, an RSA and an ECDSA certificate on one server, ssl_password_file, session
# reuse through the shared cache, client certificates (ssl_verify_client on/optional),
# ssl_handshake_timeout, a plain-text client, PROXY protocol before the handshake, the
# configuration errors, and a HUP during a long-lived TLS session, which runs to its end.
# Passes on Debian's nginx.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::MoongateTcp;
use Test::More;
use IO::Socket::SSL;
use IO::Select;
use Time::HiRes ();

my $c = Test::Moongate::Certs::make();

# a TLS client: what the server sent until it closed (or $o{send} was echoed), or "ERR ..."
sub tls {
    my ($port, %o) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$port", SSL_verify_mode => SSL_VERIFY_NONE,
                                 SSL_hostname => $o{sni} // 'localhost', Timeout => 5,
                                 map { $_ => $o{$_} } grep { /^SSL_/ } keys %o)
        or return "ERR $SSL_ERROR";
    # (a TLS syswrite takes one record at most)
    for (my $off = 0; defined $o{send} && $off < length $o{send};) {
        $off += syswrite($s, $o{send}, 16384, $off) || last;
    }
    my $sel = IO::Select->new($s);
    my $got = '';
    my $end = Time::HiRes::time() + 5;
    while (!defined $o{send} || length($got) < length($o{send})) {
        last unless $s->pending || $sel->can_read($end - Time::HiRes::time());
        my $n = sysread($s, my $b, 65536);
        last unless $n;
        $got .= $b;
    }
    close $s;
    return $got;
}

my $echo = tcp_server(\&echo_serve);
my @p = map { Test::Moongate::find_free_port() } 1 .. 11;
my $vars = '"$ssl_protocol|$ssl_cipher|$ssl_server_name|$ssl_session_reused|$ssl_client_verify|$ssl_client_s_dn|$ssl_client_i_dn\n"';

my $s = Test::MoongateProc->new(name => 'sslterm', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/stream.log';
my $conf = <<"EOF";
    log_format tls '\$ssl_protocol \$status \$bytes_received \$bytes_sent';
    ssl_certificate $c/localhost.crt;
    ssl_certificate_key $c/localhost.key;
    ssl_session_cache shared:STREAM:1m;
    ssl_session_tickets off;
    server { listen 127.0.0.1:$p[0] ssl; return $vars; }
    server { listen 127.0.0.1:$p[1] ssl; proxy_pass 127.0.0.1:$echo; access_log $alog tls; }
    server { listen 127.0.0.1:$p[2] ssl; ssl_protocols TLSv1.2; ssl_ciphers DHE-RSA-AES128-GCM-SHA256;
             ssl_dhparam $c/dhparam.pem; return "\$ssl_protocol \$ssl_cipher\\n"; }
    server { listen 127.0.0.1:$p[3] ssl;
             ssl_certificate $c/localhost.crt; ssl_certificate_key $c/localhost.key;
             ssl_certificate $c/localhost-ec.crt; ssl_certificate_key $c/localhost-ec.key;
             ssl_ecdh_curve secp384r1; ssl_protocols TLSv1.2;
             return "\$ssl_cipher \$ssl_curve\\n"; }
    server { listen 127.0.0.1:$p[4] ssl; ssl_verify_client on; ssl_client_certificate $c/ca.crt;
             return $vars; }
    server { listen 127.0.0.1:$p[5] ssl; ssl_verify_client optional; ssl_client_certificate $c/ca.crt;
             return $vars; }
    server { listen 127.0.0.1:$p[6] ssl; ssl_handshake_timeout 1s; return "late\\n"; }
    server { listen 127.0.0.1:$p[7] ssl; ssl_certificate_key $c/localhost-enc.key;
             ssl_password_file $c/passwords.txt; return "\$ssl_protocol\\n"; }
    server { listen 127.0.0.1:$p[8] ssl proxy_protocol; return "\$proxy_protocol_addr \$ssl_protocol\\n"; }
    server { listen 127.0.0.1:$p[9] ssl; ssl_alpn h2 imap; return "[\$ssl_alpn_protocol]\\n"; }
EOF
$s->write_conf(stream => $conf);
$s->start or stop_here('the server did not start');

# termination and the variables
{
    is(tls($p[0], SSL_version => 'TLSv1_2', SSL_cipher_list => 'ECDHE-RSA-AES256-GCM-SHA384', sni => 'name.test'),
       "TLSv1.2|ECDHE-RSA-AES256-GCM-SHA384|name.test|.|NONE||\n",
       '$ssl_protocol, $ssl_cipher, $ssl_server_name, $ssl_session_reused, $ssl_client_verify');
    my $big = join('', map { "line $_\n" } 1 .. 20000);
    my $got = tls($p[1], send => $big);
    ok($got eq $big, 'proxied through TLS: ' . length($big) . ' bytes there and back')
        or diag('got ' . length($got) . ' bytes');
    ok(wait_for(sub { -s $alog }, 5), 'the session is logged');
    like(Test::MoongateProc::slurp($alog), qr/^TLSv1\.[23] 200 ${\length $big} ${\length $big}$/m,
         'access_log: $ssl_protocol and the plaintext byte counts');
}

# protocols, ciphers, DH parameters, curves, two certificates
{
    is(tls($p[2]), "TLSv1.2 DHE-RSA-AES128-GCM-SHA256\n", 'ssl_protocols, ssl_ciphers and ssl_dhparam: a DHE cipher');
    like(tls($p[2], SSL_version => 'TLSv1_3'), qr/^ERR /, 'ssl_protocols TLSv1.2: a TLSv1.3-only client is refused');
    is(tls($p[3], SSL_cipher_list => 'ECDHE-ECDSA-AES128-GCM-SHA256'), "ECDHE-ECDSA-AES128-GCM-SHA256 secp384r1\n",
       'two certificates: an ECDSA-only client gets the ECDSA one; ssl_ecdh_curve: $ssl_curve');
    is(tls($p[3], SSL_cipher_list => 'ECDHE-RSA-AES128-GCM-SHA256'), "ECDHE-RSA-AES128-GCM-SHA256 secp384r1\n",
       'two certificates: an RSA-only client gets the RSA one');
    is(tls($p[7]), "TLSv1.2\n", 'ssl_password_file: the encrypted key opens');
}

# ssl_alpn
{
    is(tls($p[9], SSL_alpn_protocols => ['x', 'imap']), "[imap]\n", 'ssl_alpn: $ssl_alpn_protocol, the one both have');
    like(tls($p[9], SSL_alpn_protocols => ['x']), qr/^ERR /, 'ssl_alpn: no protocol in common: the handshake fails');
    is(tls($p[9]), "[]\n", 'ssl_alpn: a client without ALPN is let in');
}

# sessions: the second connection resumes from the shared cache
{
    my $ctx = IO::Socket::SSL::SSL_Context->new(SSL_verify_mode => SSL_VERIFY_NONE,
                                                SSL_session_cache_size => 10, SSL_version => 'TLSv1_2');
    my @r = map { (split /\|/, tls($p[0], SSL_reuse_ctx => $ctx))[3] } 1 .. 2;
    is_deeply(\@r, ['.', 'r'], '$ssl_session_reused: "." then "r" (ssl_session_cache shared)');
}

# client certificates
{
    my @cert = (SSL_cert_file => "$c/client.crt", SSL_key_file => "$c/client.key");
    like(tls($p[4], @cert), qr/^TLSv1\.[23]\|[^|]+\|localhost\|\.\|SUCCESS\|CN=client\|CN=Moongate Test CA\n$/,
         'ssl_verify_client on: $ssl_client_verify SUCCESS, the subject and issuer DNs');
    my $got = tls($p[4]);
    ok($got !~ /SUCCESS|NONE/, 'ssl_verify_client on: a client without a certificate gets nothing');
    ok($s->wait_log(qr/\[info\] .*client sent no required SSL certificate while SSL handshaking/),
       'error_log: client sent no required SSL certificate')
        or diag(Test::MoongateProc::slurp($s->error_log) =~ /(.*required.*)/ ? $1 : 'no line');
    $got = tls($p[4], SSL_cert_file => "$c/self.crt", SSL_key_file => "$c/self.key");
    ok($got !~ /SUCCESS|NONE/, 'ssl_verify_client on: an unknown CA\'s certificate gets nothing');
    ok($s->wait_log(qr/\[info\] .*client SSL certificate verify error: \(\d+:[^)]+\)/),
       'error_log: client SSL certificate verify error');
    like(tls($p[5]), qr/\|NONE\|\|\n$/, 'ssl_verify_client optional: no certificate, NONE');
}

# the handshake's bad cases; the worker keeps serving
{
    my $t0 = Time::HiRes::time();
    my ($got, $eof) = exchange($p[6], '', undef, timeout => 10);
    my $took = Time::HiRes::time() - $t0;
    ok($got eq '' && $eof && $took >= 0.8 && $took < 8, 'ssl_handshake_timeout 1s: a silent client is closed')
        or diag("eof $eof after $took s");
    ($got, $eof) = exchange($p[0], "GET / HTTP/1.0\r\n\r\n", undef);
    ok($eof && $got !~ /TLS/, 'a plain-text client: closed');
    ok($s->wait_log(qr/\[info\] .*SSL_do_handshake\(\) failed .*while SSL handshaking, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[0]/),
       'error_log: SSL_do_handshake() failed while SSL handshaking');
    like(tls($p[0]), qr/^TLSv1/, 'the worker still serves');
}

# PROXY protocol, then the handshake
{
    my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p[8]") or die;
    syswrite($sock, "PROXY TCP4 192.0.2.9 198.51.100.1 1234 443\r\n");
    IO::Socket::SSL->start_SSL($sock, SSL_verify_mode => SSL_VERIFY_NONE, Timeout => 5);
    my $got = <$sock> // "ERR $SSL_ERROR";
    like($got, qr/^192\.0\.2\.9 TLSv1\.[23]$/, 'listen ssl proxy_protocol: the header, then TLS');
}

# a HUP during a long-lived TLS session: it runs to its end
{
    my $sock = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$p[1]", SSL_verify_mode => SSL_VERIFY_NONE,
                                    Timeout => 5) or die "connect: $SSL_ERROR";
    my $line = sub { print $sock "$_[0]\n"; my $l = <$sock>; return $l };
    is($line->('before'), "before\n", 'long session: an echo before the HUP');
    my $before = () = Test::MoongateProc::slurp($alog) =~ /\n/g;
    (my $changed = $conf) =~ s/return "late/return "later/;
    $s->write_conf(stream => $changed);
    my ($code) = $s->reload;
    is($code, 0, 'HUP: reloaded');
    is(tls($p[6], SSL_version => 'TLSv1_2'), "later\n", 'HUP: a new session sees the new configuration');
    is($line->('after'), "after\n", 'long session: still proxied after the HUP');
    is($line->('again'), "again\n", 'long session: and again');
    close $sock;
    ok(wait_for(sub { (() = Test::MoongateProc::slurp($alog) =~ /\n/g) > $before }, 5),
       'long session: logged when it ends');
    like((split /\n/, Test::MoongateProc::slurp($alog))[-1], qr/^TLSv1\.[23] 200 19 19$/,
         'long session: every byte of it, status 200');
}

$s->stop;

# configuration errors
{
    my $e = Test::MoongateProc->new(name => 'sslconf', workers => 1);
    my $q = Test::Moongate::find_free_port();
    $e->write_conf(stream => "    server {\n        listen 127.0.0.1:$q ssl;\n        return x;\n    }\n");
    my @lines = split /\n/, Test::MoongateProc::slurp($e->conf_file);
    my ($l) = grep { $lines[$_] =~ /^    server \{$/ } 0 .. $#lines;
    my ($code, $out, $err) = $e->cmd('-t');
    like("$out$err", qr/\[emerg\] (?:\d+#\d+: )?no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive in \S+\.conf:${\($l + 2)}$/m,
         'listen ssl without ssl_certificate: the server is named');
    $e->write_conf(stream => "    ssl_certificate $c/localhost.crt;\n    server { listen 127.0.0.1:$q ssl; return x; }\n");
    ($code, $out, $err) = $e->cmd('-t');
    like("$out$err", qr/\[emerg\] (?:\d+#\d+: )?no "ssl_certificate_key" is defined for the "listen \.\.\. ssl" directive in \S+\.conf:\d+$/m,
         'ssl_certificate without a key');
    $e->write_conf(stream => "    server { listen 127.0.0.1:$q ssl; ssl_certificate $c/localhost.crt;\n"
                           . "             ssl_certificate_key $c/localhost.key; ssl_certificate $c/a.test.crt;\n"
                           . "             return x; }\n");
    ($code, $out, $err) = $e->cmd('-t');
    like("$out$err", qr/\[emerg\] (?:\d+#\d+: )?no "ssl_certificate_key" is defined for certificate "\Q$c\E\/a\.test\.crt" and the "listen \.\.\. ssl" directive in \S+\.conf:\d+$/m,
         'two certificates, one key');
    $e->write_conf(stream => "    server { listen 127.0.0.1:$q udp ssl; return x; }\n");
    ($code, $out, $err) = $e->cmd('-t');
    like("$out$err", qr/\[emerg\] (?:\d+#\d+: )?"listen" directive "ssl" parameter is incompatible with "udp" in \S+\.conf:\d+$/m, 'listen udp ssl');
}

done_testing();
