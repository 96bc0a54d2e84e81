# When SSI includes run, as Debian's nginx 1.22 runs them: includes with an echo or an if
# between them run at once (the second starts before the first ended: its output waits for
# its turn), an include with set= is waited for, so a later echo or if reads its value and
# a later include starts after it. Each include says how many of the page's includes had
# ended when it started (a proxied Lua location: nginx's Lua includes pass their output out
# of order, so the includes here are proxied).
#
#   prove -I t/lib t/854-diff-ssi-include-order.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/854-diff-ssi-include-order.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# /inc/NAME?s=SECONDS: NAME@(includes ended before it started), after a sleep
our $Locations = <<'EOT';
    location /seq {
        content_by_lua_block {
            local d = ngx.shared.rec
            local at = d:get("ended") or 0
            ngx.sleep(tonumber(ngx.var.arg_s or 0))
            d:incr("ended", 1, 0)
            ngx.print(ngx.var.arg_n, "@", at)
        }
    }
    location /inc/ {
        rewrite ^/inc/(\w+)$ /seq?n=$1 break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location ~ \.html$ { ssi on; }
EOT

run_tests();

__DATA__

=== TEST 1: an echo between two includes: they run at once, the output in order
--- http_config
    lua_shared_dict rec 1m;
--- config eval: $::Locations
--- user_files
>>> p.html
[<!--# include virtual="/inc/a?s=0.3" -->]<!--# echo var="arg_x" default="-" -->[<!--# include virtual="/inc/b" -->]
--- request
GET /p.html
--- response_body
[a@0]-[b@0]



=== TEST 2: an if between two includes: the same
--- http_config
    lua_shared_dict rec 1m;
--- config eval: $::Locations
--- user_files
>>> p.html
[<!--# include virtual="/inc/a?s=0.3" -->]<!--# if expr="$arg_x" -->y<!--# else -->n<!--# endif -->[<!--# include virtual="/inc/b" -->]
--- request
GET /p.html
--- response_body
[a@0]n[b@0]



=== TEST 3: an include with set= is waited for: a later echo reads it, a later include starts after
--- http_config
    lua_shared_dict rec 1m;
--- config eval: $::Locations
--- user_files
>>> p.html
<!--# include virtual="/inc/a?s=0.3" set="v" -->[<!--# echo var="v" default="none" -->][<!--# include virtual="/inc/b" -->]
--- request
GET /p.html
--- response_body
[a@0][b@1]



=== TEST 4: ... and a later if
--- http_config
    lua_shared_dict rec 1m;
--- config eval: $::Locations
--- user_files
>>> p.html
<!--# include virtual="/inc/a?s=0.3" set="v" --><!--# if expr="$v = /^a@0/" -->[match]<!--# else -->[no match]<!--# endif -->
--- request
GET /p.html
--- response_body
[match]
