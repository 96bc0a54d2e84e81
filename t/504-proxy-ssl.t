# proxy_pass https://: TLS to the upstream (a second server{} of the same configuration
# listening with "ssl" plays the upstream), SNI and proxy_ssl_name, verification of the
# upstream's certificate and nginx's error lines, client certificates (mTLS) with a password
# file, session reuse, the keepalive pool, request bodies, large and streamed responses,
# WebSocket through an https upstream and on a TLS client connection, and the handshake
# under proxy_connect_timeout. Certificates: t/lib/Test/Moongate/Certs.pm.
#
#   prove -I t/lib t/504-proxy-ssl.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/504-proxy-ssl.t

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use Test::Moongate;
use Test::Moongate::Certs;
use Test::MoongateBackend;

Test::Moongate::Certs::make();
backend(echo => 'echo');
backend(ws => 'websocket');
$ENV{TEST_NGINX_TLS_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_TLS2_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_TLS3_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_PLAIN_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_TLS4_PORT} = Test::Moongate::find_free_port();
# a socket that listens and never accepts: a TCP connect succeeds, the TLS handshake stalls
our $Mute = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1,
                                  Proto => 'tcp') or die "listen: $!";
$ENV{TEST_NGINX_MUTE_PORT} = $Mute->sockport;

