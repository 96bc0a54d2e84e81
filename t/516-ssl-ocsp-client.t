# ssl_ocsp, ssl_ocsp_responder, ssl_ocsp_cache (nginx >= 1.19): a client certificate that
# ssl_verify_client accepted is asked of an OCSP responder after the handshake and before
# the request is read; "revoked" (or "unknown", or no answer) fails the request with 400
# ("The SSL certificate error") and nginx's log line, and $ssl_client_verify says why.
# The responders are small HTTP servers answering every GET with a response `openssl ocsp`
# made from the test CA's database (good for client.crt, revoked for revoked.crt, unknown
# for a certificate the CA signed outside it).
#
#   prove -I t/lib t/516-ssl-ocsp-client.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/516-ssl-ocsp-client.t
use Test::Moongate;
use Test::Moongate::Certs qw(issue ocsp_response);
use Test::MoongateBackend;
use MIME::Base64 ();

our $dir = Test::Moongate::Certs::make();
my $od = "$dir/ocsp-client-$$";
END { system('rm', '-rf', $od) if $od }
mkdir $od or die "mkdir $od: $!";
log_level('info');

# a certificate the CA signed without recording it: its responder says "unknown"
issue("$od/stray", 'stray', "$dir/ca", '0x7777');

sub response {
    my ($cert) = @_;
    return ocsp_response(issuer => "$dir/ca", cert => $cert, index => "$dir/db/index.txt",
                         req => "$od/req.der", out => "$od/resp.der");
}
my @ct = (headers => ['Content-Type: application/ocsp-response'], keepalive => 0);
backend(good => 'echo', body => response("$dir/client.crt"), @ct);
backend(slow => 'echo', body => response("$dir/client.crt"), delay => 1, @ct);
backend(cached => 'echo', body => response("$dir/client.crt"), @ct);
backend(revoked => 'echo', body => response("$dir/revoked.crt"), @ct);
backend(unknown => 'echo', body => response("$od/stray.crt"), @ct);
backend(gone => 'refused');
$ENV{TEST_NGINX_OCSP_DIR} = $od;

# the serial a responder was asked about (the GET's base64 path), and a certificate's
sub asked_serial {
    my $req = shift;
    return 'no request' unless $req;
    (my $b64 = $req->[3]) =~ s{^.*/}{};
    $b64 =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    Test::Moongate::Certs::spew("$od/asked.der", MIME::Base64::decode_base64($b64));
    my $text = `openssl ocsp -reqin $od/asked.der -req_text 2>&1`;
    return $text =~ /Serial Number: (\w+)/ ? uc $1 : "unreadable: $text";
}
sub serial { my $s = `openssl x509 -in $_[0] -noout -serial`; $s =~ /=(\w+)/; uc $1 }

sub gets { scalar grep { $_->[2] eq 'GET' } backend_log(shift) }

# a request with the client certificate, through curl: its status and body
sub curl {
    my $port = $Test::Moongate::ServerPort;
    my $out = `curl -sk --max-time 20 --cert $dir/client.crt --key $dir/client.key -w ' %{http_code}' https://127.0.0.1:$port/ 2>&1`;
    return $out;
}

run_tests();

__DATA__

=== TEST 1: a "good" answer: the request is served, $ssl_client_verify SUCCESS
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_GOOD_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- response_body
SUCCESS



=== TEST 2: the responder was asked about the client certificate, with a GET under its path
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp leaf;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_GOOD_PORT/ocsp;
    location / { return 200 "$ssl_client_verify\n"; }
--- init
Test::MoongateBackend::backend_log_clear('good');
Test::More::is(main::curl(), "SUCCESS\n 200", "served");
my ($req) = grep { $_->[2] eq 'GET' } Test::MoongateBackend::backend_log('good');
Test::More::like($req ? $req->[3] : '', qr{^/ocsp/\S+$}, "a GET under the URL's path");
Test::More::is(main::asked_serial($req), main::serial("$main::dir/client.crt"), "about the serial");
--- request
GET /
--- response_body
SUCCESS



