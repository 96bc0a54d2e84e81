# Conditional requests on proxied responses.  nginx without proxy_cache leaves them to the
# upstream: the client's If-* headers go upstream, and whatever it answers is relayed (its
# not_modified filter is off for an upstream's response, r->disable_not_modified = !cacheable).
# So a proxied 200 whose Last-Modified / ETag match the client's conditions stays a 200 with
# its body; an upstream's own 304 reaches the client as such; static files keep their 304.
#
#   prove -I t/lib t/313-proxy-conditional.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/313-proxy-conditional.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo', headers => ['Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT', 'ETag: "abc"'],
        body => "hello\n");
backend(e => 'echo', headers => ['Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT', 'ETag: "abc"']);

our $Config = <<'EOF';
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_E_PORT;
    }
    location /static/ {
        alias $TEST_NGINX_HTML_DIR/;
    }
    location /via/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/static/;
    }
EOF

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $main::Config) unless defined $block->config;
    $block->set_value(user_files => ">>> f.txt 201707140240.00\nsome text\n")
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: If-None-Match matching the upstream's ETag: the 200 is relayed with its body
--- request
GET /t
--- more_headers
If-None-Match: "abc"
--- error_code: 200
--- response_body
hello
--- response_headers
ETag: "abc"



=== TEST 2: If-Modified-Since equal to its Last-Modified: still the upstream's 200
--- request
GET /t
--- more_headers
If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT
--- error_code: 200
--- response_body
hello



=== TEST 3: If-Match and If-Unmodified-Since that fail: no 412 from the proxy
--- request
GET /t
--- more_headers
If-Match: "other"
If-Unmodified-Since: Thu, 01 Jan 2000 00:00:00 GMT
--- error_code: 200
--- response_body
hello



=== TEST 4: the conditions reach the upstream
--- request
GET /echo
--- more_headers
If-None-Match: "abc"
If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT
--- error_code: 200
--- response_body_like: \nIf-None-Match: "abc"\nIf-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT\n



=== TEST 5: an upstream that answers 304 itself: the 304 is relayed, without a body
--- request
GET /echo
--- more_headers
X-Echo-Status: 304
--- error_code: 304
--- response_body:
--- response_headers
ETag: "abc"



=== TEST 6: the upstream a static location of this server: its own 304 comes through
--- request
GET /via/f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 304
--- response_body:



=== TEST 7: and the static file directly: 304 as before
--- request
GET /static/f.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 304
