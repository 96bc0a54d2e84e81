# The chain an upstream gets with proxy_ssl_certificate is the one in the certificate's file,
# as nginx's: a client certificate signed by an intermediate CA, with the intermediate and the
# root in proxy_ssl_trusted_certificate, goes alone when its file holds it alone. OpenSSL would
# otherwise build a chain from the trusted certificates at every handshake and send the
# intermediate after it. The upstream knows the root CA only (optional_no_ca, depth 2): its
# $ssl_client_verify says SUCCESS when it got the intermediate, FAILED ("unable to verify the
# first certificate") when it did not. For proxy_ssl_certificate from a file, from a variable,
# and in stream{}. proxy_ssl_verify is on: nginx loads proxy_ssl_trusted_certificate only then.
#
#   prove -I t/lib t/531-proxy-ssl-client-chain.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/531-proxy-ssl-client-chain.t
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::Certs qw(issue);

my $dir = Test::Moongate::Certs::make();
my $cd = "$dir/chain531";
unless (-f "$cd/done") {
    mkdir $cd;
    Test::Moongate::Certs::spew("$cd/ca.ext", $Test::Moongate::Certs::CaExt);
    issue("$cd/inter", 'Moongate Test Intermediate 531', "$dir/ca", '0x6101', ext => "$cd/ca.ext");
    issue("$cd/client", 'chained-client', "$cd/inter", '0x6102');
    Test::Moongate::Certs::spew("$cd/client-chain.crt", Test::Moongate::slurp("$cd/client.crt")
                                . Test::Moongate::slurp("$cd/inter.crt"));
    Test::Moongate::Certs::spew("$cd/trusted.crt", Test::Moongate::slurp("$cd/inter.crt")
                                . Test::Moongate::slurp("$dir/ca.crt"));
    Test::Moongate::Certs::spew("$cd/done", '');
}
$ENV{TEST_NGINX_TLS_PORT} = Test::Moongate::find_free_port();
Test::Moongate::env_port('TEST_NGINX_STREAM_PORT');

# the upstream: asks for a client certificate, knows only the root CA
our $Upstream = <<'EOC';
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        ssl_verify_client optional_no_ca;
        ssl_verify_depth 2;
        ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        location / { return 200 "$ssl_client_s_dn $ssl_client_verify\n"; }
    }
EOC

run_tests();

__DATA__

=== TEST 1: the certificate alone: the intermediate in proxy_ssl_trusted_certificate is not sent
--- http_config eval: $main::Upstream
--- config
    location / {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/chain531/client.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/chain531/client.key;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/chain531/trusted.crt;
        proxy_ssl_verify on;
        proxy_ssl_name localhost;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- request
GET /
--- response_body
CN=chained-client FAILED:unable to verify the first certificate



=== TEST 2: the intermediate in the certificate's file is sent
--- http_config eval: $main::Upstream
--- config
    location / {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/chain531/client-chain.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/chain531/client.key;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/chain531/trusted.crt;
        proxy_ssl_verify on;
        proxy_ssl_name localhost;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- request
GET /
--- response_body
CN=chained-client SUCCESS



=== TEST 3: a certificate named by a variable, alone: the intermediate is not sent
--- http_config eval: $main::Upstream
--- config
    location / {
        set $cert client;
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/chain531/$cert.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/chain531/$cert.key;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/chain531/trusted.crt;
        proxy_ssl_verify on;
        proxy_ssl_name localhost;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- request
GET /
--- response_body
CN=chained-client FAILED:unable to verify the first certificate



=== TEST 4: stream proxy_ssl_certificate alone: the intermediate is not sent
--- http_config eval: $main::Upstream
--- stream_config
    server {
        listen 127.0.0.1:$TEST_NGINX_STREAM_PORT;
        proxy_ssl on;
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/chain531/client.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/chain531/client.key;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/chain531/trusted.crt;
        proxy_ssl_verify on;
        proxy_ssl_name localhost;
        proxy_pass 127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STREAM_PORT;
    }
--- request
GET /
--- response_body
CN=chained-client FAILED:unable to verify the first certificate
