# A large proxied SSI include that waits for its turn behind a slow one, as Debian's nginx 1.22
# keeps it: what does not fit its proxy_buffers goes to a temporary file under proxy_temp_path
# (nginx's warn line once, in the upstream's context) instead of memory, and the page comes out
# whole and in order when the first include ended.
#
#   prove -I t/lib t/824-diff-ssi-include-spill.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/824-diff-ssi-include-spill.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# /big sends 5 MB (lines of 1023 "b" and a newline) in 64 KB pieces, each flushed (ngx.flush
# waits until it is written), then sets "sent"; /first, the first include, ends once "sent" is
# set (5 s at most), so the second has been read while it waited
our $Http = "    lua_shared_dict rec 1m;\n";
our $Locations = <<'EOT';
    location /big {
        content_by_lua_block {
            local piece = string.rep(string.rep("b", 1023) .. "\n", 64)
            for _ = 1, 80 do
                ngx.print(piece)
                ngx.flush(true)
            end
            ngx.shared.rec:set("sent", 1)
        }
    }
    location /first {
        content_by_lua_block {
            for _ = 1, 500 do
                if ngx.shared.rec:get("sent") then break end
                ngx.sleep(0.01)
            end
            ngx.print("first")
        }
    }
    location /inc_big {
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/big;
    }
    location ~ \.html$ { ssi on; }
EOT

run_tests();

__DATA__

=== TEST 1: a 5 MB proxied include held behind a slow one is buffered to a temporary file
--- http_config eval: $::Http
--- config eval: $::Locations
--- user_files
>>> p.html
A[<!--# include virtual="/first" -->]M[<!--# include virtual="/inc_big" -->]B
--- timeout: 20
--- request
GET /p.html
--- response_body eval
"A[first]M[" . ("b" x 1023 . "\n") x (64 * 80) . "]B\n"
--- error_log eval
qr/\[warn\] .*an upstream response is buffered to a temporary file \S+ while reading upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/p\.html HTTP\/1\.1", subrequest: "\/inc_big", upstream: "http:\/\/127\.0\.0\.1:\d+\/big"/
