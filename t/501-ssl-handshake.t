# TLS handshakes: garbage, truncated and stalled ClientHellos do not stop a worker, the handshake
# timeout (client_header_timeout), RSA or ECDSA chosen by the client, protocols, ciphers,
# curves, DH parameters, ssl_conf_command, session resumption (shared cache across workers,
# tickets, cache off) and ssl_reject_handshake. Clients: openssl s_client and IO::Socket::SSL.
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::INET;
use IO::Socket::SSL;

Test::Moongate::Certs::make();
log_level('info');

our $Dir = $ENV{TEST_NGINX_CERT_DIR};

# openssl s_client against the server, its output (stdout and stderr) after sending $input
sub s_client {
    my ($args, $input) = @_;
    my $port = $Test::Moongate::ServerPort;
    my $in = "$Test::Moongate::ServRoot/s_client.in";
    open my $f, '>', $in or die $!;
    print $f $input // '';
    close $f;
    return scalar `timeout 10 openssl s_client -connect 127.0.0.1:$port $args < $in 2>&1`;
}

# one HTTPS request with IO::Socket::SSL; the response text ('' when the handshake failed)
sub https_get {
    my ($path, %o) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, SSL_hostname => $o{sni} // 'localhost',
                                 Timeout => 10) or return '';
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s>;
    return $r // '';
}

# read from a raw socket until EOF or $secs pass: 1 when the server closed it
sub closed_within {
    my ($sock, $secs) = @_;
    my $end = time + $secs;
    my $sel = IO::Select->new($sock);
    while (time < $end) {
        next unless $sel->can_read(0.2);
        my $n = sysread($sock, my $buf, 4096);
        return 1 if !$n;
    }
    return 0;
}

run_tests();

__DATA__

=== TEST 1: garbage after a TLS record header: the connection closes, the worker serves others
--- ssl
--- config
    location / { return 200 "ok\n"; }
--- init
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort) or die;
syswrite($s, "\x16\x03\x01\x00\x40" . ("\xee" x 64));
Test::More::ok(main::closed_within($s, 5), "the garbage ClientHello's connection was closed");
--- request
GET /
--- response_body
ok
--- error_log
SSL_do_handshake() failed



=== TEST 2: a truncated ClientHello then EOF
--- ssl
--- config
    location / { return 200 "ok\n"; }
--- init
my $hello = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" . ("\x11" x 32);
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort) or die;
syswrite($s, $hello);
shutdown($s, 1);
Test::More::ok(main::closed_within($s, 5), "the truncated ClientHello's connection was closed");
--- request
GET /
--- response_body
ok



=== TEST 3: a client stalling mid-handshake: others are served, it is closed after client_header_timeout
--- ssl
--- config
    # 5 s, not 1: the other clients here (Perl's TLS, a loaded machine) must finish their
    # handshakes within it too
    client_header_timeout 5s;
    location / { return 200 "ok\n"; }
