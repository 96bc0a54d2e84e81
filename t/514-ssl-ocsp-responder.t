# ssl_stapling without ssl_stapling_file: a worker asks the certificate's OCSP responder (its
# authorityInfoAccess URL, or ssl_stapling_responder) once a client asks for a status, and
# staples the checked answer from then on; a "revoked" answer, a responder that refuses the
# connection, a signature that ssl_stapling_verify rejects, a responder name without a
# resolver: nothing is stapled and the error log says why, as nginx's does.
# The responders are small HTTP servers that answer every GET with a response `openssl ocsp`
# made for the certificate's serial (the requests they get are checked with `openssl ocsp`).
#
#   prove -I t/lib t/514-ssl-ocsp-responder.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/514-ssl-ocsp-responder.t
use Test::Moongate;
use Test::Moongate::Certs qw(issue ocsp_response);
use Test::MoongateBackend;
use Test::MoongateDNS;
use MIME::Base64 ();
use Time::HiRes ();

my $dir = Test::Moongate::Certs::make();
my $od = "$dir/ocsp-$$";
END { system('rm', '-rf', $od) if $od }
mkdir $od or die "mkdir $od: $!";
log_level('info');

# the responses, made before the certificates (they name only the issuer and a serial)
Test::Moongate::Certs::spew("$od/index.txt",
    "V\t491231000000Z\t\t5001\tunknown\t/CN=ocsp-good\n"
  . "R\t491231000000Z\t200101000000Z\t5002\tunknown\t/CN=ocsp-revoked\n");
sub response {
    my ($serial, $out, $signer) = @_;
    return ocsp_response(issuer => "$dir/ca", serial => $serial, index => "$od/index.txt",
                         signer => "$dir/$signer", req => "$od/req-$serial", out => "$od/$out");
}
my @ct = (headers => ['Content-Type: application/ocsp-response'], keepalive => 0);
backend(good => 'echo', body => response('0x5001', 'good.der', 'ca'), @ct);
backend(revoked => 'echo', body => response('0x5002', 'revoked.der', 'ca'), @ct);
backend(forged => 'echo', body => response('0x5001', 'forged.der', 'self'), @ct);
backend(gone => 'refused');
# a status line cut after one digit of its status, then the connection's end
backend(short => 'script', read => 1, script => ["HTTP/1.1 2\r\n\r\n"]);

# the certificates: the test CA's, with an OCSP URL each
sub cert {
    my ($name, $serial, $url) = @_;
    Test::Moongate::Certs::spew("$od/$name.ext", "authorityInfoAccess = OCSP;URI:$url\n");
    issue("$od/$name", $name, "$dir/ca", $serial, ext => "$od/$name.ext");
}
cert('ocsp-good', '0x5001', "http://127.0.0.1:$Port{good}/ocsp");
cert('ocsp-revoked', '0x5002', "http://127.0.0.1:$Port{revoked}");
cert('ocsp-gone', '0x5001', "http://127.0.0.1:$Port{gone}/");
cert('ocsp-forged', '0x5001', "http://127.0.0.1:$Port{forged}/");
cert('ocsp-short', '0x5001', "http://127.0.0.1:$Port{short}/");
cert('ocsp-named', '0x5001', "http://localhost:$Port{good}/");
dns_start('localhost' => { a => ['127.0.0.1'] });
$ENV{TEST_NGINX_OCSP_DIR} = $od;

# handshakes asking for a status until one gets it (a worker fetches after the first), 15 s
sub stapled {
    my $port = $Test::Moongate::ServerPort;
    my $out = '';
    for (1 .. 150) {
        $out = `timeout 10 openssl s_client -connect 127.0.0.1:$port -status < /dev/null 2>&1`;
        return $out if $out =~ /OCSP Response Status: successful/;
        Time::HiRes::sleep(0.1);
    }
    return $out;
}

# a few handshakes, then the error log line (at most 15 s)
sub logged {
    my $re = shift;
    my $port = $Test::Moongate::ServerPort;
    my $out = `timeout 10 openssl s_client -connect 127.0.0.1:$port -status < /dev/null 2>&1`;
    for (1 .. 150) {
        my $log = Test::Moongate::slurp(Test::Moongate::error_log_file()) // '';
        return ($out, $1) if $log =~ /($re)/;
        Time::HiRes::sleep(0.1);
    }
    return ($out, undef);
}

# the serial the responder was asked about, from the GET's base64 path
sub asked_serial {
    my $name = shift;
    my ($req) = grep { $_->[2] eq 'GET' } backend_log($name);
    return 'no request' unless $req;
    (my $b64 = $req->[3]) =~ s{^.*/}{};
    $b64 =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    Test::Moongate::Certs::spew("$od/asked.der", MIME::Base64::decode_base64($b64));
    my $text = `openssl ocsp -reqin $od/asked.der -req_text 2>&1`;
    return $text =~ /Serial Number: (\w+)/ ? $1 : "unreadable: $text";
}

run_tests();

__DATA__

=== TEST 1: the certificate's OCSP URL is asked; the answer is stapled from then on
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-good.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-good.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    location / { return 200 "ok\n"; }
--- init
my $out = main::stapled();
Test::More::like($out, qr/OCSP Response Status: successful/, "a response is stapled");
Test::More::like($out, qr/Cert Status: good/, "it says good");
Test::More::is(main::asked_serial('good'), '5001', "the responder was asked about the serial");
my ($req) = grep { $_->[2] eq 'GET' } Test::MoongateBackend::backend_log('good');
Test::More::like($req ? $req->[3] : '', qr{^/ocsp/\S+$}, "a GET under the URL's path");
--- request
GET /
--- response_body
ok



