# More of SSI as Debian's nginx 1.22 does it, found by running the same pages through both:
# echo encoding="url" leaves '?' alone; after "else" another else or elif is out of place;
# an errmsg is printed also in a false branch or a block (a broken command, an else out of
# place), where an unknown command in a block is dropped without a word; a broken command's
# errmsg comes at its "-->" (none when the body ends first); "include set=" leaves the
# variable as it was when the response is an error or empty; ssi_value_length is 255 unless
# set (nginx documents 256); "too long" logs the whole value; an error of the including page
# after an include does not name the included one; a proxied page loses the upstream's
# Last-Modified (ssi, sub_filter) and Accept-Ranges (ssi, addition) as nginx's filters clear them;
# every read of a buffered upstream body is "recycled" and sub_filter passes the mark on, so
# short output leaves at once instead of waiting for postpone_output (charset passes it on
# too); an included page runs once the parse of the input at hand stopped (file= waits for
# it, as wait="yes" does).
#
#   prove -I t/lib t/955-ssi-diff-nginx.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/955-ssi-diff-nginx.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateDrive;

plan 'no_plan';

# For TESTs 11-12 (as t/953's): /up sends part0 and part1, each followed by ?pad= "x" that
# sub_filter takes out (so a proxy buffer gives a few bytes of output) and a flush, and
# waits for the driver's word after each (3 s at most); Test::MoongateDrive's /drive reads the proxied,
# filtered path.
our $Http = $Test::MoongateDrive::Http;

our $Locations = $Test::MoongateDrive::Location . <<'EOT';
    location /up {
        content_by_lua_block {
            ngx.header.content_type = "text/html"
            for i, part in ipairs({"part0", "part1"}) do
                ngx.print("<p>" .. part .. "</p>" .. string.rep("x", tonumber(ngx.var.arg_pad)))
                ngx.flush(true)
                for _ = 1, 300 do
                    if ngx.shared.rec:get("go" .. i) then break end
                    ngx.sleep(0.01)
                end
            end
            ngx.print("<p>end</p>")
        }
    }
EOT

run_tests();

__DATA__

