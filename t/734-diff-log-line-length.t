# Found by running the same configs on Debian's nginx 1.22 and moongate: an error-log line is
# at most 2048 bytes with its newline (nginx's NGX_MAX_ERROR_STR), the message first, the
# context (", client: ...") only in what room is left. moongate's lines went to 4096 bytes, so
# a limit_conn/limit_req key too long to count was logged whole, with its context.
#
#   prove -I t/lib t/734-diff-log-line-length.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/734-diff-log-line-length.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a limit_conn key over 255 bytes: its line cut at 2048 bytes, no room for the context
--- user_files
>>> a.txt
ok
--- http_config
    limit_conn_zone $http_x_k zone=c:1m;
--- config
    large_client_header_buffers 4 16k;
    location /a { limit_conn c 1; alias $TEST_NGINX_HTML_DIR/a.txt; }
--- request
GET /a
--- more_headers eval
"X-K: " . ("k" x 3000)
--- error_code: 200
--- log_level: error
--- error_log eval
qr/the value of the "\$http_x_k" key is more than 255 bytes: "k{1800,2047}$/
--- no_error_log
k", client:



=== TEST 2: a limit_req key over 65535 bytes: cut the same way
--- user_files
>>> a.txt
ok
--- http_config
    limit_req_zone $http_x_k zone=r:1m rate=1r/m;
--- config
    large_client_header_buffers 4 80k;
    location /a { limit_req zone=r; alias $TEST_NGINX_HTML_DIR/a.txt; }
--- request
GET /a
--- more_headers eval
"X-K: " . ("k" x 70000)
--- error_code: 200
--- log_level: error
--- error_log eval
qr/the value of the "\$http_x_k" key is more than 65535 bytes: "k{1800,2047}$/
--- no_error_log
k", client:
