# No CR, LF or NUL reaches the wire inside a header field or an upstream request line, whatever
# put it there: add_header/return/rewrite with decoded variables ($uri), proxy_set_header,
# proxy_pass with variables, and Lua (ngx.header, ngx.redirect, ngx.req.set_header). Such bytes
# are sent percent-encoded with a [warn] line naming the field. nginx 1.22 sends the raw bytes
# for the config paths (checked: `add_header X-U $uri` with %0d%0a in the URI splits the
# response), so those blocks are moongate's only.
#
#   prove -I t/lib t/144-header-injection.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/144-header-injection.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');

log_level('warn');

run_tests();

__DATA__

=== TEST 1: add_header with $uri: the decoded CR LF goes out encoded, no header is added
--- moongate_only
--- config
    location /h { add_header X-U $uri; return 200 "ok\n"; }
--- request
GET /h/a%0d%0aInjected:%20yes
--- response_headers
X-U: /h/a%0D%0AInjected: yes
! Injected
--- raw_response_headers_unlike: \r\nInjected
--- response_body
ok
--- error_log
value of header "X-U" has CR, LF or NUL, sent percent-encoded



=== TEST 2: return 302 with $uri: the Location stays one line
--- moongate_only
--- config
    location /r { return 302 /to$uri; }
--- request
GET /r/a%0d%0aSet-Cookie:%20x=1
--- error_code: 302
--- response_headers_like
Location: http://[^/]+/to/r/a%0D%0ASet-Cookie: x=1
--- raw_response_headers_unlike: \r\nSet-Cookie
--- error_log
value of header "Location" has CR, LF or NUL, sent percent-encoded



=== TEST 3: rewrite ... redirect with a capture of the decoded URI
--- moongate_only
--- config
    location /w { rewrite "^/w/([\s\S]*)$" /new/$1 redirect; }
--- request
GET /w/a%0d%0aInjected:%20yes
--- error_code: 302
--- raw_response_headers_unlike: \r\nInjected
--- response_headers
! Injected



=== TEST 4: proxy_set_header with $uri: the upstream gets one header line
--- moongate_only
--- config
    location /p { proxy_set_header X-U $uri; proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- request
GET /p/a%0d%0aInjected:%20yes
--- response_body_like: \nX-U: /p/a%0D%0AInjected: yes\n
--- response_body_unlike: \nInjected
--- error_log
value of header "X-U" has CR, LF or NUL, sent percent-encoded



=== TEST 5: proxy_pass with $uri in its URI: the request line stays one line
--- moongate_only
--- config
    location /v { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/base$uri; }
--- request
GET /v/a%0d%0aInjected:%20yes%20x
--- response_body_like: \AGET /base/v/a%0D%0AInjected:%20yes%20x HTTP/1.0\n
--- response_body_unlike: \nInjected
--- error_log
upstream request target has control bytes or spaces, sent percent-encoded



=== TEST 6: ngx.header values with CR LF and NUL
--- config
    location /l {
        content_by_lua_block {
            ngx.header["X-L"] = "a\r\nInjected: yes"
            ngx.header["X-Z"] = "b\0c"
            ngx.say("ok")
        }
    }
--- request
GET /l
--- response_headers
X-L: a%0D%0AInjected: yes
X-Z: b%00c
! Injected
--- raw_response_headers_unlike: \r\nInjected
--- response_body
ok



=== TEST 7: ngx.redirect with CR LF: refused with OpenResty's error (500)
--- config
    location /l { content_by_lua_block { ngx.redirect("/to\r\nInjected: yes") } }
--- request
GET /l
--- error_code: 500
--- raw_response_headers_unlike: \r\nInjected
--- error_log
unsafe byte "0x0d" in redirect uri "/to\x0D\x0AInjected: yes"



=== TEST 8: ngx.header.content_type with CR LF
--- config
    location /l { content_by_lua_block { ngx.header.content_type = "text/x\r\nInjected: yes" ngx.say("ok") } }
--- request
GET /l
--- raw_response_headers_unlike: \r\nInjected
--- response_headers
! Injected



=== TEST 9: ngx.req.set_header with CR LF, then proxy_pass: one header line upstream
--- config
    location /l {
        rewrite_by_lua_block { ngx.req.set_header("X-R", "a\r\nInjected: yes") }
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /l
--- response_body_like: \nX-R: a%0D%0AInjected: yes\n
--- response_body_unlike: \nInjected



=== TEST 10: a header name with CR LF from Lua
--- config
    location /l { content_by_lua_block { ngx.header["X-N\r\nInjected"] = "v" ngx.say("ok") } }
--- request
GET /l
--- raw_response_headers_unlike: \r\nInjected
--- response_body
ok



=== TEST 11: a CR, LF or NUL anywhere in a long value is found; tabs and bytes >= 0x80 stay as they are (Lua escapes other controls itself)
--- config
    location /l {
        content_by_lua_block {
            local bad = { "\r", "\n", "\0" }
            for i = 0, 19 do
                local b = bad[i % 3 + 1]
                ngx.header["X-P" .. i] = string.rep("a", i) .. b .. string.rep("z", 19 - i)
            end
            ngx.header["X-T"] = "aaaaaaaa\tbbbbbbbb\tcc"
            ngx.header["X-U"] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\x7f\x0b\x0cz"
            ngx.say("ok")
        }
    }
--- request
GET /l
--- response_headers eval
my @enc = ('%0D', '%0A', '%00');
join('', map { "X-P$_: " . ('a' x $_) . $enc[$_ % 3] . ('z' x (19 - $_)) . "\n" } 0 .. 19)
  . "X-T: aaaaaaaa\tbbbbbbbb\tcc\nX-U: \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9%7F%0B%0Cz\n"
--- response_body
ok



=== TEST 12: add_header with the decoded CR LF at each offset of a word: every one found
--- moongate_only
--- config
    location /h {
        add_header X-0 "$uri";
        add_header X-1 "a$uri";
        add_header X-2 "aa$uri";
        add_header X-3 "aaa$uri";
        add_header X-4 "aaaa$uri";
        add_header X-5 "aaaaa$uri";
        add_header X-6 "aaaaaa$uri";
        add_header X-7 "aaaaaaa$uri";
        add_header X-8 "aaaaaaaa$uri";
        add_header X-9 "aaaaaaaaa$uri";
        add_header X-10 "aaaaaaaaaa$uri";
        add_header X-11 "aaaaaaaaaaa$uri";
        return 200 "ok\n";
    }
--- request
GET /h/%0d%0ay
--- response_headers
X-0: /h/%0D%0Ay
X-1: a/h/%0D%0Ay
X-2: aa/h/%0D%0Ay
X-3: aaa/h/%0D%0Ay
X-4: aaaa/h/%0D%0Ay
X-5: aaaaa/h/%0D%0Ay
X-6: aaaaaa/h/%0D%0Ay
X-7: aaaaaaa/h/%0D%0Ay
X-8: aaaaaaaa/h/%0D%0Ay
X-9: aaaaaaaaa/h/%0D%0Ay
X-10: aaaaaaaaaa/h/%0D%0Ay
X-11: aaaaaaaaaaa/h/%0D%0Ay
--- raw_response_headers_unlike: \r\ny
--- response_body
ok
