# The certificate chain sent is the one in the certificate's file, as in nginx: when the file
# holds the certificate alone, none is built from the trusted certificates (ssl_trusted_
# certificate, ssl_client_certificate; proxy_ssl_trusted_certificate for a client
# certificate). OpenSSL builds one whenever a certificate has no chain set, at every full
# handshake, which also cost each handshake a chain verification.
#
#   prove -I t/lib t/530-ssl-chain.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/530-ssl-chain.t
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
$ENV{TEST_NGINX_TLS_PORT} = Test::Moongate::find_free_port();

# the certificates the server sent, as `openssl s_client -showcerts` shows them
sub sent_certs {
    my $port = $Test::Moongate::ServerPort;
    my $out = `timeout 10 openssl s_client -connect 127.0.0.1:$port -servername localhost -showcerts < /dev/null 2>&1`;
    my @certs = $out =~ /^-----BEGIN CERTIFICATE-----$/mg;
    return scalar @certs;
}

run_tests();

__DATA__

=== TEST 1: the CA in ssl_client_certificate is not sent after a certificate alone
--- ssl
--- config
    ssl_verify_client optional;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::sent_certs(), 1, "the certificate alone");
--- request
GET /
--- response_body
ok



=== TEST 2: nor the CA in ssl_trusted_certificate
--- ssl
--- config
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::sent_certs(), 1, "the certificate alone");
--- request
GET /
--- response_body
ok



=== TEST 3: a chain in the certificate's file is sent
--- ssl
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/chain.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::sent_certs(), 2, "the certificate and the CA after it");
--- request
GET /
--- response_body
ok



=== TEST 4: nor after ssl_certificate_by_lua's certificate alone
clear_certs leaves no chain set, and the one set_der_cert gives has none after the
certificate: OpenSSL would build one from the trusted certificates but for
SSL_MODE_NO_AUTO_CHAIN, which nginx's contexts say too.
--- ssl
--- config
    ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        local function slurp(f)
            local fh = assert(io.open("$TEST_NGINX_CERT_DIR/" .. f))
            local s = fh:read("*a")
            fh:close()
            return s
        end
        assert(ssl.clear_certs())
        assert(ssl.set_der_cert(assert(ssl.cert_pem_to_der(slurp("localhost.crt")))))
        assert(ssl.set_der_priv_key(assert(ssl.priv_key_pem_to_der(slurp("localhost.key")))))
    }
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::sent_certs(), 1, "the certificate alone");
--- request
GET /
--- response_body
ok



=== TEST 5: a client certificate alone: the CA of proxy_ssl_trusted_certificate is not sent
The upstream knows no CA (optional_no_ca): its verdict names what the client sent, the
certificate alone (its issuer unknown) or with the self-signed CA after it.
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        ssl_verify_client optional_no_ca;
        location / { return 200 "$ssl_client_s_dn $ssl_client_verify\n"; }
    }
--- config
    location / {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/client.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/client.key;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
--- request
GET /
--- response_body
CN=client FAILED:unable to verify the first certificate
