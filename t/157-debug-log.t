# The debug log as an nginx user reads it (Debian's nginx is built --with-debug, and so is
# moongate by default): the lines where one looks while troubleshooting (accept, the request
# line and headers, the location test and the configuration used, the phases, finalize,
# keepalive, timers, close, the upstream's connect/send/recv and keepalive pool, the TLS
# handshake, a stream session's steps), worded as nginx's, and error_log's debug_core /
# debug_event / debug_http / debug_stream selecting those areas as nginx does (every level of
# message, and debug lines of the areas named only).
#
#   prove -I t/lib t/157-debug-log.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/157-debug-log.t
use Test::Moongate;
use Test::Moongate::Certs;
use Test::MoongateBackend;
use Test::MoongateTcp qw(tcp_server echo_serve exchange);

Test::Moongate::Certs::make();
backend(up => 'echo');
my $echo = tcp_server(\&echo_serve);
$ENV{TEST_NGINX_ECHO_PORT} = $echo;
$ENV{TEST_NGINX_STREAM_PORT} = Test::Moongate::find_free_port();

# the error log's lines matching re, once the server wrote them (bounded wait)
sub lines_like {
    my $re = shift;
    my @l;
    for (1 .. 50) {
        @l = grep { /$re/ } split /\n/, Test::Moongate::slurp(Test::Moongate::error_log_file()) // '';
        last if @l;
        Time::HiRes::sleep(0.1);
    }
    return scalar @l;
}

run_tests();

__DATA__

=== TEST 1: debug: a request's way, from accept to finalize
--- log_level: debug
--- config
    location = /t { return 200 "t\n"; }
    location / { return 404; }
--- request
GET /t?a=1
--- response_body
t
--- error_log eval
[qr/\[debug\] .*accept on 127\.0\.0\.1:\d+, ready: \d/,
 qr/\[debug\] \d+#\d+: \*\d+ accept: 127\.0\.0\.1:\d+ fd:\d+/,
 qr/\[debug\] .*event timer add: \d+: \d+:\d+/,
 qr/\[debug\] .*http request line: "GET \/t\?a=1 HTTP\/1\.[01]"/,
 qr/\[debug\] .*http args: "a=1"/,
 qr/\[debug\] .*http header: "Host: localhost"/,
 qr/\[debug\] .*http header done/,
 qr/\[debug\] .*test location: "[^"]*"/,
 qr/\[debug\] .*using configuration "=\/t"/,
 qr/\[debug\] .*rewrite phase: \d+/,
 qr/\[debug\] .*http finalize request: \d+, "\/t\?a=1"/,
 qr/\[debug\] .*http log handler/,
 qr/\[debug\] .*close http connection: \d+/,
 qr/\[debug\] .*reusable connection: [01]/]



=== TEST 2: a prefix and a regex location: the regex tested, then used
--- log_level: debug
--- config
    location /a/ { return 200 "a\n"; }
    location ~ \.txt$ { return 200 "txt\n"; }
--- request
GET /a/b.txt
--- response_body
txt
--- error_log eval
[qr/\[debug\] .*test location: ~ "\\\.txt\$"/,
 qr/\[debug\] .*using configuration "\\\.txt\$"/]



=== TEST 3: a static file: the phases to the content phase
--- log_level: debug
--- config
    location / { root html; }
--- user_files
>>> f.html
file
--- request
GET /f.html
--- response_body
file
--- error_log eval
[qr/\[debug\] .*post rewrite phase: \d+/,
 qr/\[debug\] .*content phase: \d+/]



=== TEST 4: keepalive: the keepalive handler is set after a request
--- log_level: debug
--- config
    location / { return 200 "ok\n"; }
--- pipelined_requests eval
["GET /1", "GET /2"]
--- response_body eval
["ok\n", "ok\n"]
--- error_log
set http keepalive handler



=== TEST 5: debug_http: the http lines, and none of the event or core areas
--- log_level: debug_http
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- response_body
t
--- error_log eval
[qr/\[debug\] .*http request line: "GET \/t HTTP\/1\.[01]"/,
 qr/\[debug\] .*using configuration "=\/t"/]
--- no_error_log eval
[qr/\[debug\] .*accept: 127\.0\.0\.1/, qr/\[debug\] .*event timer add/,
 qr/\[debug\] .*reusable connection/]



=== TEST 6: debug_event: accept and timers, no http lines
--- log_level: debug_event
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- response_body
t
--- error_log eval
[qr/\[debug\] .*accept: 127\.0\.0\.1:\d+ fd:\d+/, qr/\[debug\] .*event timer add: \d+/]
--- no_error_log eval
[qr/\[debug\] .*http request line/, qr/\[debug\] .*reusable connection/]



=== TEST 7: debug_core: the core's lines only
--- log_level: debug_core
--- config
    location = /t { return 200 "t\n"; }
--- request
GET /t
--- response_body
t
--- error_log eval
qr/\[debug\] .*reusable connection: [01]/
--- no_error_log eval
[qr/\[debug\] .*http request line/, qr/\[debug\] .*accept: 127\.0\.0\.1/]



=== TEST 8: debug_http still writes every level of message (nginx: masks pass all levels)
--- log_level: debug_http
--- config
    location = /t { return 404; }
--- request
GET /nothere
--- error_code: 404
--- error_log eval
qr/\[error\] .*open\(\) ".*nothere" failed/



=== TEST 9: an upstream: connect, send, the header read, the connection kept
--- log_level: debug_http
--- http_config
    upstream pool { server 127.0.0.1:$TEST_NGINX_UP_PORT; keepalive 4; }
--- config
    location / {
        proxy_pass http://pool;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }
--- request
GET /up
--- response_body_like
^GET /up HTTP/1\.1
--- error_log eval
[qr/\[debug\] .*http upstream connect: -?\d+/,
 qr/\[debug\] .*http upstream send request/,
 qr/\[debug\] .*http upstream process header/,
 qr/\[debug\] .*free keepalive peer: saving connection/]



=== TEST 10: TLS: the handshake's steps, the name and the cipher
--- log_level: debug_event
--- ssl
--- config
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok
--- error_log eval
[qr/\[debug\] .*SSL_do_handshake: -?\d/,
 qr/\[debug\] .*SSL: TLSv1\.[23], cipher: "\S+/]
--- no_error_log eval
qr/\[debug\] .*BIO_get_ktls_send/



=== TEST 11: a stream session: phases, the proxy's connect, finalize, close
--- log_level: debug_stream
--- stream_config
    server {
        listen 127.0.0.1:$TEST_NGINX_STREAM_PORT;
        proxy_pass 127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- config
    location / { return 200 "ok\n"; }
--- init
my ($got) = Test::MoongateTcp::exchange($ENV{TEST_NGINX_STREAM_PORT}, "ping\n", 5);
Test::More::is($got, "ping\n", "the stream proxy echoes");
Test::More::ok(main::lines_like(qr/\[debug\] .*close stream connection: \d+/),
               "close stream connection");
Test::More::ok(main::lines_like(qr/\[debug\] .*proxy connect: -?\d+/), "proxy connect");
Test::More::ok(main::lines_like(qr/\[debug\] .*finalize stream session: \d+/),
               "finalize stream session");
Test::More::ok(main::lines_like(qr/\[debug\] .*generic phase: \d+/), "the phases");
--- request
GET /
--- response_body
ok
--- no_error_log eval
qr/\[debug\] .*http request line/
