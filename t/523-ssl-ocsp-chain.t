# ssl_ocsp with a client chain of three (the test CA, an intermediate CA, a client certificate
# the intermediate signed, sent with the intermediate): `on` asks about each certificate but
# the trust anchor, `leaf` about the client's only, and a revoked intermediate fails the
# request as a revoked client certificate does. The responder answers each question with the
# response the certificate's issuer signed (picked by the serial asked). Names, as nginx: an
# ssl_ocsp_responder host is looked up while the configuration is read (not found: -t fails),
# then asked of `resolver` at each check (without one: a warning, and the addresses found
# while reading); a certificate's authorityInfoAccess URL with a name is asked of `resolver`
# (Test::MoongateDNS), and without one the check fails with nginx's error.
#
#   prove -I t/lib t/523-ssl-ocsp-chain.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/523-ssl-ocsp-chain.t
use Test::Moongate;
use Test::Moongate::Certs qw(issue ocsp_response);
use Test::MoongateBackend;
use Test::MoongateDNS;
use MIME::Base64 ();

our $dir = Test::Moongate::Certs::make();
my $cd = "$dir/ocsp-chain-$$";
END { system('rm', '-rf', $cd) if $cd }
mkdir $cd or die "mkdir $cd: $!";
log_level('info');

# the serial a GET asks about (its path's last part is the base64 DER request)
sub asked_serial {
    my ($uri, $tmp) = @_;
    (my $b64 = $uri) =~ s{^.*/}{};
    $b64 =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    Test::Moongate::Certs::spew($tmp, MIME::Base64::decode_base64($b64));
    my $text = `openssl ocsp -reqin $tmp -req_text 2>&1`;
    return $text =~ /Serial Number: (\w+)/ ? uc $1 : 'unreadable';
}
# a responder answering a question about serial S with the file $cd/PREFIX-S.der
sub responder {
    my ($name, $prefix) = @_;
    backend($name => 'echo', keepalive => 0,
            headers => ['Content-Type: application/ocsp-response'],
            body_for => sub {
                my $s = asked_serial($_[0]{uri}, "$cd/asked-$name-$$.der");
                my $f = "$cd/$prefix-$s.der";
                return -f $f ? Test::Moongate::slurp($f) : 'unknown';
            });
}
responder(good => 'good');
responder(leaf => 'good');
responder(interrev => 'rev');
responder(named => 'good');
responder(aia => 'good');
dns_start('ocsp.test' => { a => ['127.0.0.1'] });

# the chains: inter (0x7101) signs client (0x7102); inter-aia (0x7103) signs client-aia
# (0x7104), both naming http://ocsp.test:PORT/ as their OCSP responder
my $aia = "authorityInfoAccess = OCSP;URI:http://ocsp.test:$Test::MoongateBackend::Port{aia}/\n";
Test::Moongate::Certs::spew("$cd/ca.ext", $Test::Moongate::Certs::CaExt);
Test::Moongate::Certs::spew("$cd/ca-aia.ext", $Test::Moongate::Certs::CaExt . $aia);
Test::Moongate::Certs::spew("$cd/leaf.ext", "basicConstraints = CA:false\n");
Test::Moongate::Certs::spew("$cd/leaf-aia.ext", "basicConstraints = CA:false\n$aia");
sub cert {
    my ($name, $cn, $ca, $serial, $ext) = @_;
    issue("$cd/$name", $cn, $ca, "0x$serial", ext => "$cd/$ext");
}
cert('inter', 'Moongate OCSP Intermediate', "$dir/ca", '7101', 'ca.ext');
cert('client', 'ocsp-chained-client', "$cd/inter", '7102', 'leaf.ext');
cert('inter-aia', 'Moongate OCSP AIA Intermediate', "$dir/ca", '7103', 'ca-aia.ext');
cert('client-aia', 'ocsp-aia-client', "$cd/inter-aia", '7104', 'leaf-aia.ext');
for my $n (qw(client client-aia)) {
    (my $i = $n) =~ s/client/inter/;
    Test::Moongate::Certs::spew("$cd/$n-chain.crt", Test::Moongate::slurp("$cd/$n.crt")
                                . Test::Moongate::slurp("$cd/$i.crt"));
}