# the upstream: TLS with the localhost certificate (the CA signed it), one with an expired one
our $Upstream = <<'EOF';
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        server_name localhost;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        keepalive_requests 100;
        location / {
            return 200 "sni=[$ssl_server_name] $ssl_protocol reused=$ssl_session_reused req=$connection_requests host=$host\n";
        }
        location /echo {
            proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
        }
        location /ws {
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_pass http://127.0.0.1:$TEST_NGINX_WS_PORT;
        }
        location /files/ { alias html/; }
        location /cipher { return 200 "$ssl_protocol $ssl_cipher\n"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS2_PORT ssl;
        server_name localhost;
        ssl_certificate $TEST_NGINX_CERT_DIR/expired.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/expired.key;
        location / { return 200 "expired\n"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS3_PORT ssl;
        server_name localhost;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        ssl_verify_client optional;
        ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        location /mtls {
            if ($ssl_client_verify != SUCCESS) { return 403 "no client certificate\n"; }
            return 200 "client=[$ssl_client_s_dn]\n";
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_PLAIN_PORT;
        location / { return 200 "plain\n"; }
    }
EOF

our $Upgrade = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

our $WsLocation = <<'EOF';
    location /ws {
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
EOF

# the upgrade, then messages echoed through the tunnel
sub ws_exchange {
    my ($s, $name) = @_;
    client_send($s, $Upgrade);
    my $got = client_read($s, qr/\r\n\r\n.*hello\n/s, 3);
    Test::More::like($got, qr{\AHTTP/1\.1 101 }, "$name: 101");
    Test::More::like($got, qr/\r\n\r\nhello\n\z/, "$name: the upstream's greeting");
    for my $msg ("ping 1\n", "y" x 40000) {
        client_send($s, $msg);
        Test::More::is(scalar client_read($s, length $msg, 3), $msg,
                       "$name: echoed " . length($msg) . ' bytes');
    }
}

log_level('info');

run_tests();

__DATA__

=== TEST 1: proxy_pass https://: no SNI by default, the upstream's variables, $upstream_addr and $proxy_host
--- http_config eval: $main::Upstream
--- config
    location /t {
        add_header X-Addr $upstream_addr;
        add_header X-Status $upstream_status;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
--- request
GET /t
--- response_body_like: ^sni=\[\] TLSv1\.2 reused=\. req=1 host=127\.0\.0\.1$
--- response_headers_like
X-Addr: 127\.0\.0\.1:\d+
X-Status: 200



=== TEST 2: proxy_ssl_server_name on with proxy_ssl_name; proxy_ssl_protocols TLSv1.3
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_server_name on;
        proxy_ssl_name a.test;
        proxy_ssl_protocols TLSv1.3;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
--- request
GET /t
--- response_body_like: ^sni=\[a\.test\] TLSv1\.3 



=== TEST 3: an upstream{} group: the name sent is $proxy_host (the group's name), port 443 is the https default
--- http_config eval
$main::Upstream . <<'EOF';
    upstream backend.test { server 127.0.0.1:$TEST_NGINX_TLS_PORT; }
EOF
--- config
    location /t {
        proxy_ssl_server_name on;
        proxy_pass https://backend.test/;
    }
--- request
GET /t
--- response_body_like: ^sni=\[backend\.test\] .* host=backend\.test$



=== TEST 4: proxy_ssl_verify on: the CA signed it and the name matches
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        proxy_ssl_name localhost;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
--- request
GET /t
--- response_body_like: ^sni=\[\] 
--- no_error_log
[error]



=== TEST 5: an issuer nobody trusts: 502, nginx's verify error line
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/self.crt;
        proxy_ssl_name localhost;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
--- request
GET /t
--- error_code: 502
--- error_log
upstream SSL certificate verify error: (21:unable to verify the first certificate) while SSL handshaking to upstream



=== TEST 6: an expired certificate: 502
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        proxy_ssl_name localhost;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS2_PORT/;
    }
--- request
GET /t
--- error_code: 502
--- error_log
upstream SSL certificate verify error: (10:certificate has expired) while SSL handshaking to upstream



=== TEST 7: the certificate is not for the name: 502
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        proxy_ssl_name b.test;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
--- request
GET /t
--- error_code: 502
--- error_log
upstream SSL certificate does not match "b.test" while SSL handshaking to upstream



=== TEST 8: verification off (the default) accepts the expired certificate
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS2_PORT/;
    }
--- request
GET /t
--- response_body
expired



=== TEST 9: proxy_ssl_verify without proxy_ssl_trusted_certificate stops the configuration
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_verify on;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
--- must_die
--- error_log
no proxy_ssl_trusted_certificate for proxy_ssl_verify



=== TEST 10: a client certificate (mTLS); sessions not reused, so each connection shows its own
--- http_config eval: $main::Upstream
--- config
    proxy_ssl_session_reuse off;
    location /t {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/client.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/client.key;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS3_PORT/mtls;
    }
    location /none {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS3_PORT/mtls;
    }
--- request eval
["GET /t", "GET /none"]
--- error_code eval
[200, 403]
--- response_body eval
["client=[CN=client]\n", "no client certificate\n"]



=== TEST 11: an encrypted client key with proxy_ssl_password_file (the second password opens it)
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost-enc.key;
        proxy_ssl_password_file $TEST_NGINX_CERT_DIR/passwords.txt;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS3_PORT/mtls;
    }
--- request
GET /t
--- response_body
client=[CN=localhost]



=== TEST 12: proxy_ssl_session_reuse (on by default): the second connection resumes the session
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
    location /off {
        proxy_ssl_session_reuse off;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
--- request eval
["GET /t", "GET /t", "GET /off", "GET /off"]
--- response_body_like eval
[qr/ reused=\. /, qr/ reused=r /, qr/ reused=\. /, qr/ reused=\. /]



=== TEST 13: TLS connections kept alive in the upstream pool
--- http_config eval
$main::Upstream . <<'EOF';
    upstream tls {
        server 127.0.0.1:$TEST_NGINX_TLS_PORT;
        keepalive 4;
    }
EOF
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass https://tls/;
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
[qr/ req=1 /, qr/ req=2 /, qr/ req=3 /]



=== TEST 14: a request body over TLS (buffered and unbuffered), 200 KB back from the upstream
--- http_config eval: $main::Upstream
--- config
    location /echo {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
    location /stream {
        proxy_request_buffering off;
        proxy_http_version 1.1;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/echo;
    }
--- request eval
["POST /echo\n" . ("x" x 200000), "POST /stream\n" . ("z" x 200000)]
--- response_body_like eval
[qr/\r?\n\r?\n(?:x{1000}){200}\z/s, qr/\r?\n\r?\n(?:z{1000}){200}\z/s]
--- timeout: 10



=== TEST 15: a large response streams through (buffered, and with proxy_buffering off)
--- http_config eval: $main::Upstream
--- config
    location /files/ {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
    location /unbuf/ {
        proxy_buffering off;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/files/;
    }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/big.txt" or die $!;
print $fh "0123456789" x 300000;
close $fh;
--- request eval
["GET /files/big.txt", "GET /unbuf/big.txt"]
--- response_body_like eval
[qr/\A(?:(?:0123456789){1000}){300}\z/, qr/\A(?:(?:0123456789){1000}){300}\z/]
--- timeout: 10



=== TEST 16: a plain HTTP upstream behind https://: the handshake fails, 502
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_pass https://127.0.0.1:$TEST_NGINX_PLAIN_PORT;
    }
--- request
GET /t
--- error_code: 502
--- error_log eval
qr/\[error\] .*SSL_do_handshake\(\) failed .* while SSL handshaking to upstream/



=== TEST 17: proxy_connect_timeout covers the handshake: 504
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_connect_timeout 500ms;
        proxy_pass https://127.0.0.1:$TEST_NGINX_MUTE_PORT;
    }
--- request
GET /t
--- error_code: 504
--- error_log
upstream timed out (110: Connection timed out) while SSL handshaking to upstream



=== TEST 18: WebSocket through an https upstream
--- http_config eval: $main::Upstream
--- config eval: $main::WsLocation
--- init
my $s = client_connect();
main::ws_exchange($s, 'TEST 18');
--- request
GET /nothing
--- error_code: 404



=== TEST 19: WebSocket on a TLS client connection through an https upstream
--- ssl
--- http_config eval: $main::Upstream
--- config eval
"ssl_certificate $ENV{TEST_NGINX_CERT_DIR}/localhost.crt;\n"
. "ssl_certificate_key $ENV{TEST_NGINX_CERT_DIR}/localhost.key;\n" . $main::WsLocation
--- init
require IO::Socket::SSL;
my $s = client_connect();
IO::Socket::SSL->start_SSL($s, SSL_verify_mode => 0, SSL_hostname => 'localhost')
    or die "TLS: $IO::Socket::SSL::SSL_ERROR";
main::ws_exchange($s, 'TEST 19');
--- request
GET /nothing
--- error_code: 404



=== TEST 20: proxy_pass https:// with variables
--- http_config eval: $main::Upstream
--- config
    location /t {
        set $up 127.0.0.1:$TEST_NGINX_TLS_PORT;
        proxy_ssl_server_name on;
        proxy_ssl_name b.test;
        proxy_set_header Host b.test;
        proxy_pass https://$up/;
    }
--- request
GET /t
--- response_body_like: ^sni=\[b\.test\] .* host=b\.test$


=== TEST 21: a session made with a client certificate is not resumed by a location without one
--- moongate_only: nginx resumes the peer's last session whatever the location's proxy_ssl_* settings, client identity included
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/client.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/client.key;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS3_PORT/mtls;
    }
    location /none {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS3_PORT/mtls;
    }
--- request eval
["GET /t", "GET /none"]
--- error_code eval
[200, 403]
--- response_body eval
["client=[CN=client]\n", "no client certificate\n"]



=== TEST 22: one upstream{} used with https:// and http://: a kept TLS connection never serves the plain location
--- moongate_only: nginx's keepalive pool matches the address only, and hands the TLS connection to the plain location
--- http_config eval
$main::Upstream . <<'EOF';
    upstream both {
        server 127.0.0.1:$TEST_NGINX_TLS_PORT;
        keepalive 4;
    }
EOF
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    location /tls { proxy_pass https://both/; }
    location /plain { proxy_pass http://both/; }
--- request eval
["GET /tls", "GET /plain", "GET /tls"]
--- error_code eval
[200, 400, 200]
--- response_body_like eval
[qr/ req=1 /, qr/The plain HTTP request was sent to HTTPS port/, qr/ req=2 /]



=== TEST 23: proxy_ssl_crl: a revoked server certificate fails, a good one passes
--- http_config eval
$main::Upstream . <<'EOF';
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS4_PORT ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/revoked.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/revoked.key;
        location / { return 200 "revoked\n"; }
    }
EOF
--- config
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    proxy_ssl_crl $TEST_NGINX_CERT_DIR/ca-crl.pem;
    location /good {
        proxy_ssl_name localhost;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
    location /revoked {
        proxy_ssl_name revoked;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS4_PORT/;
    }
--- request eval
["GET /good", "GET /revoked"]
--- error_code eval
[200, 502]
--- error_log
upstream SSL certificate verify error: (23:certificate revoked) while SSL handshaking to upstream



=== TEST 24: proxy_ssl_ciphers and proxy_ssl_conf_command
--- http_config eval: $main::Upstream
--- config
    location /ciphers {
        proxy_ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/cipher;
    }
    location /cmd {
        proxy_ssl_protocols TLSv1.2 TLSv1.3;
        proxy_ssl_conf_command MaxProtocol TLSv1.2;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/cipher;
    }
    location /tls13 {
        proxy_ssl_protocols TLSv1.2 TLSv1.3;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/cipher;
    }
--- request eval
["GET /ciphers", "GET /cmd", "GET /tls13"]
--- response_body_like eval
[qr/^TLSv1\.2 ECDHE-RSA-AES128-GCM-SHA256$/, qr/^TLSv1\.2 /, qr/^TLSv1\.3 /]



=== TEST 25: a proxy_ssl_trusted_certificate that cannot be read stops the configuration
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate /nonexistent/ca.crt;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
--- must_die
--- error_log
SSL_CTX_load_verify_locations("/nonexistent/ca.crt") failed



=== TEST 26: $upstream_connect_time includes the handshake; $upstream_addr and status of a TLS try that failed and one that worked
--- http_config eval
$main::Upstream . <<'EOF';
    upstream two {
        server 127.0.0.1:$TEST_NGINX_PLAIN_PORT;
        server 127.0.0.1:$TEST_NGINX_TLS_PORT;
    }
EOF
--- config
    location /t {
        add_header X-Addr $upstream_addr;
        add_header X-Status $upstream_status;
        add_header X-Connect $upstream_connect_time;
        proxy_pass https://two/;
    }
--- request
GET /t
--- response_headers_like
X-Addr: 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+
X-Status: 502, 200
X-Connect: (?:\d+\.\d{3}|-), \d+\.\d{3}



=== TEST 27: proxy_ssl_certificate with variables: each request's pair (nginx >= 1.21)
--- http_config eval: $main::Upstream
--- config
    proxy_ssl_session_reuse off;
    location /t {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/$arg_who.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/$arg_who.key;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS3_PORT/mtls;
    }
--- request eval
["GET /t?who=client", "GET /t?who=a.test", "GET /t?who=client"]
--- response_body eval
["client=[CN=client]\n", "client=[CN=a.test]\n", "client=[CN=client]\n"]



=== TEST 27a: ... and with proxy_ssl_session_reuse on (the default) too: no session is resumed
# moongate_only: nginx 1.22 resumes the session of the previous request, so the upstream sees
# the earlier request's certificate ("CN=client" for the second request)
--- moongate_only
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/$arg_who.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/$arg_who.key;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS3_PORT/mtls;
    }
--- request eval
["GET /t?who=client", "GET /t?who=a.test", "GET /t?who=client"]
--- response_body eval
["client=[CN=client]\n", "client=[CN=a.test]\n", "client=[CN=client]\n"]



=== TEST 27b: ... and through an upstream with keepalive: a connection is never another request's
# moongate_only: nginx 1.22 hands the second request the kept-alive connection of the first,
# so the upstream sees "CN=client" again
--- moongate_only
--- http_config eval
$main::Upstream . q{
    upstream tls3 {
        server 127.0.0.1:$TEST_NGINX_TLS3_PORT;
        keepalive 4;
    }
}
--- config
    proxy_ssl_session_reuse off;
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/$arg_who.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/$arg_who.key;
        proxy_pass https://tls3/mtls;
    }
--- request eval
["GET /t?who=client", "GET /t?who=a.test", "GET /t?who=client"]
--- response_body eval
["client=[CN=client]\n", "client=[CN=a.test]\n", "client=[CN=client]\n"]



=== TEST 28: proxy_ssl_certificate with variables naming no file: 500, nginx's line
--- http_config eval: $main::Upstream
--- config
    location /t {
        proxy_ssl_certificate $TEST_NGINX_CERT_DIR/$arg_who.crt;
        proxy_ssl_certificate_key $TEST_NGINX_CERT_DIR/$arg_who.key;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS3_PORT/mtls;
    }
--- request
GET /t?who=nobody
--- error_code: 500
--- error_log eval
qr/\[error\] .*cannot load certificate "\S+\/nobody\.crt": BIO_new_file\(\) failed/