=== TEST 1: echo encoding="url": controls, space, " # % ' < > \ ^ ` { | } and 0x7f up are escaped
--- user_files
>>> t.html
[<!--# set var="h" value="a?b&c=d+e;f/g:h@i!j*k(l)m,n~o[p]q <\"#%'>^`{|}é" --><!--# echo var="h" encoding="url" -->]
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body
[a?b&c=d+e;f/g:h@i!j*k(l)m,n~o[p]q%20%3C%22%23%25%27%3E%5E%60%7B%7C%7D%C3%A9]



=== TEST 2: after "else", another else or elif is out of place (its errmsg printed in a false branch too)
--- user_files
>>> t.html
1[<!--# if expr="1" -->a<!--# else -->b<!--# else -->c<!--# endif -->]
2[<!--# if expr="" -->a<!--# else -->b<!--# elif expr="1" -->c<!--# endif -->]
3[<!--# if expr="1" -->a<!--# elif expr="1" -->b<!--# else -->c<!--# endif -->]
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body eval
my $e = '[an error occurred while processing the directive]';
"1[a$e]
2[b${e}c]
3[a]
"
--- error_log
invalid context of SSI command: "else"
invalid context of SSI command: "elif"



=== TEST 3: a broken command in a false branch or a block prints the errmsg; an unknown one there is dropped
--- user_files
>>> t.html
1[<!--# if expr="" --><!--# nosuch --><!--# echo --><!--# echo var= --><!--# else -->e<!--# endif -->]
2[<!--# block name="b" -->x<!--# nosuch --><!--# echo var= -->y<!--# endblock --><!--# include virtual="/empty.html" stub="b" -->]
>>> empty.html
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body eval
my $e = '[an error occurred while processing the directive]';
"1[${e}e]
2[${e}xy]
"
--- no_error_log
invalid SSI command
mandatory "var" parameter



=== TEST 4: a broken command's errmsg comes at its "-->": none when the body ends before it
--- user_files
>>> 1.html
[<!--# echo var="uri" -- >]-->.
>>> 2.html
[<!--# echo var="uri" -- >]
--- config
    location / { ssi on; }
--- request eval
["GET /1.html", "GET /2.html"]
--- response_body eval
["[[an error occurred while processing the directive].\n", "["]
--- error_log
unexpected " " symbol in "echo" SSI command



=== TEST 5: include set= leaves the variable as it was for an error or an empty response
--- user_files
>>> t.html
<!--# set var="v" value="old" -->1[<!--# include virtual="/404" set="v" --><!--# echo var="v" -->]
2[<!--# include virtual="/empty.html" set="v" --><!--# echo var="v" -->]
3[<!--# include virtual="/b.html" set="v" --><!--# echo var="v" -->]
4[<!--# include virtual="/404" set="w" -->(<!--# echo var="w" -->)]
>>> empty.html
>>> b.html
B
--- config
    location / { ssi on; }
    location = /404 { return 404; }
--- request
GET /t.html
--- response_body
1[old]
2[old]
3[B
]
4[()]



=== TEST 6: a value is at most 255 bytes by default (nginx merges 255, its docs say 256); "too long" logs all it read
--- user_files eval
">>> t.html\n1[<!--# set var=\"x\" value=\"" . ("v" x 255) . "\" --><!--# echo var=\"x\" -->]\n"
. "2[<!--# set var=\"y\" value=\"" . ("w" x 256) . "\" --><!--# echo var=\"y\" -->]\n"
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body eval
"1[" . ("v" x 255) . "]
2[[an error occurred while processing the directive](none)]
"
--- error_log eval
'too long "' . ("w" x 256) . '..." value of "value" parameter in "set" SSI command'



=== TEST 7: an error of the page after an include is logged as the page's, not the included one's
--- user_files
>>> t.html
[<!--# include virtual="/b.html" --><!--# nosuch -->]
>>> b.html
B
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body
[B
[an error occurred while processing the directive]]
--- error_log eval
qr/invalid SSI command: "nosuch"(?: while sending response to client)?, client: [^,]+, server: [^,]*, request: "GET \/t\.html HTTP\/1\.1", host/



=== TEST 8: a proxied page through SSI loses the upstream's Last-Modified and Accept-Ranges
--- user_files
>>> t.html
x<!--# echo var="uri" -->
--- config
    location /raw/ { alias $TEST_NGINX_HTML_DIR/; }
    location /p/ { ssi on; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/; }
--- request
GET /p/t.html
--- response_headers
!Last-Modified
!Accept-Ranges
!ETag
--- response_body
x/p/t.html



=== TEST 9: ... through sub_filter: Last-Modified goes, Accept-Ranges stays (nginx's sub filter keeps it)
--- user_files
>>> t.html
x
--- config
    location /raw/ { alias $TEST_NGINX_HTML_DIR/; }
    location /p/ { sub_filter x y; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/; }
--- request
GET /p/t.html
--- response_headers
!Last-Modified
Accept-Ranges: bytes
--- response_body
y



=== TEST 10: ... through add_after_body: Accept-Ranges goes, Last-Modified stays
--- user_files
>>> t.html
x
>>> b.html
B
--- config
    location /raw/ { alias $TEST_NGINX_HTML_DIR/; }
    location /p/ { add_after_body /b.html; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/; }
--- request
GET /p/t.html
--- response_headers_like
Last-Modified: \w+, \d+ \w+ \d+ [\d:]+ GMT
--- response_headers
!Accept-Ranges
--- response_body
x
B



=== TEST 11: sub_filter passes a proxy buffer's "recycled" mark on: its short output leaves at once
Every buffer of a buffered upstream body is recycled in nginx (not only full ones: the
buffers here are larger than what the upstream sends at a time).
--- http_config eval: $::Http
--- config eval
$::Locations . q{
    location /sub {
        sub_filter x "";
        sub_filter_once off;
        proxy_buffer_size 64k; proxy_buffers 4 64k; proxy_busy_buffers_size 64k; proxy_temp_file_write_size 64k;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?pad=6000;
    }
}
--- request
GET /drive?p=/sub
--- response_body
part1 before the end: yes, whole: yes, x left: no



=== TEST 12: a short read of a buffered upstream body is not held for postpone_output
--- http_config eval: $::Http
--- config eval
$::Locations . q{
    location /plain {
        proxy_buffer_size 64k; proxy_buffers 4 64k; proxy_busy_buffers_size 64k;
        proxy_temp_file_write_size 64k;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?pad=0;
    }
}
--- request
GET /drive?p=/plain
--- response_body
part1 before the end: yes, whole: yes, x left: no



=== TEST 13: an included page runs once the parse of the page at hand stopped: it sees what was set after the include
"file=" and "wait" stop the parse until the included page is done (E: a page that takes a while).
--- user_files eval
">>> t.html
A[<!--# include virtual=\"/v.html\" -->][<!--# set var=\"v\" value=\"late\" -->]
B[<!--# include virtual=\"/v.html\" -->][<!--# include file=\"v.html\" -->][<!--# set var=\"v\" value=\"after file\" -->]
C[<!--# include virtual=\"/v.html\" -->][<!--# include virtual=\"/v.html\" wait=\"yes\" -->][<!--# set var=\"v\" value=\"after wait\" -->]
D[<!--# include virtual=\"/v.html\" -->]
E[<!--# include file=\"/slow\" -->][<!--# set var=\"v\" value=\"after slow\" -->]
F[<!--# include virtual=\"/slow\" -->][<!--# set var=\"v\" value=\"last\" -->]
>>> v.html
{<!--# echo var=\"v\" -->}"
--- config
    location / { ssi on; }
    location /slow {
        ssi on;
        default_type text/html;
        content_by_lua_block {
            ngx.sleep(0.05)
            ngx.print('{<!--# echo var="v" -->}')
        }
    }
--- request
GET /t.html
--- response_body
A[{late}][]
B[{late}][{late}][]
C[{after file}][{after file}][]
D[{after wait}]
E[{after wait}][]
F[{last}][]



=== TEST 14: the charset filter passes the mark on too: a short recoded read leaves at once
--- http_config eval
$::Http . q{
    charset_map koi8-r utf-8 { C4 D094; }
}
--- config eval
$::Locations . q{
    location /cs {
        charset utf-8;
        source_charset koi8-r;
        proxy_buffer_size 64k; proxy_buffers 4 64k; proxy_busy_buffers_size 64k;
        proxy_temp_file_write_size 64k;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?pad=0;
    }
}
--- request
GET /drive?p=/cs
--- response_body
part1 before the end: yes, whole: yes, x left: no
