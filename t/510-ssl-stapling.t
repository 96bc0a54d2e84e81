# ssl_stapling with ssl_stapling_file: the OCSP response in the file is sent to clients that
# ask for one (openssl s_client -status); a missing or broken file fails the configuration;
# without a file and without a responder URL in the certificate, stapling is ignored (warn).
use Test::Moongate;
use Test::Moongate::Certs;

my $dir = Test::Moongate::Certs::make();
log_level('info');

# an OCSP response for localhost.crt signed by the test CA ("good"), made once
unless (-f "$dir/ocsp-localhost.der") {
    my $tmp = "$dir/ocsp-req.$$";
    system("openssl ocsp -issuer $dir/ca.crt -cert $dir/localhost.crt -reqout $tmp -no_nonce"
           . " >/dev/null 2>&1") == 0 or die "openssl ocsp -reqout failed";
    system("openssl ocsp -index $dir/db/index.txt -rsigner $dir/ca.crt -rkey $dir/ca.key"
           . " -CA $dir/ca.crt -reqin $tmp -respout $dir/ocsp-localhost.der.$$ -ndays 3650"
           . " >/dev/null 2>&1") == 0 or die "openssl ocsp -respout failed";
    rename "$dir/ocsp-localhost.der.$$", "$dir/ocsp-localhost.der";
    unlink $tmp;
}

sub s_client_status {
    my $port = $Test::Moongate::ServerPort;
    return scalar `timeout 10 openssl s_client -connect 127.0.0.1:$port -servername localhost -status < /dev/null 2>&1`;
}

run_tests();

__DATA__

=== TEST 1: the file's response is stapled
--- ssl
--- config
    ssl_stapling on;
    ssl_stapling_file $TEST_NGINX_CERT_DIR/ocsp-localhost.der;
    ssl_stapling_verify on;
    location / { return 200 "ok\n"; }
--- init
my $out = main::s_client_status();
Test::More::like($out, qr/OCSP Response Status: successful/, "a response is stapled");
Test::More::like($out, qr/Cert Status: good/, "it says good");
--- request
GET /
--- response_body
ok



=== TEST 2: ssl_stapling off: nothing is sent
--- ssl
--- config
    ssl_stapling_file $TEST_NGINX_CERT_DIR/ocsp-localhost.der;
    location / { return 200 "ok\n"; }
--- init
Test::More::like(main::s_client_status(), qr/OCSP response: no response sent/, "no response");
--- request
GET /
--- response_body
ok



=== TEST 3: no file and no issuer known: stapling is ignored
--- ssl
--- config
    ssl_stapling on;
    location / { return 200 "ok\n"; }
--- init
Test::More::like(main::s_client_status(), qr/OCSP response: no response sent/, "no response");
--- request
GET /
--- response_body
ok



=== TEST 4: the warnings when stapling is ignored
# moongate_only: nginx writes them before its error log is open (to stderr)
--- moongate_only
--- ssl
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        ssl_stapling on;
    }
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_stapling on;
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok
--- error_log eval
[qr/\[warn\] .*"ssl_stapling" ignored, issuer certificate not found for certificate "\S+\/a\.test\.crt"/,
 qr/\[warn\] .*"ssl_stapling" ignored, no OCSP responder URL in the certificate "\S+\/localhost\.crt"/]



=== TEST 5: a missing file fails the configuration
--- ssl
--- config
    ssl_stapling on;
    ssl_stapling_file $TEST_NGINX_CERT_DIR/no-such.der;
--- must_die
--- error_log eval
qr/\[emerg\] .*BIO_new_file\("\S+\/no-such\.der"\) failed/



=== TEST 6: a file that is not an OCSP response fails the configuration
--- ssl
--- config
    ssl_stapling on;
    ssl_stapling_file $TEST_NGINX_CERT_DIR/ca.crt;
--- must_die
--- error_log eval
qr/\[emerg\] .*d2i_OCSP_RESPONSE_bio\("\S+\/ca\.crt"\) failed/