=== TEST 2: ssl_stapling_responder overrides the certificate's URL
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-gone.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-gone.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    ssl_stapling_responder http://127.0.0.1:$TEST_NGINX_GOOD_PORT/;
    location / { return 200 "ok\n"; }
--- init
my $out = main::stapled();
Test::More::like($out, qr/OCSP Response Status: successful/, "a response is stapled");
Test::More::like($out, qr/Cert Status: good/, "it says good");
--- request
GET /
--- response_body
ok



=== TEST 3: a "revoked" answer is not stapled, and is logged
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-revoked.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-revoked.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    location / { return 200 "ok\n"; }
--- init
my ($out, $line) = main::logged(qr/\[error\] .*certificate status "revoked" in the OCSP response while requesting certificate status, responder: 127\.0\.0\.1, peer: 127\.0\.0\.1:\d+, certificate: "\S+\/ocsp-revoked\.crt"/);
Test::More::ok($line, "logged: certificate status \"revoked\" ...");
$out = `timeout 10 openssl s_client -connect 127.0.0.1:$Test::Moongate::ServerPort -status < /dev/null 2>&1`;
Test::More::like($out, qr/OCSP response: no response sent/, "nothing is stapled");
--- request
GET /
--- response_body
ok



=== TEST 4: a responder that refuses the connection: logged, nothing stapled
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-gone.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-gone.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    location / { return 200 "ok\n"; }
--- init
my ($out, $line) = main::logged(qr/\[error\] .*(?:connect|recv)\(\) failed \(111: Connection refused\) while requesting certificate status, responder: 127\.0\.0\.1, peer: 127\.0\.0\.1:\d+, certificate: "\S+\/ocsp-gone\.crt"/);
Test::More::ok($line, "logged: connect() failed (111: Connection refused) ...");
Test::More::like($out, qr/OCSP response: no response sent/, "nothing is stapled");
--- request
GET /
--- response_body
ok



=== TEST 5: a response signed by someone else is stapled when ssl_stapling_verify is off
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-forged.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-forged.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    location / { return 200 "ok\n"; }
--- init
my $out = main::stapled();
Test::More::like($out, qr/OCSP Response Status: successful/, "a response is stapled");
--- request
GET /
--- response_body
ok



=== TEST 6: ... and refused with ssl_stapling_verify on
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-forged.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-forged.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    ssl_stapling_verify on;
    location / { return 200 "ok\n"; }
--- init
my ($out, $line) = main::logged(qr/\[error\] .*OCSP_basic_verify\(\) failed.* while requesting certificate status, responder: 127\.0\.0\.1, peer: 127\.0\.0\.1:\d+, certificate: "\S+\/ocsp-forged\.crt"/);
Test::More::ok($line, "logged: OCSP_basic_verify() failed ...");
$out = `timeout 10 openssl s_client -connect 127.0.0.1:$Test::Moongate::ServerPort -status < /dev/null 2>&1`;
Test::More::like($out, qr/OCSP response: no response sent/, "nothing is stapled");
--- request
GET /
--- response_body
ok



=== TEST 7: a responder's name and no resolver: logged, nothing stapled
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-named.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-named.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    location / { return 200 "ok\n"; }
--- init
my ($out, $line) = main::logged(qr/\[warn\] .*no resolver defined to resolve localhost while requesting certificate status, responder: localhost, certificate: "\S+\/ocsp-named\.crt"/);
Test::More::ok($line, "logged: no resolver defined to resolve localhost ...");
Test::More::like($out, qr/OCSP response: no response sent/, "nothing is stapled");
--- request
GET /
--- response_body
ok



=== TEST 8: a responder URL that is not http://: stapling is ignored, with a warning
# moongate_only: nginx writes the warning before its error log is open (to stderr)
--- moongate_only
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-good.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-good.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    ssl_stapling_responder https://127.0.0.1/;
    location / { return 200 "ok\n"; }
--- init
my $out = `timeout 10 openssl s_client -connect 127.0.0.1:$Test::Moongate::ServerPort -status < /dev/null 2>&1`;
Test::More::like($out, qr/OCSP response: no response sent/, "nothing is stapled");
--- request
GET /
--- response_body
ok
--- error_log eval
qr/\[warn\] .*"ssl_stapling" ignored, invalid URL prefix in OCSP responder "https:\/\/127\.0\.0\.1\/" in the certificate "\S+\/ocsp-good\.crt"/



=== TEST 9: a responder's name is asked of the server's resolver (t/526: it must also be found
# while the configuration is read, by the system's resolver, or stapling is ignored)
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-named.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-named.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    location / { return 200 "ok\n"; }
--- init
my $out = main::stapled();
Test::More::like($out, qr/OCSP Response Status: successful/, "a response is stapled");
Test::More::ok(scalar(grep { /^localhost A$/i } Test::MoongateDNS::dns_queries()), "localhost was asked");
--- request
GET /
--- response_body
ok



=== TEST 10: a status line with one digit of status is an invalid response, not a status "2"
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/ocsp-short.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/ocsp-short.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    location / { return 200 "ok\n"; }
--- init
my ($out, $line) = main::logged(qr/\[error\] .*OCSP responder sent (?:invalid response|unexpected HTTP response status "\d+") while requesting certificate status, responder: 127\.0\.0\.1, peer: 127\.0\.0\.1:\d+, certificate: "\S+\/ocsp-short\.crt"/);
Test::More::like($line // '', qr/sent invalid response/, "logged: OCSP responder sent invalid response");
Test::More::like($out, qr/OCSP response: no response sent/, "nothing is stapled");
--- request
GET /
--- response_body
ok
