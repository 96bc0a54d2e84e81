# ssl_verify_depth and proxy_ssl_verify_depth with a chain of three: the test CA, an
# intermediate CA it signed, and a client (or upstream server) certificate the intermediate
# signed, sent with the intermediate. Depth 1 (the default) lets one intermediate through;
# depth 0 refuses it (400 with nginx's "client SSL certificate verify error" for a client, 502
# with "upstream SSL certificate verify error" for an upstream).
#
#   prove -I t/lib t/515-ssl-verify-depth.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/515-ssl-verify-depth.t
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::Certs qw(issue);

my $dir = Test::Moongate::Certs::make();
my $cd = "$dir/chain3";
unless (-f "$cd/done") {
    mkdir $cd;
    Test::Moongate::Certs::spew("$cd/ca.ext", $Test::Moongate::Certs::CaExt);
    Test::Moongate::Certs::spew("$cd/leaf.ext", "subjectAltName = DNS:localhost\n");
    issue("$cd/inter", 'Moongate Test Intermediate', "$dir/ca", '0x6001', ext => "$cd/ca.ext");
    for my $n (qw(client server)) {
        issue("$cd/$n", $n eq 'server' ? 'localhost' : 'chained-client', "$cd/inter",
              '0x60' . ($n eq 'server' ? '03' : '02'), ext => "$cd/leaf.ext");
        Test::Moongate::Certs::spew("$cd/$n-chain.crt", Test::Moongate::slurp("$cd/$n.crt")
                                    . Test::Moongate::slurp("$cd/inter.crt"));
    }
    Test::Moongate::Certs::spew("$cd/done", '');
}
$ENV{TEST_NGINX_TLS_PORT} = Test::Moongate::find_free_port();

# the upstream: a server of the same configuration with the chained certificate
our $Upstream = <<'EOC';
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        server_name localhost;
        ssl_certificate $TEST_NGINX_CERT_DIR/chain3/server-chain.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/chain3/server.key;
        location / { return 200 "upstream\n"; }
    }
EOC

run_tests();

__DATA__

=== TEST 1: a client certificate under an intermediate, depth 1 (the default): verified
--- ssl: cert=chain3/client-chain.crt key=chain3/client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_verify $ssl_client_s_dn\n"; }
--- request
GET /
--- response_body
SUCCESS CN=chained-client



=== TEST 2: ... depth 0: refused with 400 and nginx's log line
--- ssl: cert=chain3/client-chain.crt key=chain3/client.key
--- config
    ssl_verify_client on;
    ssl_verify_depth 0;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- error_log eval
qr/\[info\] .*client SSL certificate verify error: \(20:unable to get local issuer certificate\)/



=== TEST 3: ... depth 0 with ssl_verify_client optional: a certificate sent and refused is a 400 too
--- ssl: cert=chain3/client-chain.crt key=chain3/client.key
--- config
    ssl_verify_client optional;
    ssl_verify_depth 0;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400



=== TEST 3a: ... depth 0 with optional_no_ca: served, $ssl_client_verify says why
--- ssl: cert=chain3/client-chain.crt key=chain3/client.key
--- config
    ssl_verify_client optional_no_ca;
    ssl_verify_depth 0;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- response_body
FAILED:unable to get local issuer certificate



=== TEST 4: an upstream certificate under an intermediate, proxy_ssl_verify_depth 1: verified
--- http_config eval: $main::Upstream
--- config
    location / {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
        proxy_ssl_verify on;
        proxy_ssl_name localhost;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    }
--- request
GET /
--- response_body
upstream



=== TEST 5: ... proxy_ssl_verify_depth 0: 502 and nginx's log line
--- http_config eval: $main::Upstream
--- config
    location / {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
        proxy_ssl_verify on;
        proxy_ssl_verify_depth 0;
        proxy_ssl_name localhost;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    }
--- request
GET /
--- error_code: 502
--- error_log eval
qr/\[error\] .*upstream SSL certificate verify error: \(20:unable to get local issuer certificate\) while SSL handshaking to upstream/
