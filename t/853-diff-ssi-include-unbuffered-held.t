# An unbuffered proxied SSI include that waits for its turn behind a slow earlier include, as
# Debian's nginx 1.22 holds it: one proxy_buffer_size buffer, reading from the upstream
# stopped until its turn comes, then passed on as it comes; not the whole response in memory
# (5 MB: the worker's peak RSS grew 4.4 MB before, 0.9 MB now, nginx 0.7 MB). A Lua include
# is held whole by both.
#
#   prove -I t/lib t/853-diff-ssi-include-unbuffered-held.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/853-diff-ssi-include-unbuffered-held.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# under a sanitizer (its quarantine keeps freed blocks) RSS says nothing: not checked
our $BoundKb = $ENV{ASAN_OPTIONS} ? 1e9 : 2560;

# /mem: the worker's peak RSS (VmHWM) the first time, how much it grew since after that.
# /inc proxies big.txt (5 MB) unbuffered; /first, the slow include, waits until big.txt was
# sent whole (3 s at most: the kernel's socket buffers may not take all of a held one)
our $Locations = <<'EOT' =~ s/BOUND_KB/$BoundKb/r;
    location /mem {
        content_by_lua_block {
            local kb
            for l in io.lines("/proc/self/status") do
                kb = kb or tonumber(l:match("^VmHWM:%s*(%d+)"))
            end
            local first = ngx.shared.rec:get("first")
            if not first then
                ngx.shared.rec:set("first", kb)
                ngx.say("noted")
                return
            end
            local grew = kb - first
            ngx.say("peak RSS grew under 2.5 MB: ", grew < BOUND_KB and "yes" or ("no: " .. grew))
        }
    }
    location /first {
        content_by_lua_block {
            for _ = 1, 300 do
                if ngx.shared.rec:get("big sent") then break end
                ngx.sleep(0.01)
            end
            ngx.print("first")
        }
    }
    location = /big.txt { log_by_lua_block { ngx.shared.rec:set("big sent", 1) } }
    location /inc {
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/big.txt;
    }
    location ~ \.html$ { ssi on; }
EOT

run_tests();

__DATA__

=== TEST 1: held behind a slow include: one buffer in memory, the upstream waits; all of it comes
--- http_config
    lua_shared_dict rec 1m;
--- config eval: $::Locations
--- user_files eval
">>> p.html\nA[<!--# include virtual=\"/first\" -->]B[<!--# include virtual=\"/inc\" -->]C\n"
. ">>> big.txt\n" . ("y" x 5242879) . "\n"
--- timeout: 15
--- request eval
["GET /mem", "GET /p.html", "GET /mem"]
--- response_body eval
["noted\n", "A[first]B[" . ("y" x 5242879) . "\n]C\n",
 "peak RSS grew under 2.5 MB: yes\n"]
