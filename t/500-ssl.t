# HTTPS (ngx_http_ssl_module): listen ... ssl, certificates, SNI choosing the server, the
# $ssl_* variables, plain HTTP sent to the TLS port (497), client certificates (495/496) and
# the configuration errors -t reports. Certificates: t/lib/Test/Moongate/Certs.pm.
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');
run_tests();

__DATA__

=== TEST 1: a request over TLS; $scheme, $https, $ssl_protocol (nginx 1.22's default protocols: up to TLSv1.2), $ssl_server_name
--- ssl
--- config
    location /t {
        return 200 "$scheme $https $ssl_protocol $ssl_server_name $ssl_session_reused\n";
    }
--- request
GET /t
--- response_body
https on TLSv1.2 localhost .



=== TEST 2: a static file over TLS, sendfile on (TLS reads the file instead)
--- ssl
--- config
    sendfile on;
    location / { root html; }
--- user_files
>>> big.txt
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz
--- request
GET /big.txt
--- response_body
0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz



=== TEST 3: a 600 KB file over TLS streams whole
--- ssl
--- config
    location / { root html; }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/large.txt" or die $!;
print $fh "0123456789" x 60000;
close $fh;
--- request
GET /large.txt
--- response_body_like chomp
\A(?:0123456789){60000}\z
--- timeout: 10



=== TEST 4: keepalive and pipelining over TLS
--- ssl
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    location /t { return 200 "$request_uri $ssl_protocol\n"; }
--- pipelined_requests eval
["GET /t?1", "GET /t?2", "GET /t?3"]
--- response_body eval
["/t?1 TLSv1.3\n", "/t?2 TLSv1.3\n", "/t?3 TLSv1.3\n"]



=== TEST 5: SNI chooses the server and its certificate; Host decides the request's server
--- ssl: sni=a.test
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        location / { return 200 "a: $ssl_server_name $host\n"; }
    }
--- config
    location / { return 200 "localhost: $ssl_server_name $host\n"; }
--- request eval
["GET /", "GET /"]
--- more_headers eval
["Host: a.test", "Host: localhost"]
--- response_body eval
["a: a.test a.test\n", "localhost: a.test localhost\n"]



=== TEST 6: no SNI: the default server; $ssl_server_name empty
--- ssl: sni=-
--- config
    location / { return 200 "[$ssl_server_name]\n"; }
--- request
GET /
--- response_body
[]



=== TEST 7: plain HTTP to a TLS port: nginx's 400 page, logged at info
--- ssl: plain
--- config
    location / { return 200 "no\n"; }
--- request
GET /
--- error_code: 400
--- response_body_like chomp
The plain HTTP request was sent to HTTPS port
--- error_log
client sent plain HTTP request to HTTPS port while reading client request headers



=== TEST 8: error_page 497 sends plain HTTP clients to https
--- ssl: plain
--- config
    error_page 497 =301 https://$host:$server_port$request_uri;
    location / { return 200 "no\n"; }
--- request
GET /x?y=1
--- error_code: 301
--- response_headers_like
Location: https://localhost:\d+/x\?y=1



=== TEST 9: ssl_verify_client on without a certificate: 496
--- ssl
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- response_body_like chomp
No required SSL certificate was sent
--- error_log
client sent no required SSL certificate



=== TEST 10: a client certificate the CA signed: the client variables
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / {
        return 200 "$ssl_client_verify|$ssl_client_s_dn|$ssl_client_i_dn|$ssl_client_serial\n";
    }
--- request
GET /
--- response_body_like chomp
^SUCCESS\|CN=client\|CN=Moongate Test CA\|[0-9A-F]+$



=== TEST 11: a self-signed client certificate under "optional": 495
--- ssl: cert=self.crt key=self.key
--- config
    ssl_verify_client optional;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- response_body_like chomp
The SSL certificate error
--- error_log
client SSL certificate verify error: (18:self-signed certificate) while reading client request headers



=== TEST 12: optional_no_ca lets it through; $ssl_client_verify says why it failed
--- ssl: cert=self.crt key=self.key
--- config
    ssl_verify_client optional_no_ca;
    location / { return 200 "$ssl_client_verify $ssl_client_s_dn\n"; }
--- request
GET /
--- response_body
FAILED:self-signed certificate CN=self



=== TEST 13: "optional" with no certificate: NONE
--- ssl
--- config
    ssl_verify_client optional;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_verify [$ssl_client_s_dn]\n"; }
--- request
GET /
--- response_body
NONE []



=== TEST 14: a revoked client certificate with ssl_crl: 495
--- ssl: cert=revoked.crt key=revoked.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    ssl_crl $TEST_NGINX_CERT_DIR/ca-crl.pem;
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- error_code: 400
--- error_log
client SSL certificate verify error: (23:certificate revoked)



=== TEST 15: $ssl_client_escaped_cert is the PEM, URL-escaped
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_escaped_cert\n"; }
--- request
GET /
--- response_body_like chomp
^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%]+%0A-----END%20CERTIFICATE-----%0A$



