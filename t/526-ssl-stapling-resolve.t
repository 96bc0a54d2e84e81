# ssl_stapling without a file: the OCSP responder's name (the certificate's authorityInfoAccess
# URL, or ssl_stapling_responder) is looked up with the system's resolver while the
# configuration is read, as nginx does. A name not found there turns stapling off for that
# certificate with nginx's warning ("ssl_stapling" ignored, host not found in OCSP responder
# "HOST[:PORT]/PATH" in the certificate "FILE"), even when `resolver` would know it; a name
# found there is still asked of `resolver` at each fetch.
#
#   prove -I t/lib t/526-ssl-stapling-resolve.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/526-ssl-stapling-resolve.t
use Test::Moongate;
use Test::Moongate::Certs qw(issue ocsp_response);
use Test::MoongateBackend;
use Test::MoongateDNS;
use Time::HiRes ();

my $dir = Test::Moongate::Certs::make();
my $od = "$dir/ocsp526-$$";
END { system('rm', '-rf', $od) if $od }
mkdir $od or die "mkdir $od: $!";
log_level('info');

# a responder answering "good" for serial 0x5261
Test::Moongate::Certs::spew("$od/index.txt", "V\t491231000000Z\t\t5261\tunknown\t/CN=s526\n");
backend(good => 'echo', body => ocsp_response(issuer => "$dir/ca", serial => '0x5261',
                                              index => "$od/index.txt", req => "$od/req",
                                              out => "$od/good.der"),
        headers => ['Content-Type: application/ocsp-response'], keepalive => 0);

# certificates of the test CA whose OCSP URL names: a host only the test's DNS server knows
# (.test is in no hosts file), and localhost (the system knows it)
sub cert {
    my ($name, $url) = @_;
    Test::Moongate::Certs::spew("$od/$name.ext", "authorityInfoAccess = OCSP;URI:$url\n");
    issue("$od/$name", $name, "$dir/ca", '0x5261', key => '-newkey ec -pkeyopt ec_paramgen_curve:P-256',
          ext => "$od/$name.ext");
}
cert('dns-only', "http://ocsp526.test:$Port{good}/ocsp");
cert('local', "http://localhost:$Port{good}/");
dns_start('ocsp526.test' => { a => ['127.0.0.1'] }, 'localhost' => { a => ['127.0.0.1'] });
$ENV{TEST_NGINX_OCSP_DIR} = $od;

# what `-t` says of the running configuration (stderr: nginx's warnings come before its log)
sub config_test {
    my (undef, $out, $err) =
        Test::Moongate::run_cmd($Test::Moongate::Binary, '-t', '-p', "$Test::Moongate::ServRoot/",
                                '-c', $Test::Moongate::ConfFile);
    return "$out$err";
}

# handshakes asking for a status: the first output with a staple, else the last (bounded)
sub status {
    my $tries = shift;
    my $out = '';
    for (1 .. $tries) {
        $out = `timeout 10 openssl s_client -connect 127.0.0.1:$Test::Moongate::ServerPort -status < /dev/null 2>&1`;
        return $out if $out =~ /OCSP Response Status: successful/;
        Time::HiRes::sleep(0.1);
    }
    return $out;
}

run_tests();

__DATA__

=== TEST 1: the certificate's responder is not found by the system: stapling is ignored, even with a resolver that knows it
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/dns-only.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/dns-only.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    location / { return 200 "ok\n"; }
--- init
Test::More::like(main::config_test(),
    qr/\[warn\] .*"ssl_stapling" ignored, host not found in OCSP responder "ocsp526\.test:\d+\/ocsp" in the certificate "\S+\/dns-only\.crt"/,
    "-t warns: host not found");
Test::MoongateDNS::dns_queries_clear();
my $out = main::status(5);
Test::More::like($out, qr/OCSP response: no response sent/, "nothing is stapled");
Test::More::unlike($out, qr/OCSP Response Status/, "no OCSP response at all");
Test::More::is(scalar(grep { $_->[2] eq 'GET' } Test::MoongateBackend::backend_log('good')), 0,
    "the responder was never asked");
Test::More::is(scalar(Test::MoongateDNS::dns_queries()), 0, "nor the resolver");
--- request
GET /
--- response_body
ok



=== TEST 2: ssl_stapling_responder's name is not found: the same, with the directive's URL
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/local.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/local.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    ssl_stapling_responder http://ocsp526.test:$TEST_NGINX_GOOD_PORT/x;
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    location / { return 200 "ok\n"; }
--- init
Test::More::like(main::config_test(),
    qr/\[warn\] .*"ssl_stapling" ignored, host not found in OCSP responder "ocsp526\.test:\d+\/x" in the certificate "\S+\/local\.crt"/,
    "-t warns: host not found");
my $out = main::status(5);
Test::More::like($out, qr/OCSP response: no response sent/, "nothing is stapled");
--- request
GET /
--- response_body
ok



=== TEST 3: a name the system finds: no warning, and `resolver` is asked at the fetch
--- ssl
--- config
    ssl_certificate $TEST_NGINX_OCSP_DIR/local.crt;
    ssl_certificate_key $TEST_NGINX_OCSP_DIR/local.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    location / { return 200 "ok\n"; }
--- init
Test::More::unlike(main::config_test(), qr/ssl_stapling/, "-t says nothing of stapling");
Test::MoongateDNS::dns_queries_clear();
my $out = main::status(150);
Test::More::like($out, qr/OCSP Response Status: successful/, "a response is stapled");
Test::More::like($out, qr/Cert Status: good/, "it says good");
Test::More::ok(scalar(grep { /^localhost A$/i } Test::MoongateDNS::dns_queries()),
    "localhost was asked of the resolver");
--- request
GET /
--- response_body
ok