# each issuer's database (openssl ca's index format) and the responses it signs
sub index_line {
    my ($status, $serial, $dn) = @_;
    return join("\t", $status, '351231000000Z', $status eq 'R' ? '240101000000Z' : '', $serial,
                'unknown', $dn) . "\n";
}
sub response {
    my ($out, $cert, $ca, $status, $serial, $dn) = @_;
    Test::Moongate::Certs::spew("$cd/db.txt", index_line($status, $serial, $dn));
    ocsp_response(issuer => $ca, cert => $cert, index => "$cd/db.txt", req => "$cd/req.der",
                  out => "$cd/$out.der");
}
response('good-7102', "$cd/client.crt", "$cd/inter", 'V', '7102', '/CN=ocsp-chained-client');
response('good-7101', "$cd/inter.crt", "$dir/ca", 'V', '7101', '/CN=Moongate OCSP Intermediate');
response('rev-7102', "$cd/client.crt", "$cd/inter", 'V', '7102', '/CN=ocsp-chained-client');
response('rev-7101', "$cd/inter.crt", "$dir/ca", 'R', '7101', '/CN=Moongate OCSP Intermediate');
response('good-7104', "$cd/client-aia.crt", "$cd/inter-aia", 'V', '7104', '/CN=ocsp-aia-client');
response('good-7103', "$cd/inter-aia.crt", "$dir/ca", 'V', '7103',
         '/CN=Moongate OCSP AIA Intermediate');
$ENV{TEST_NGINX_OCSP_DIR} = $cd;

# the serials a responder was asked about, in order
sub asked {
    my $name = shift;
    my $k = 0;
    return join ' ', map { asked_serial($_->[3], "$cd/log-$name-" . $k++ . '.der') }
                     grep { $_->[2] eq 'GET' } backend_log($name);
}

sub curl {
    my $n = shift || 'client';
    my $port = $Test::Moongate::ServerPort;
    return scalar `curl -sk --max-time 20 --cert $cd/$n-chain.crt --key $cd/$n.key -w ' %{http_code}' https://127.0.0.1:$port/ 2>&1`;
}

run_tests();

__DATA__

=== TEST 1: ssl_ocsp on: the client certificate and the intermediate are both asked about
--- ssl: cert=$TEST_NGINX_OCSP_DIR/client-chain.crt key=$TEST_NGINX_OCSP_DIR/client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_GOOD_PORT/;
    location / { return 200 "$ssl_client_verify $ssl_client_s_dn\n"; }
--- init
Test::MoongateBackend::backend_log_clear('good');
Test::More::is(main::curl(), "SUCCESS CN=ocsp-chained-client\n 200", "served");
Test::More::is(main::asked('good'), '7102 7101', "the client's serial, then the intermediate's");
--- request
GET /
--- response_body
SUCCESS CN=ocsp-chained-client



=== TEST 2: ssl_ocsp leaf: only the client certificate is asked about
--- ssl: cert=$TEST_NGINX_OCSP_DIR/client-chain.crt key=$TEST_NGINX_OCSP_DIR/client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp leaf;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_LEAF_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- init
Test::MoongateBackend::backend_log_clear('leaf');
Test::More::is(main::curl(), "SUCCESS\n 200", "served");
Test::More::is(main::asked('leaf'), '7102', "the client's serial only");
--- request
GET /
--- response_body
SUCCESS



=== TEST 3: a revoked intermediate fails the request under "on"
--- ssl: cert=$TEST_NGINX_OCSP_DIR/client-chain.crt key=$TEST_NGINX_OCSP_DIR/client.key
--- config
    ssl_verify_client optional;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_INTERREV_PORT/;
    error_page 495 /why;
    location = /why { return 200 "$ssl_client_verify\n"; }
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- response_body
FAILED:certificate revoked
--- error_log
client SSL certificate verify error: certificate revoked while reading client request headers



