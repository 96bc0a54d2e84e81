# A response whose header list grows while a filter still holds one of its lines: expires
# makes its Expires line, then its Cache-Control line; when that second line is the one that
# makes the list grow, the value written afterwards must still land in the Expires line sent
# (nginx's header list never moves). The count of lines set before varies, so whichever count
# makes the list grow is among them.
#
#   prove -I t/lib t/822-header-line-moved.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/822-header-line-moved.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

run_tests();

__DATA__

=== TEST 1: expires max after 0..20 header lines set by Lua: Expires and Cache-Control both sent
--- config
    location / {
        expires max;
        content_by_lua_block {
            for i = 1, tonumber(ngx.var.arg_n) do
                ngx.header["X-" .. i] = i
            end
            ngx.say("n=", ngx.var.arg_n)
        }
    }
--- request eval
[map { "GET /?n=$_" } 0 .. 20]
--- raw_response_headers_like eval
[map { qr/\r\nExpires: Thu, 31 Dec 2037 23:55:55 GMT\r\nCache-Control: max-age=315360000\r\n/ } 0 .. 20]
--- response_body eval
[map { "n=$_\n" } 0 .. 20]



=== TEST 2: expires 1h: the Expires date is set after Cache-Control's line was added
--- config
    location / {
        expires 1h;
        content_by_lua_block {
            for i = 1, tonumber(ngx.var.arg_n) do
                ngx.header["X-" .. i] = i
            end
            ngx.say("ok")
        }
    }
--- request eval
[map { "GET /?n=$_" } 0 .. 20]
--- raw_response_headers_like eval
[map { qr/\r\nExpires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\nCache-Control: max-age=3600\r\n/ } 0 .. 20]



=== TEST 3: ngx.exit(403) in a header filter after a Content-Length line: the error page's own lines are all sent
--- config
    location / {
        add_header X-A a always;
        add_header X-B b always;
        content_by_lua_block {
            ngx.header["Content-Length"] = 6
            ngx.print("hello\n")
        }
        header_filter_by_lua_block {
            ngx.exit(403)
        }
    }
--- request
GET /
--- error_code: 403
--- raw_response_headers_like eval
qr/\r\nX-A: a\r\nX-B: b\r\n\r\n\z/
--- response_body_like eval
qr/<h1>403 Forbidden<\/h1>/
