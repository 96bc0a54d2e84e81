# Found by running the same configs on nginx and moongate: $ssl_client_* variables nginx has
# and moongate did not know (a config naming them did not start): the legacy one-line DNs,
# the certificate's validity dates as OpenSSL prints them, and the days it has left.
#
#   prove -I t/lib t/945-diff-ssl-vars.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/945-diff-ssl-vars.t

use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
run_tests();

__DATA__

=== TEST 1: a verified client certificate: legacy DNs, validity dates, days left
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / {
        return 200 "$ssl_client_s_dn_legacy|$ssl_client_i_dn_legacy|$ssl_client_v_start|$ssl_client_v_end|$ssl_client_v_remain\n";
    }
--- request
GET /
--- response_body_like chomp
^/CN=client\|/CN=Moongate Test CA\|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT\|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT\|\d+$



=== TEST 2: without a client certificate they are empty
--- ssl
--- config
    location / {
        return 200 "[$ssl_client_s_dn_legacy|$ssl_client_i_dn_legacy|$ssl_client_v_start|$ssl_client_v_end|$ssl_client_v_remain]\n";
    }
--- request
GET /
--- response_body
[||||]