--- init
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort) or die;
syswrite($s, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
Test::More::like(main::https_get('/'), qr/\r\n\r\nok\n\z/, "another client is served meanwhile");
Test::More::ok(main::closed_within($s, 30), "the stalled handshake was closed");
--- request
GET /
--- response_body
ok
--- error_log eval
qr/client timed out \(110: Connection timed out\) while SSL handshaking, client: 127\.0\.0\.1/



=== TEST 4: an RSA and an ECDSA certificate: the client's ciphers choose
--- ssl
--- config
    ssl_protocols TLSv1.2;
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost-ec.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost-ec.key;
    location / { return 200 "$ssl_cipher\n"; }
--- init
my $rsa = main::s_client("-cipher ECDHE-RSA-AES128-GCM-SHA256 -CAfile $main::Dir/ca.crt -servername localhost", '');
Test::More::like($rsa, qr/Server public key is 2048 bit/, "ECDHE-RSA gets the RSA certificate");
Test::More::like($rsa, qr/Verify return code: 0 \(ok\)/, "verified by the CA");
my $ec = main::s_client("-cipher ECDHE-ECDSA-AES128-GCM-SHA256 -CAfile $main::Dir/ca.crt -servername localhost", '');
Test::More::like($ec, qr/Server public key is 256 bit/, "ECDHE-ECDSA gets the ECDSA certificate");
--- request
GET /
--- response_body_like chomp
^ECDHE-(?:RSA|ECDSA)-\S+$



=== TEST 5: ssl_ciphers, ssl_prefer_server_ciphers
--- ssl
--- config
    ssl_protocols TLSv1.2;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384;
    ssl_prefer_server_ciphers on;
    location / { return 200 "$ssl_cipher\n"; }
--- request
GET /
--- response_body
ECDHE-RSA-AES128-GCM-SHA256



=== TEST 6: ssl_ecdh_curve; $ssl_curve and $ssl_curves
--- ssl
--- config
    ssl_protocols TLSv1.2;
    ssl_ecdh_curve secp384r1;
    location / { return 200 "$ssl_curve\n"; }
--- request
GET /
--- response_body
secp384r1



=== TEST 7: ssl_dhparam for DHE ciphers
--- ssl
--- config
    ssl_protocols TLSv1.2;
    ssl_ciphers DHE-RSA-AES128-GCM-SHA256;
    ssl_dhparam $TEST_NGINX_CERT_DIR/dhparam.pem;
    location / { return 200 "$ssl_cipher\n"; }
--- request
GET /
--- response_body
DHE-RSA-AES128-GCM-SHA256



=== TEST 8: ssl_conf_command sets TLSv1.3 cipher suites
--- ssl
--- config
    ssl_protocols TLSv1.3;
    ssl_conf_command Ciphersuites TLS_CHACHA20_POLY1305_SHA256;
    location / { return 200 "$ssl_protocol $ssl_cipher\n"; }
--- request
GET /
--- response_body
TLSv1.3 TLS_CHACHA20_POLY1305_SHA256



=== TEST 9: a bad ssl_conf_command fails -t
--- ssl
--- config
    ssl_conf_command NoSuchCommand yes;
--- must_die
--- error_log eval
qr/SSL_CONF_cmd\("NoSuchCommand", "yes"\) failed/



=== TEST 10: sessions resume through the shared cache, whichever worker takes the connection
--- ssl
--- main_config
    worker_processes 2;
    master_process on;
--- http_config
    ssl_session_cache shared:SSL:1m;
    ssl_session_tickets off;
--- config
    ssl_protocols TLSv1.2;
    location / { return 200 "$ssl_session_reused\n"; }
--- init
my $sess = "$Test::Moongate::ServRoot/sess.pem";
my $first = main::s_client("-servername localhost -sess_out $sess", '');
Test::More::like($first, qr/^New, TLSv1\.2/m, "a new session");
my $reused = 0;
for (1 .. 6) {
    $reused++ if main::s_client("-servername localhost -sess_in $sess", '') =~ /^Reused, TLSv1\.2/m;
}
Test::More::is($reused, 6, "resumed 6 times out of 6");
--- request
GET /
--- response_body
.



=== TEST 11: ssl_session_cache off, no tickets: never resumed
--- ssl
--- config
    ssl_protocols TLSv1.2;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / { return 200 "$ssl_session_reused\n"; }
--- init
my $sess = "$Test::Moongate::ServRoot/sess.pem";
main::s_client("-servername localhost -sess_out $sess", '');
Test::More::like(main::s_client("-servername localhost -sess_in $sess", ''), qr/^New, TLSv1\.2/m,
                 "not resumed");
--- request
GET /
--- response_body
.



=== TEST 12: TLSv1.3 tickets resume (keys shared by the workers)
--- ssl
--- main_config
    worker_processes 2;
    master_process on;
--- config
    ssl_protocols TLSv1.3;
    location / { return 200 "$ssl_session_reused\n"; }
--- init
my $sess = "$Test::Moongate::ServRoot/sess.pem";
# -ign_eof: read until the server closes, so the tickets sent after the handshake arrive
main::s_client("-ign_eof -servername localhost -sess_out $sess", "GET / HTTP/1.0\r\n\r\n");
my $reused = 0;
for (1 .. 4) {
    $reused++ if main::s_client("-ign_eof -servername localhost -sess_in $sess", "GET / HTTP/1.0\r\n\r\n")
                 =~ /^Reused, TLSv1\.3/m;
}
Test::More::is($reused, 4, "resumed 4 times out of 4");
--- request
GET /
--- response_body
.



=== TEST 13: ssl_reject_handshake on the default server: unknown names are refused
--- ssl: sni=a.test
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl default_server;
        ssl_reject_handshake on;
    }