=== TEST 3: a "revoked" answer: 400 and nginx's line
--- ssl: cert=revoked.crt key=revoked.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_REVOKED_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- response_body_like chomp
The SSL certificate error
--- error_log
client SSL certificate verify error: certificate revoked while reading client request headers



=== TEST 4: $ssl_client_verify says "FAILED:certificate revoked" (error_page 495)
--- ssl: cert=revoked.crt key=revoked.key
--- config
    ssl_verify_client optional;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp leaf;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_REVOKED_PORT/;
    error_page 495 /why;
    location = /why { return 200 "$ssl_client_verify\n"; }
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- response_body
FAILED:certificate revoked



=== TEST 5: an "unknown" answer fails too
--- ssl: cert=$TEST_NGINX_OCSP_DIR/stray.crt key=$TEST_NGINX_OCSP_DIR/stray.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_UNKNOWN_PORT/;
    error_page 495 /why;
    location = /why { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- response_body
FAILED:certificate status unknown
--- error_log
client SSL certificate verify error: certificate status unknown



=== TEST 6: a responder that cannot be reached: logged, and the request fails
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_GONE_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- error_log eval
[qr/\[error\] .*(?:connect|recv)\(\) failed \(111: Connection refused\) while requesting certificate status, responder: 127\.0\.0\.1, peer: 127\.0\.0\.1:\d+/,
 qr/client SSL certificate verify error: certificate status request failed while reading client request headers/]



=== TEST 7: the request waits for a slow responder's answer
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_SLOW_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- response_body
SUCCESS



=== TEST 8: no client certificate under "optional": nothing is asked
--- ssl
--- config
    ssl_verify_client optional;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_GONE_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- response_body
NONE
--- no_error_log
requesting certificate status



=== TEST 9: ssl_ocsp_cache keeps the answer: two connections, one question
--- ssl: cert=client.crt key=client.key
--- http_config
    ssl_ocsp_cache shared:ocsp_client:1m;
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_CACHED_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- init
Test::More::is(main::curl(), "SUCCESS\n 200", "the first connection");
Test::More::is(main::curl(), "SUCCESS\n 200", "the second connection");
Test::More::is(main::gets('cached'), 1, "the responder was asked once");
--- request
GET /
--- response_body
SUCCESS



=== TEST 10: without ssl_ocsp_cache every connection asks
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder http://127.0.0.1:$TEST_NGINX_GOOD_PORT/;
    location / { return 200 "$ssl_client_verify\n"; }
--- init
Test::MoongateBackend::backend_log_clear('good');
Test::More::is(main::curl(), "SUCCESS\n 200", "the first connection");
Test::More::is(main::curl(), "SUCCESS\n 200", "the second connection");
Test::More::is(main::gets('good'), 2, "the responder was asked twice");
--- request
GET /
--- response_body
SUCCESS



=== TEST 11: ssl_ocsp with ssl_verify_client optional_no_ca is refused
--- ssl
--- config
    ssl_verify_client optional_no_ca;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp leaf;
--- must_die
--- error_log eval
qr/\[emerg\] .*"ssl_ocsp" is incompatible with "ssl_verify_client optional_no_ca"/



=== TEST 12: a responder URL that is not http:// is refused
--- ssl
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_ocsp on;
    ssl_ocsp_responder ftp://127.0.0.1/;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid URL prefix in OCSP responder "ftp:\/\/127\.0\.0\.1\/" in "ssl_ocsp_responder"/



=== TEST 13: ssl_ocsp_cache: a bad value, a zone too small
--- ssl
--- http_config
    ssl_ocsp_cache shared:tiny:1k;
--- config
    location / { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*OCSP cache "shared:tiny:1k" is too small in \S+:\d+/



=== TEST 14: ssl_ocsp_cache without a size
--- ssl
--- http_config
    ssl_ocsp_cache shared:nosize;
--- config
    location / { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid OCSP cache "shared:nosize" in \S+:\d+/



=== TEST 15: ssl_ocsp takes on, off and leaf only
--- ssl
--- config
    ssl_ocsp maybe;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in \S+:\d+/
