# SSI parameters read as nginx reads them, found by running the same pages through Debian's
# nginx 1.22 and moongate: an expression's left side (empty is "": expr="" is false), a right
# side of "/" alone, variables in a regex, backslashes (kept before all but \ ' " $, also in
# the values a block writes back), "$" without a name and "${" without "}" as errors, and a
# variable whose handler failed ($date_local under timefmt="", $realpath_root of a root that is
# not there) in set, if, elif or include: nginx then fails the response (the client's
# connection is closed, nothing of the page is sent), where echo prints the errmsg (t/953).
#
#   prove -I t/lib t/954-ssi-expr-eval.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/954-ssi-expr-eval.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# /drive?p=URI: fetches URI as a client would: "nothing" when the connection closed at once
our $Drive = <<'EOF';
    location /drive {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            s:settimeout(3000)
            assert(s:connect("127.0.0.1", ngx.var.server_port))
            assert(s:send("GET " .. ngx.var.arg_p .. " HTTP/1.1\r\nHost: x\r\n"
                          .. "Connection: close\r\n\r\n"))
            local d, err, part = s:receive("*a")
            d = d or part or ""
            ngx.say(#d == 0 and "nothing" or d:match("^HTTP/1.1 %d+")
                    .. (d:find("[body]", 1, true) and ", [body]" or ""))
        }
    }
    location / { ssi on; }
EOF

run_tests();

__DATA__

