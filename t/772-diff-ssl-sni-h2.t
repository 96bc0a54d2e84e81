# Found by running the same configs on nginx 1.22 and moongate (issue 13): an h2 connection
# over TLS is the server SNI named's (nginx's conf_ctx): its SETTINGS
# (http2_max_concurrent_streams), its streams' header limits (large_client_header_buffers),
# keepalive_requests, keepalive_timeout and error_log are that server's, not the address's
# default server's. Before the first stream the timer is still the default server's
# client_header_timeout (nginx's from accept, before SNI).
#
#   prove -I t/lib t/772-diff-ssl-sni-h2.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/772-diff-ssl-sni-h2.t
use Test::Moongate;
use Test::Moongate::Certs;
use Test::Moongate::H2;

Test::Moongate::Certs::make();
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(ssl => '');
    $block->set_value(listen_options => 'default_server http2');
    $block->set_value(http_config => <<'CONF');
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl http2;
        server_name a.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/a.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/a.test.key;
        http2_max_concurrent_streams 7;
        large_client_header_buffers 2 1k;
        keepalive_requests 2;
        keepalive_timeout 3s;
        client_header_timeout 1s;
        location / { return 200 "a\n"; }
    }
CONF
    $block->set_value(config => <<'CONF');
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    error_log $TEST_NGINX_SERVROOT/logs/default.log info;
    client_header_timeout 60s;
    location / { return 200 "default\n"; }
CONF
});

run_tests();

__DATA__

=== TEST 1: the SNI server's http2_max_concurrent_streams in SETTINGS
--- h2_py
for sni in ('a.test', 'zz.test'):
    c = Client($TEST_NGINX_SERVER_PORT, tls=True, sni=sni)
    c.run(lambda: c.settings, timeout=10)
    print(sni, c.conn.remote_settings.max_concurrent_streams)
--- h2_out
a.test 7
zz.test 128



=== TEST 2: a header field over the SNI server's large_client_header_buffers ends the connection
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT, tls=True, sni='a.test')
s = c.request('/', headers=[('x-long', '0' * 3000)])
c.wait(s)
print(c.streams[s].status, c.goaway)
c = Client($TEST_NGINX_SERVER_PORT, tls=True, sni='zz.test')
s = c.request('/', headers=[('x-long', '0' * 3000)])
c.wait(s)
print(c.streams[s].status, c.goaway)
--- h2_out
None (1, 11)
200 None
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 3: the SNI server's keepalive_requests, whatever the :authority
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT, tls=True, sni='a.test')
for i in range(3):
    s = c.request('/')
    c.wait(s)
    print(c.streams[s].status, c.streams[s].body)
print(c.goaway)
--- h2_out
200 b'default\n'
200 b'default\n'
None b''
(3, 0)



=== TEST 4: the SNI server's keepalive_timeout after a stream; the default's timer before one
--- h2_py
import time
c = Client($TEST_NGINX_SERVER_PORT, tls=True, sni='a.test')
s = c.request('/')
c.wait(s)
c.run(timeout=15)
print('after a stream: closed', c.closed, c.goaway)
c = Client($TEST_NGINX_SERVER_PORT, tls=True, sni='a.test')
c.run(timeout=2.5)
print('before one: closed', c.closed)
--- h2_out
after a stream: closed True (1, 0)
before one: closed False