--- config
    server_name a.test;
    location / { return 200 "a\n"; }
--- init
Test::More::is(main::https_get('/', sni => 'unknown.test'), '', "an unknown name gets no handshake");
Test::More::is(main::https_get('/', sni => ''), '', "no name gets no handshake");
--- request
GET /
--- more_headers
Host: a.test
--- response_body
a



=== TEST 14: a request body over TLS
--- ssl
--- config
    location / {
        client_body_buffer_size 1m;
        content_by_lua_block {
            ngx.req.read_body()
            local b = ngx.req.get_body_data()
            ngx.say(#b, " ", b:sub(1, 10))
        }
    }
--- request eval
"POST /\n" . ("0123456789" x 20000)
--- response_body
200000 0123456789



=== TEST 15: wildcard and regex server names by SNI
--- ssl: sni=x.wild.test
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name *.wild.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/wild.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/wild.key;
        location / { return 200 "wild $ssl_server_name\n"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name ~^b\.test$;
        ssl_certificate $TEST_NGINX_CERT_DIR/b.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/b.test.key;
        location / { return 200 "b $ssl_server_name\n"; }
    }
--- config
    location / { return 200 "default\n"; }
--- init
my $wild = main::s_client("-servername x.wild.test", '');
Test::More::like($wild, qr/subject=CN = \*\.wild\.test/, "the wildcard server's certificate");
my $b = main::s_client("-servername b.test", '');
Test::More::like($b, qr/subject=CN = b\.test/, "the regex server's certificate");
--- request
GET /
--- more_headers
Host: x.wild.test
--- response_body
wild x.wild.test



=== TEST 16: a body refused early (413) over TLS: the answer arrives whole, the close lingers
--- ssl
--- config
    location / {
        client_max_body_size 1k;
        return 200 "never\n";
    }
--- request eval
"POST /\n" . ("0123456789" x 10000)
--- error_code: 413
--- response_body_like chomp
413 Request Entity Too Large
--- error_log
client intended to send too large body



=== TEST 17: ssl_session_timeout is the tickets' lifetime hint
--- ssl
--- config
    ssl_protocols TLSv1.2;
    ssl_session_timeout 10m;
    location / { return 200 "ok\n"; }
--- init
Test::More::like(main::s_client("-servername localhost", ''),
                 qr/TLS session ticket lifetime hint: 600 \(seconds\)/, "10m is 600 seconds");
--- request
GET /
--- response_body
ok



=== TEST 18: ssl_buffer_size 4k: a large file still arrives whole
--- ssl
--- config
    ssl_buffer_size 4k;
    location / { root html; }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/large.txt" or die $!;
print $fh "abcdefghij" x 30000;
close $fh;
--- request
GET /large.txt
--- response_body_like chomp
\A(?:abcdefghij){30000}\z
--- timeout: 10



=== TEST 19: ssl_trusted_certificate verifies; only ssl_client_certificate's names are sent
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/self.crt;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_verify\n"; }
--- init
my $out = main::s_client("-servername localhost -cert $main::Dir/client.crt -key $main::Dir/client.key", '');
Test::More::like($out, qr/Acceptable client certificate CA names\nCN = self\n/, "the names sent");
--- request
GET /
--- response_body
SUCCESS



=== TEST 20: ssl_verify_client on with ssl_trusted_certificate only
--- ssl
--- config
    ssl_verify_client on;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
--- must_die
--- error_log
no ssl_client_certificate for ssl_verify_client
