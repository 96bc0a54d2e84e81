# A differential audit with a reverse proxy's websocket config (the $http_upgrade map to
# $connection_upgrade): the 101's Connection line is the server's own "Connection: upgrade",
# written where nginx 1.22 writes its fixed Connection line; the upstream's own Connection
# line ("Connection: Upgrade") is not passed, as nginx's.
#
#   prove -I t/lib t/816-diff-upgrade-connection.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/816-diff-upgrade-connection.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(ws => 'websocket');

run_tests();

__DATA__

=== TEST 1: the map of the docs: one Connection line, nginx's, before the upstream's lines
--- http_config
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
--- config
    location /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_PORT;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 300ms;
    }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
--- error_code: 101
--- raw_response_headers_like eval
qr/\AHTTP\/1\.1 101 Switching Protocols\r\nServer: [^\r]+\r\nDate: [^\r]+\r\nConnection: upgrade\r\nUpgrade: websocket\r\nX-Backend: ws\r\nX-Request-Line: GET \/ws HTTP\/1\.1\r\nX-Request-Connection: upgrade\r\n\r\n\z/



=== TEST 2: proxy_pass_header Connection does not bring the upstream's line back
--- config
    location /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_PORT;
        proxy_http_version 1.1;
        proxy_pass_header Connection;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection upgrade;
        proxy_read_timeout 300ms;
    }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
--- error_code: 101
--- raw_response_headers_unlike eval
qr/\r\nConnection: Upgrade|\r\nConnection: upgrade\r\n.*\r\nConnection:/s
