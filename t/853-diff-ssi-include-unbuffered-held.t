# An unbuffered proxied SSI include that waits for its turn behind a slow earlier include, as
# Debian's nginx 1.22 holds it: one proxy_buffer_size buffer, reading from the upstream
# stopped until its turn comes, then passed on as it comes; not the whole response in memory
# (5 MB: the worker's peak RSS grew 6.1 MB before, 1.4 MB now, nginx 1.1 MB). A Lua include
# is held whole by both.
#
#   prove -I t/lib t/853-diff-ssi-include-unbuffered-held.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/853-diff-ssi-include-unbuffered-held.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

plan 'no_plan';

backend(big => 'echo', size => 5242880);

# /mem: the worker's peak RSS (VmHWM) the first time, how much it grew since after that
our $Locations = <<'EOT';
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
            ngx.say("peak RSS grew under 3 MB: ", grew < 3072 and "yes" or ("no: " .. grew))
        }
    }
    location /first { content_by_lua_block { ngx.sleep(1) ngx.print("first") } }
    location /inc {
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
    location ~ \.html$ { ssi on; }
EOT

run_tests();

__DATA__

=== TEST 1: held behind a slow include: one buffer in memory, the upstream waits; all of it comes
--- http_config
    lua_shared_dict rec 1m;
--- config eval: $::Locations
--- user_files
>>> p.html
A[<!--# include virtual="/first" -->]B[<!--# include virtual="/inc" -->]C
--- timeout: 15
--- request eval
["GET /mem", "GET /p.html", "GET /mem"]
--- response_body eval
["noted\n", "A[first]B[" . Test::MoongateBackend::pattern(5242880) . "]C\n",
 "peak RSS grew under 3 MB: yes\n"]
