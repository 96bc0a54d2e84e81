# Path traversal: every trick against root and alias must stay inside the served tree.
# A secret file sits next to the root (html/secret.txt, root html/www); no request may
# return it. Status codes are nginx's (400 for a URI climbing above "/", else 404).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/125-traversal.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => <<"CONF") unless defined $block->config;
    location /files/ { alias $ENV{TEST_NGINX_HTML_DIR}/www/; }
    location / { root $ENV{TEST_NGINX_HTML_DIR}/www; }
CONF
    $block->set_value(user_files => ">>> secret.txt\nTOPSECRET\n>>> www/ok.txt\nok\n>>> www/a/b/c.txt\nc\n")
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: plain ..
--- request eval
["GET /../secret.txt", "GET /files/../../secret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 2: %2e%2e
--- request eval
["GET /%2e%2e/secret.txt", "GET /files/%2e%2e/%2e%2e/secret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 3: mixed case %2E%2e
--- request eval
["GET /%2E%2e/secret.txt", "GET /files/%2E%2e/%2e%2E/secret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 4: .%2e and %2e.
--- request eval
["GET /.%2e/secret.txt", "GET /files/%2e./.%2e/secret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 5: encoded slash ..%2f
--- request eval
["GET /..%2fsecret.txt", "GET /files/..%2f..%2fsecret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 6: all encoded %2e%2e%2f
--- request eval
["GET /%2e%2e%2fsecret.txt", "GET /files/%2e%2e%2f%2e%2e%2fsecret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 7: uppercase %2F
--- request eval
["GET /..%2Fsecret.txt", "GET /files/..%2F..%2Fsecret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 8: deep then up past the root
--- request eval
["GET /a/b/../../../secret.txt", "GET /files/a/../../../secret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 9: NUL %00
--- request eval
["GET /secret.txt%00.html", "GET /files/../secret.txt%00"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 10: backslashes
--- request eval
["GET /..\\secret.txt", "GET /files/..\\..\\secret.txt"]
--- error_code eval
[404, 404]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 11: encoded backslash %5c
--- request eval
["GET /..%5csecret.txt", "GET /files/..%5c..%5csecret.txt"]
--- error_code eval
[404, 404]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 12: double encoding %252e
--- request eval
["GET /%252e%252e/secret.txt", "GET /files/%252e%252e/%252e%252e/secret.txt"]
--- error_code eval
[404, 404]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 13: double-encoded slash %252f
--- request eval
["GET /..%252fsecret.txt", "GET /files/..%252f..%252fsecret.txt"]
--- error_code eval
[404, 404]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 14: dot segments with extra slashes
--- request eval
["GET //..//secret.txt", "GET /files//..//..//secret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 15: trailing dot segment
--- request eval
["GET /secret.txt/..", "GET /files/../../secret.txt/."]
--- error_code eval
[403, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 16: absolute-form target
--- request eval
["GET http://localhost/../secret.txt", "GET http://localhost/files/../../secret.txt"]
--- error_code eval
[400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 17: overlong UTF-8 dot %c0%ae
--- request eval
["GET /%c0%ae%c0%ae/secret.txt", "GET /files/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt"]
--- error_code eval
[404, 404]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 18: semicolon path parameter
--- request eval
["GET /..;/secret.txt", "GET /files/..;/..;/secret.txt"]
--- error_code eval
[404, 404]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET"]



=== TEST 19: the files inside are served (the setup is right)
--- request eval
["GET /ok.txt", "GET /files/ok.txt", "GET /files/a/b/../../ok.txt", "GET /a/%2e%2e/ok.txt"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]



=== TEST 20: an encoded slash inside the tree is a plain slash
--- request eval
["GET /a%2fb%2fc.txt", "GET /files/a%2Fb/c.txt"]
--- response_body eval
["c\n", "c\n"]



=== TEST 21: alias in a regex location: a capture cannot climb out
--- config
    location ~ ^/img/(.*)$ { alias $TEST_NGINX_HTML_DIR/www/$1; }
    location / { root $TEST_NGINX_HTML_DIR/www; }
--- request eval
["GET /img/ok.txt", "GET /img/../secret.txt", "GET /img/%2e%2e/%2e%2e/secret.txt", "GET /img/..%2f..%2fsecret.txt"]
--- error_code eval
[200, 404, 400, 400]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET", "TOPSECRET", "TOPSECRET"]



=== TEST 22: try_files with $uri stays inside too
--- config
    location / { root $TEST_NGINX_HTML_DIR/www; try_files $uri =404; }
--- request eval
["GET /%2e%2e/secret.txt", "GET /a/..%2f..%2fsecret.txt", "GET /ok.txt"]
--- error_code eval
[400, 400, 200]
--- response_body_unlike eval
["TOPSECRET", "TOPSECRET", "TOPSECRET"]