=== TEST 4: ... and passes under "leaf", which does not ask about it
--- ssl: cert=$TEST_NGINX_OCSP_DIR/client-chain.crt key=$TEST_NGINX_OCSP_DIR/client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp leaf;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_INTERREV_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- response_body
SUCCESS



=== TEST 5: an ssl_ocsp_responder given by name is asked of the resolver
--- ssl: cert=$TEST_NGINX_OCSP_DIR/client-chain.crt key=$TEST_NGINX_OCSP_DIR/client.key
--- config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://localhost:$TEST_NGINX_NAMED_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- init
Test::MoongateDNS::dns_set('localhost' => { a => ['127.0.0.1'] });
Test::MoongateDNS::dns_queries_clear();
Test::MoongateBackend::backend_log_clear('named');
Test::More::is(main::curl(), "SUCCESS\n 200", "served");
Test::More::ok((grep { /^localhost A$/i } Test::MoongateDNS::dns_queries()) >= 1,
               "the name was asked of the resolver");
Test::More::is(main::asked('named'), '7102 7101', "the responder was asked about both");
--- request
GET /
--- response_body
SUCCESS



=== TEST 6: ... without a resolver: nginx's warning, and the addresses found while reading
--- ssl: cert=$TEST_NGINX_OCSP_DIR/client-chain.crt key=$TEST_NGINX_OCSP_DIR/client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp leaf;
    ssl_ocsp_responder http://localhost:$TEST_NGINX_NAMED_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- response_body
SUCCESS
--- error_log eval
qr/\[warn\] .*no resolver defined to resolve localhost while requesting certificate status, responder: localhost/



=== TEST 7: an ssl_ocsp_responder name that is not found stops the configuration
--- ssl
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://nowhere.invalid:$TEST_NGINX_NAMED_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- must_die
--- error_log eval
qr/\[emerg\] .*host not found in OCSP responder "nowhere\.invalid:\d+\/" in "ssl_ocsp_responder"/



=== TEST 8: the certificates' own responder, by name: asked of the resolver for each
--- ssl: cert=$TEST_NGINX_OCSP_DIR/client-aia-chain.crt key=$TEST_NGINX_OCSP_DIR/client-aia.key
--- config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    location / { return 200 "$ssl_client_verify $ssl_client_s_dn\n"; }
--- init
Test::MoongateDNS::dns_queries_clear();
Test::MoongateBackend::backend_log_clear('aia');
Test::More::is(main::curl('client-aia'), "SUCCESS CN=ocsp-aia-client\n 200", "served");
Test::More::ok((grep { /^ocsp\.test A$/i } Test::MoongateDNS::dns_queries()) >= 1,
               "the name was asked of the resolver");
Test::More::is(main::asked('aia'), '7104 7103', "the responder was asked about both");
--- request
GET /
--- response_body
SUCCESS CN=ocsp-aia-client



=== TEST 9: ... without a resolver: nginx's error, and the request fails
--- ssl: cert=$TEST_NGINX_OCSP_DIR/client-aia-chain.crt key=$TEST_NGINX_OCSP_DIR/client-aia.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- error_log eval
[qr/\[error\] .*no resolver defined to resolve ocsp\.test while requesting certificate status, responder: ocsp\.test/,
 qr/client SSL certificate verify error: certificate status request failed/]



=== TEST 10: ssl_ocsp_cache and ssl_session_cache cannot share a zone (either order)
--- ssl
--- http_config
    ssl_session_cache shared:both:1m;
    ssl_ocsp_cache shared:both:1m;
--- config
    location / { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*the shared memory zone "both" is already declared for a different use in \S+:\d+/



=== TEST 11: ... the OCSP cache first
--- ssl
--- http_config
    ssl_ocsp_cache shared:both:1m;
    ssl_session_cache shared:both:1m;
--- config
    location / { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*the shared memory zone "both" is already declared for a different use in \S+:\d+/
