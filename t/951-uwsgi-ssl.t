# "uwsgi_pass suwsgi://" and the uwsgi_ssl_* directives: the uwsgi protocol over TLS to
# Debian's uwsgi (--suwsgi-socket with t/wsgi/app.py), the same client side as proxy_ssl_*
# (modules/proxy_ssl.c): verification against a trusted CA with the name given, nginx's
# verify error line and 502 for an issuer nobody trusts, and the configuration's errors.
#
#   prove -I t/lib t/951-uwsgi-ssl.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/951-uwsgi-ssl.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::Certs;
use Test::MoongateDaemon;

daemon_skip_unless('uwsgi', '/usr/lib/uwsgi/plugins/python3_plugin.so');

Test::Moongate::Certs::make();
$ENV{TEST_NGINX_CONF_SRC} = "$FindBin::Bin/../conf";
my $certs = $ENV{TEST_MOONGATE_CERT_DIR};

daemon(suwsgi => wsgi_app('suwsgi', ",$certs/localhost.crt,$certs/localhost.key"));

run_tests();

__DATA__

=== TEST 1: suwsgi://: the application answers over TLS
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_param PATH_INFO /env;
        uwsgi_pass suwsgi://127.0.0.1:$TEST_NGINX_SUWSGI_PORT;
    }
--- request
GET /x?a=1
--- response_body_like eval
qr{^REQUEST_METHOD=GET\nREQUEST_URI=/x\?a=1\n}



=== TEST 2: uwsgi_ssl_verify with the CA trusted and the certificate's name
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_param PATH_INFO /env;
        uwsgi_ssl_verify on;
        uwsgi_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        uwsgi_ssl_name localhost;
        uwsgi_pass suwsgi://127.0.0.1:$TEST_NGINX_SUWSGI_PORT;
    }
--- request
GET /v
--- response_body_like eval
qr{^REQUEST_METHOD=GET\nREQUEST_URI=/v\n}



=== TEST 3: an issuer nobody trusts: 502, nginx's verify error line
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_ssl_verify on;
        uwsgi_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/self.crt;
        uwsgi_ssl_name localhost;
        uwsgi_pass suwsgi://127.0.0.1:$TEST_NGINX_SUWSGI_PORT;
    }
--- request
GET /v
--- error_code: 502
--- error_log
upstream SSL certificate verify error: (21:unable to verify the first certificate) while SSL handshaking to upstream



=== TEST 4: uwsgi_ssl_verify without a trusted certificate
--- config
    location / {
        uwsgi_ssl_verify on;
        uwsgi_pass suwsgi://127.0.0.1:$TEST_NGINX_SUWSGI_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*no uwsgi_ssl_trusted_certificate for uwsgi_ssl_verify(?! in)/



=== TEST 5: the uwsgi_ssl_* directives are taken at every level
--- http_config
    uwsgi_ssl_protocols TLSv1.2 TLSv1.3;
    uwsgi_ssl_ciphers DEFAULT;
--- config
    uwsgi_ssl_session_reuse off;
    uwsgi_ssl_server_name on;
    location /t { uwsgi_ssl_verify_depth 2; return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
