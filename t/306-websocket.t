# WebSocket / Upgrade through the proxy: with proxy_http_version 1.1 and
# Upgrade/Connection set from the client's request, the 101 reaches the
# client and the connection becomes a tunnel that carries bytes both ways;
# without them the upstream never sees the Upgrade; proxy_read_timeout ends
# an idle tunnel.
#
#   prove -I t/lib t/306-websocket.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/306-websocket.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(ws => 'websocket');

our $Upgrade = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

# connect, send the upgrade request, return (socket, head, bytes after the head)
sub upgrade {
    my $req = shift // $Upgrade;
    my $s = client_connect();
    client_send($s, $req);
    my $got = client_read($s, qr/\r\n\r\n.*hello\n/s, 3);
    my $i = index($got, "\r\n\r\n");
    return ($s, $i < 0 ? $got : substr($got, 0, $i + 4), $i < 0 ? '' : substr($got, $i + 4));
}

our $Config = <<'EOF';
    location /ws {
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_PORT;
    }
EOF

log_level('info');

run_tests();

__DATA__

=== TEST 1: 101 to the client, then the upstream's greeting and an echo of each message
--- config eval: $main::Config
--- init
my ($s, $head, $rest) = main::upgrade();
Test::More::like($head, qr{\AHTTP/1\.1 101 Switching Protocols\r\n}, 'TEST 1: 101');
Test::More::like($head, qr{\r\nUpgrade: websocket\r\n}i, 'TEST 1: Upgrade: websocket');
Test::More::like($head, qr{\r\nConnection: upgrade\r\n}i, 'TEST 1: Connection: upgrade');
Test::More::like($head, qr{\r\nX-Request-Line: GET /ws HTTP/1\.1\r\n}, 'TEST 1: the upstream got HTTP/1.1');
Test::More::like($head, qr{\r\nX-Request-Connection: upgrade\r\n}, 'TEST 1: and Connection: upgrade');
Test::More::unlike($head, qr{\r\n(?:Content-Length|Transfer-Encoding):}i, 'TEST 1: no body framing');
Test::More::is($rest, "hello\n", 'TEST 1: server to client before the client sends');
for my $msg ("ping 1\n", "ping 2\n", "x" x 3) {
    client_send($s, $msg);
    Test::More::is(scalar client_read($s, length $msg, 2), $msg, 'TEST 1: echoed ' . length($msg) . ' bytes');
}
--- request
GET /t
--- error_code: 404



=== TEST 2: 1 MB each way through the tunnel
--- config eval: $main::Config
--- init
my ($s, $head, $rest) = main::upgrade();
my $data = Test::MoongateBackend::pattern(1000000);
my $pid = fork;
if (!$pid) { client_send($s, $data); POSIX::_exit(0) }
my $got = client_read($s, length $data, 3);
waitpid($pid, 0);
Test::More::is(length $got, length $data, 'TEST 2: all bytes back');
Test::More::ok($got eq $data, 'TEST 2: the same bytes');
--- request
GET /t
--- error_code: 404



=== TEST 3: the client closes: the tunnel ends, the server goes on serving
--- config eval: $main::Config
--- init
for my $i (1 .. 3) {
    my ($s, $head, $rest) = main::upgrade();
    Test::More::is($rest, "hello\n", "TEST 3: tunnel $i");
    close $s;
}
--- request
GET /ws
--- response_body_like: ^GET /ws HTTP/1\.1\n



=== TEST 4: the upstream closes: the client sees EOF
--- config eval: $main::Config
--- init
my ($s, $head, $rest) = main::upgrade();
client_send($s, "x\n");
# the echo awaited (it may take a loaded machine more than a moment), then 0.3 s without EOF
my ($data, $eof) = client_read($s, qr/x\n/, 10);
my (undef, $eof2) = $eof ? ('', 1) : client_read($s, undef, 0.3);
Test::More::ok($data eq "x\n" && !$eof2, 'TEST 4: open while the upstream is');
client_send($s, "bye\n");
($data, $eof) = client_read($s, undef, 2);
Test::More::ok($eof && $data eq '', 'TEST 4: EOF once the upstream closes');
--- request
GET /t
--- error_code: 404



=== TEST 5: without proxy_set_header Upgrade the upstream sees no Upgrade (a plain request)
--- config
    location /ws {
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_PORT;
    }
--- raw_request eval: $main::Upgrade
--- response_body_like: ^GET /ws HTTP/1\.1\nHost: 127\.0\.0\.1:\d+\nConnection: close\nSec-WebSocket-Key:
--- response_body_unlike: (?i)\nupgrade:
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n



=== TEST 6: Connection from the client's header: "Upgrade" for upgrades, "close" for the rest
--- config
    location /ws {
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $http_connection;
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_PORT;
    }
--- init
my ($s, $head, $rest) = main::upgrade();
Test::More::like($head, qr{\AHTTP/1\.1 101 }, 'TEST 6: upgraded');
Test::More::like($head, qr{\r\nX-Request-Connection: Upgrade\r\n}, 'TEST 6: the upstream got Connection: Upgrade');
client_send($s, "abc");
Test::More::is(scalar client_read($s, 3, 2), 'abc', 'TEST 6: echoed');
--- request
GET /ws
--- response_body_like: ^GET /ws HTTP/1\.1\n(?=(?:.+\n)*Connection: close\n)(?!(?:.+\n)*Upgrade:)



=== TEST 7: proxy_read_timeout ends an idle tunnel
--- config
    location /ws {
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 300ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_PORT;
    }
--- init
my ($s, $head, $rest) = main::upgrade();
Test::More::is($rest, "hello\n", 'TEST 7: upgraded');
my $t0 = Time::HiRes::time();
my ($data, $eof) = client_read($s, undef, 10);
my $t = Time::HiRes::time() - $t0;
# without the timeout the tunnel stays open past the 10 s read
Test::More::ok($eof && $t < 8, sprintf('TEST 7: closed after %.2fs idle', $t));
--- request
GET /t
--- error_code: 404
--- error_log
upstream timed out (110: Connection timed out) while proxying upgraded connection
