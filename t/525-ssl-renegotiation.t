# A client's TLS 1.2 renegotiation is refused (OpenSSL's no_renegotiation, as nginx): the
# client sees "no renegotiation", and the server logs the failed read once, at info, with
# nginx's "while waiting for request" context, and no second line for the same failure.
#
#   prove -I t/lib t/525-ssl-renegotiation.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/525-ssl-renegotiation.t
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');

run_tests();

__DATA__

=== TEST 1: "R" in openssl s_client over TLS 1.2: refused, one log line
--- ssl
--- config
    location / { return 200 "ok\n"; }
--- init
my $port = $Test::Moongate::ServerPort;
my $out = `(echo R; sleep 1.5) | timeout 10 openssl s_client -connect 127.0.0.1:$port -tls1_2 2>&1`;
Test::More::like($out, qr/RENEGOTIATING/, "the client asked");
Test::More::like($out, qr/no renegotiation/, "the server refused");
--- request
GET /
--- response_body
ok
--- error_log eval
qr/\[info\] .*SSL_read\(\) failed \(SSL: .*\) while waiting for request, client: 127\.0\.0\.1/
--- no_error_log eval
[qr/recv\(\) failed/, qr/\[(?:error|crit|alert)\]/]