=== TEST 16: $ssl_client_fingerprint is the certificate's SHA-1
--- ssl: cert=client.crt key=client.key
--- config
    ssl_verify_client on;
    ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location / { return 200 "$ssl_client_fingerprint\n"; }
--- request
GET /
--- response_body eval
my $f = `openssl x509 -in $ENV{TEST_NGINX_CERT_DIR}/client.crt -noout -fingerprint -sha1`;
$f =~ s/.*=//; $f =~ s/://g; lc($f)



=== TEST 17: the key in a file encrypted, its password the second line of ssl_password_file
--- ssl
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost-enc.key;
    ssl_password_file $TEST_NGINX_CERT_DIR/passwords.txt;
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok



=== TEST 18: "listen ... ssl" with no certificate
--- ssl
--- config
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
--- must_die
--- error_log eval
qr/no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive in \S+:\d+/



=== TEST 19: a certificate file that does not exist
--- ssl
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/nonexistent.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
--- must_die
--- error_log eval
qr/cannot load certificate "\S+nonexistent.crt": BIO_new_file\(\) failed \(SSL: error:80000002:system library::No such file or directory/



=== TEST 20: a certificate without its key
--- ssl
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
--- must_die
--- error_log eval
qr/no "ssl_certificate_key" is defined for certificate "\S+localhost.crt"/



=== TEST 21: a key that is not the certificate's
--- ssl
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
--- must_die
--- error_log eval
qr/SSL_CTX_use_PrivateKey\("\S+a.test.key"\) failed \(SSL: .*key values mismatch/



=== TEST 22: an encrypted key and no password
--- ssl
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost-enc.key;
--- must_die
--- error_log eval
qr/cannot load certificate key "\S+localhost-enc.key": PEM_read_bio_PrivateKey\(\) failed/



=== TEST 23: a PEM that is not a certificate
--- ssl
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/passwords.txt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
--- must_die
--- error_log eval
qr/cannot load certificate "\S+passwords.txt": PEM_read_bio_X509_AUX\(\) failed/



=== TEST 24: bad values
--- ssl
--- config
    ssl_protocols TLSv1.2 TLSv9;
--- must_die
--- error_log eval
qr/invalid value "TLSv9" in \S+:\d+/



=== TEST 25: bad session cache
--- ssl
--- config
    ssl_session_cache shared:x;
--- must_die
--- error_log eval
qr/invalid session cache "shared:x" in \S+:\d+/



=== TEST 26: ssl_verify_client's values
--- ssl
--- config
    ssl_verify_client maybe;
--- must_die
--- error_log eval
qr/invalid value "maybe" in \S+:\d+/



=== TEST 27: ssl_protocols limits the handshake: TLSv1.2 only
--- ssl
--- config
    ssl_protocols TLSv1.2;
    location / { return 200 "$ssl_protocol\n"; }
--- request
GET /
--- response_body
TLSv1.2



=== TEST 28: data: certificates and keys (PEM text in the directive)
--- ssl
--- config eval
my $d = $ENV{TEST_NGINX_CERT_DIR};
my ($c, $k) = map { local $/; open my $f, '<', "$d/$_" or die; scalar <$f> } qw(localhost.crt localhost.key);
"    ssl_certificate \"data:$c\";\n    ssl_certificate_key \"data:$k\";\n"
. "    location / { return 200 \"ok\\n\"; }\n"
--- request
GET /
--- response_body
ok



=== TEST 29: SNI chose a server, the Host names none: the default server answers (nginx 1.22)
--- ssl: sni=localhost
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        location / { return 200 "a (the default) $ssl_server_name\n"; }
    }
--- config
    location / { return 200 "localhost\n"; }
--- request
GET /
--- more_headers
Host: unknown.test
--- response_body
a (the default) localhost



=== TEST 30: a server checking client certificates refuses a Host other than the SNI name: 421
--- ssl: sni=localhost
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        ssl_verify_client optional;
        ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        location / { return 200 "a\n"; }
    }
--- config
    location / { return 200 "default\n"; }
--- request
GET /
--- more_headers
Host: a.test
--- error_code: 421
--- error_log
client attempted to request the server name different from the one that was negotiated while reading client request headers



=== TEST 31: the deprecated "ssl on" makes the server's addresses speak TLS, with nginx's warning
--- ssl: plain_listen
--- config
    ssl on;
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    location / { return 200 "$https\n"; }
--- request
GET /
--- response_body
on



=== TEST 32: "ssl on" without a certificate
--- ssl: plain_listen
--- config
    ssl on;
--- must_die
--- error_log eval
[qr/\[warn\].*the "ssl" directive is deprecated, use the "listen \.\.\. ssl" directive instead in \S+:\d+/,
 qr/no "ssl_certificate" is defined for the "ssl" directive in \S+:\d+/]
