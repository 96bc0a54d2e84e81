# The proxy passes a client's header fields as they were parsed without scanning them again
# (the HTTP/1 and h2 parsers took out CR, LF and NUL), and scans every field changed or added
# since: more_set_input_headers with the decoded $uri replacing a client's field in place or
# adding one, ngx.req.set_header replacing one. Whatever set it, a CR LF never splits the
# upstream request. nginx 1.22 sends the raw bytes more_set_input_headers puts there (as for
# proxy_set_header, t/144), so those blocks are moongate's only.
#
#   prove -I t/lib t/629-proxy-parsed-fields.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/629-proxy-parsed-fields.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateBackend;

backend(a => 'echo');

log_level('warn');

run_tests();

__DATA__

=== TEST 1: a client's fields reach the upstream byte for byte: a tab, high bytes, quotes, an odd name
--- config
    ignore_invalid_headers off;
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- raw_request eval
"GET /p HTTP/1.1\r\nHost: localhost\r\nX-Tab: a\tb\r\nX-High: caf\xc3\xa9 \"q\" <x>\r\nX-Odd{}: v;w\r\nConnection: close\r\n\r\n"
--- response_body_like eval
qr/\nX-Tab: a\tb\nX-High: caf\xc3\xa9 "q" <x>\nX-Odd\{\}: v;w\n/
--- no_error_log
sent percent-encoded



=== TEST 2: more_set_input_headers with $uri replacing a client's field: one line upstream
--- moongate_only
--- config
    location /p {
        more_set_input_headers 'X-A: $uri';
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /p/a%0d%0aInjected:%20yes
--- more_headers
X-A: from the client
--- response_body_like: \nX-A: /p/a%0D%0AInjected: yes\n
--- response_body_unlike: (\nInjected|from the client)
--- error_log
value of header "X-A" has CR, LF or NUL, sent percent-encoded



=== TEST 3: more_set_input_headers with $uri adding a field
--- moongate_only
--- config
    location /p {
        more_set_input_headers 'X-New: $uri';
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /p/b%0aInjected:%20yes
--- response_body_like: \nX-New: /p/b%0AInjected: yes\n
--- response_body_unlike: \nInjected
--- error_log
value of header "X-New" has CR, LF or NUL, sent percent-encoded



=== TEST 4: ngx.req.set_header replacing a client's field with CR LF: one line upstream
--- config
    location /l {
        rewrite_by_lua_block { ngx.req.set_header("X-A", "a\r\nInjected: yes") }
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /l
--- more_headers
X-A: from the client
--- response_body_like: \nX-A: a%0D%0AInjected: yes\n
--- response_body_unlike: (\nInjected|from the client)



=== TEST 5: an h2 client's fields reach the upstream as sent
--- listen_options: http2
--- config
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- h2_cmd
curl -s --http2-prior-knowledge -H "X-Tab: a	b" -H "X-Q: \"q\" <x>; y=1" http://127.0.0.1:$TEST_NGINX_SERVER_PORT/p | grep -i ^x-
--- h2_out
x-tab: a	b
x-q: "q" <x>; y=1



=== TEST 6: which client fields are dropped, whatever their case: proxy_set_header's names and the hop-by-hop ones; names of the same length and long names pass
--- config
    location /p {
        proxy_set_header X-Over "set";
        proxy_set_header X-Empty "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
"GET /p HTTP/1.1\r\nHost: localhost\r\nx-OVER: client\r\nX-EMPTY: client\r\nkEEP-aLIVE: 1\r\nte: trailers\r\nX-Ovex: same length\r\nX-Emptz: same length\r\nkeep-alivf: same length\r\nX-" . ("L" x 70) . ": long\r\nConnection: close\r\n\r\n"
--- response_body_like eval
qr/\AGET \/p HTTP\/1\.0\n(?:(?:X-Over: set|Host: [^\n]+|Connection: close)\n){3}X-Ovex: same length\nX-Emptz: same length\nkeep-alivf: same length\nX-L{70}: long\n\n\z/
--- response_body_unlike: (?i)(client|keep-alive|\nte:)
