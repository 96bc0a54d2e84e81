# Requests that reach what the fuzz targets (t/fuzz/) found in the parsers of untrusted bytes;
# the saved inputs are t/fuzz/crashes/. The old code answered otherwise (TEST 1: a 200;
# TEST 2: a byte from before the buffer) and, under the sanitizer build as CI runs it, stopped
# the worker with a report (TEST 2: also a NULL buffer's); the answers are nginx's.
#
#   prove -I t/lib t/756-fuzz-found.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/756-fuzz-found.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

# a 200 that says its body is 2^63-1 bytes long and closes (asked with HEAD: no body to wait for)
backend(huge => 'script', read => 1,
        script => ["HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n"
                   . "Connection: close\r\n\r\n"]);

run_tests();

__DATA__

=== TEST 1: ranges of an upstream's huge length that add up past 2^63 are 416 (the sum wrapped: a 200)
--- config
    location / {
        proxy_force_ranges on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HUGE_PORT;
    }
--- request
HEAD /
--- more_headers
Range: bytes=0-,0-,0-
--- error_code: 416
--- response_headers
Content-Range: bytes */9223372036854775807



=== TEST 2: charset recoding from UTF-8: a sequence cut at a buffer's end with a byte that is no continuation is one "?"; its bytes from the earlier buffer are dropped, the next buffer's read again (the old code stepped back before the buffer)
--- http_config
    charset_map windows-1251 utf-8 { C0 D090; }
--- config
    location /t {
        default_type text/html;
        source_charset utf-8;
        charset windows-1251;
        content_by_lua_block {
            local parts = { ngx.var.arg_a, ngx.var.arg_b, "\208", "\144E" }
            for _, s in ipairs(parts) do
                ngx.print(ngx.unescape_uri(s))
                ngx.flush(true)
            end
        }
    }
--- request eval
["GET /t?a=x%F0AB&b=CD", "GET /t?a=x%F0A&b=BCD", "GET /t?a=x%F0&b=ABCD", "GET /t?a=x%F0%80A&b=BCD"]
--- response_body eval
["x?CD\xC0E", "x?BCD\xC0E", "x?BCD\xC0E", "x?BCD\xC0E"]