=== TEST 1: an empty left side is "": expr="" and expr=" " are false, "= x" compares "" with x
--- user_files
>>> t.html
<!--# set var="x" value="abc" -->1[<!--# if expr="" -->T<!--# else -->F<!--# endif -->]
2[<!--# if expr=" " -->T<!--# else -->F<!--# endif -->]
3[<!--# if expr="= abc" -->T<!--# else -->F<!--# endif -->]
4[<!--# if expr="!= abc" -->T<!--# else -->F<!--# endif -->]
5[<!--# if expr="$x = abc" -->T<!--# elif expr="" -->E<!--# else -->F<!--# endif -->]
6[<!--# if expr="$x = b" -->T<!--# elif expr="" -->E<!--# else -->F<!--# endif -->]
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body
1[F]
2[F]
3[F]
4[T]
5[T]
6[F]
--- no_error_log
invalid expression



=== TEST 2: the left side is letters, digits, "_$'{}": anything else after it is an invalid expression
--- user_files
>>> t.html
<!--# set var="x" value="abc" -->1[<!--# if expr="${x}c = abcc" -->T<!--# else -->F<!--# endif -->]
2[<!--# if expr="a'b" -->T<!--# else -->F<!--# endif -->]
3[<!--# if expr="a-b" -->T<!--# else -->F<!--# endif -->]
4[<!--# if expr="  $x" -->T<!--# else -->F<!--# endif -->]
5[<!--# if expr="\$x" -->T<!--# else -->F<!--# endif -->]
--- config
    location / { ssi on; ssi_silent_errors on; }
--- request
GET /t.html
--- response_body
1[T]
2[T]
3[TF]
4[TF]
5[TF]
--- error_log
invalid expression in "a-b"
invalid expression in "  $x"
invalid expression in "\$x"



=== TEST 3: a right side of "/" alone is text; "/x" without its closing "/" is invalid
--- user_files
>>> t.html
<!--# set var="x" value="/" -->1[<!--# if expr="$x = /" -->T<!--# else -->F<!--# endif -->]
2[<!--# if expr="$x != /" -->T<!--# else -->F<!--# endif -->]
3[<!--# if expr="$x = //" -->T<!--# else -->F<!--# endif -->]
4[<!--# if expr="$x = /ab" -->T<!--# else -->F<!--# endif -->]
--- config
    location / { ssi on; ssi_silent_errors on; }
--- request
GET /t.html
--- response_body
1[T]
2[F]
3[T]
4[TF]
--- error_log
invalid expression in "$x = /ab"



=== TEST 4: a regex's text has its variables replaced; "\$" is a "$", "\d" stays "\d"
--- user_files
>>> t.html
<!--# set var="x" value="ab1c" --><!--# set var="y" value="ab" -->1[<!--# if expr="$x = /^$y/" -->T<!--# else -->F<!--# endif -->]
2[<!--# if expr="$x = /^${y}1/" -->T<!--# else -->F<!--# endif -->]
3[<!--# if expr="$x = /b\d/" -->T<!--# else -->F<!--# endif -->]
4[<!--# if expr="$x = /1c\$/" -->T<!--# else -->F<!--# endif -->]
5[<!--# if expr="$x = /c$/" -->T<!--# else -->F<!--# endif -->]
6[<!--# if expr="$x = /(${y})(\d)/" --><!--# echo var="1" -->,<!--# echo var="2" --><!--# endif -->]
--- config
    location / { ssi on; ssi_silent_errors on; }
--- request
GET /t.html
--- response_body
1[T]
2[T]
3[T]
4[T]
5[TF]
6[ab,1]
--- error_log
invalid variable name in "c$"



=== TEST 5: backslashes in values: before \ ' " $ the character, before anything else both
--- user_files
>>> t.html
<!--# set var="x" value="X" -->1[<!--# set var="z" value="a\d\"\'\\b" --><!--# echo var="z" encoding="none" -->]
2[<!--# set var="z" value="\a\\$x\$x" --><!--# echo var="z" -->]
3[<!--# config errmsg="x\"y\z" --><!--# nosuch -->]
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body
1[a\d"'\b]
2[\a\X$x]
3[x\"y\z]



=== TEST 6: "$" without a name and "${" without "}" are errors: nothing is set
--- user_files
>>> t.html
<!--# set var="x" value="X" --><!--# config errmsg="E" -->1[<!--# set var="z" value="a$" --><!--# echo var="z" -->]
2[<!--# set var="z" value="a$-b" --><!--# echo var="z" -->]
3[<!--# set var="z" value="${}" --><!--# echo var="z" -->]
4[<!--# set var="z" value="${x" --><!--# echo var="z" -->]
5[<!--# set var="z" value="${a-b}" --><!--# echo var="z" -->]
6[<!--# set var="z" value="${x}}" --><!--# echo var="z" -->]
7[<!--# include virtual="/inc.html?$" -->]
>>> inc.html
inc
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body
1[E(none)]
2[E(none)]
3[E(none)]
4[E(none)]
5[E(none)]
6[X}]
7[E]
--- error_log
invalid variable name in "a$"
invalid variable name in "a$-b"
invalid variable name in "${}"
the closing bracket in "x" variable is missing
the closing bracket in "a" variable is missing
invalid variable name in "/inc.html?$"



=== TEST 7: a block's commands come back with their values as written
An empty response has no SSI of its own, so the stub's text is sent as it is kept.
--- user_files
>>> t.html
[<!--# block name="b" --><!--# echo var="q" default="d\"q" --><!--# endblock --><!--# include virtual="/empty.html" stub="b" -->]
[<!--# block name="c" --><!--# echo var='q' default='d"q' --><!--# endblock --><!--# include virtual="/empty.html" stub="c" -->]
>>> empty.html
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body
[<!--#echo var="q" default="d\"q" -->]
[<!--#echo var="q" default="d"q" -->]



=== TEST 8: a variable that failed in "set" fails the response
--- user_files
>>> t.html
[body]<!--# config timefmt="" --><!--# set var="x" value="a$date_local" -->
--- config eval: $::Drive
--- request
GET /drive?p=/t.html
--- response_body
nothing



=== TEST 9: ... in "if" (either side, a regex's text) and "elif"
--- user_files
>>> 1.html
[body]<!--# config timefmt="" --><!--# if expr="$date_local" -->T<!--# endif -->
>>> 2.html
[body]<!--# config timefmt="" --><!--# if expr="a = ${date_gmt}" -->T<!--# endif -->
>>> 3.html
[body]<!--# config timefmt="" --><!--# if expr="a = /$date_local/" -->T<!--# endif -->
>>> 4.html
[body]<!--# config timefmt="" --><!--# if expr="" -->T<!--# elif expr="$date_gmt" -->E<!--# endif -->
>>> 5.html
[body]<!--# config timefmt="" --><!--# if expr="a" -->T<!--# elif expr="$date_gmt" -->E<!--# endif -->
--- config eval: $::Drive
--- request eval
["GET /drive?p=/1.html", "GET /drive?p=/2.html", "GET /drive?p=/3.html",
 "GET /drive?p=/4.html", "GET /drive?p=/5.html"]
--- response_body eval
["nothing\n", "nothing\n", "nothing\n", "nothing\n", "HTTP/1.1 200, [body]\n"]



=== TEST 10: ... in "include" virtual= and file=; a "set=" name is not read for variables
--- user_files
>>> 1.html
[body]<!--# config timefmt="" --><!--# include virtual="/inc$date_local.html" -->
>>> 2.html
[body]<!--# config timefmt="" --><!--# include file="/inc$date_local.html" -->
>>> 3.html
[body]<!--# config timefmt="" --><!--# include virtual="/inc.html" set="$date_local" -->
>>> inc.html
inc
--- config eval: $::Drive
--- request eval
["GET /drive?p=/1.html", "GET /drive?p=/2.html", "GET /drive?p=/3.html"]
--- response_body eval
["nothing\n", "nothing\n", "HTTP/1.1 200, [body]\n"]



=== TEST 11: $realpath_root of a root that is not there fails too
The page comes through a proxy, so its location's root need not hold it.
--- user_files
>>> t.html
[body]<!--# set var="x" value="$realpath_root" -->
--- config eval
$::Drive . q{
    location /raw/ { alias $TEST_NGINX_HTML_DIR/; }
    location /p/ {
        ssi on;
        root /nonexistent/moongate;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/;
    }
}
--- request
GET /drive?p=/p/t.html
--- response_body
nothing
--- error_log
realpath() "/nonexistent/moongate" failed
