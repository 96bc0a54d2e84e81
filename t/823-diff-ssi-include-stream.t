# SSI includes' output as Debian's nginx 1.22 sends it: an included page whose turn it is (the
# includes before it and the page's text before it went out) is passed on as it comes, not
# held until it ends: an unbuffered proxied page's parts reach the client as they come, also
# through two levels of includes; a later include waits for its turn (in memory), then goes
# on as it comes; a stub stands for an include that gave nothing or for the error page made
# for its status, not for an error status whose body came from its handler.
#
#   prove -I t/lib t/823-diff-ssi-include-stream.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/823-diff-ssi-include-stream.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateDrive;

plan 'no_plan';

# /up sends part0 and part1, each followed by a flush, waiting for the driver's word after
# each (3 s at most; ?nowait: not at all), then <p>end</p>; /inc is it proxied unbuffered
our $Http = $Test::MoongateDrive::Http;
our $Locations = $Test::MoongateDrive::Location . <<'EOT';
    location /up {
        default_type text/html;
        content_by_lua_block {
            for i, part in ipairs({"part0", "part1"}) do
                ngx.print("<p>" .. part .. "</p>")
                ngx.flush(true)
                for _ = 1, 300 do
                    if ngx.var.arg_nowait or ngx.shared.rec:get("go" .. i) then break end
                    ngx.sleep(0.01)
                end
            end
            ngx.print("<p>end</p>")
        }
    }
    location /inc {
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up$is_args$args;
    }
    location ~ \.html$ { ssi on; }
EOT

run_tests();

__DATA__

=== TEST 1: an included page is passed on as it comes (the page's text before it first)
--- http_config eval: $::Http
--- config eval: $::Locations
--- user_files
>>> p.html
A<!--# include virtual="/inc" -->B
--- timeout: 10
--- request
GET /drive?p=/p.html
--- response_body
part1 before the end: yes, whole: yes, x left: no



=== TEST 2: ... through two levels of includes
--- http_config eval: $::Http
--- config eval: $::Locations
--- user_files
>>> p.html
A<!--# include virtual="/l1.html" -->B
>>> l1.html
[<!--# include virtual="/inc" -->]
--- timeout: 10
--- request
GET /drive?p=/p.html
--- response_body
part1 before the end: yes, whole: yes, x left: no



=== TEST 3: a later include waits for its turn, then goes on as it comes; the order stays
--- http_config eval: $::Http
--- config eval: $::Locations
--- user_files
>>> p.html
A<!--# include virtual="/f.html" -->M<!--# include virtual="/inc" -->B
>>> p2.html
A<!--# include virtual="/inc?nowait=1" -->M<!--# include virtual="/f.html" -->B<!--# include virtual="/inc?nowait=1" -->E
>>> f.html
{f}
--- timeout: 10
--- request eval
["GET /drive?p=/p.html", "GET /p2.html"]
--- response_body eval
["part1 before the end: yes, whole: yes, x left: no\n",
 "A<p>part0</p><p>part1</p><p>end</p>M{f}\nB<p>part0</p><p>part1</p><p>end</p>E\n"]



=== TEST 4: a stub stands for an empty include or an error page, not for a handler's own error body
--- http_config eval: $::Http
--- config eval
$::Locations . q{
    location /own404 { content_by_lua_block { ngx.status = 404 ngx.print("own 404 body") } }
}
--- user_files
>>> p.html
<!--# block name="s" -->STUB<!--# endblock -->1[<!--# include virtual="/own404" stub="s" -->]
2[<!--# include virtual="/missing" stub="s" -->]
3[<!--# include virtual="/empty.html" stub="s" -->]
>>> empty.html
--- request
GET /p.html
--- response_body
1[own 404 body]
2[STUB]
3[STUB]
