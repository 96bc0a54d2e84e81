# ssi (ngx_http_ssi_module): the commands nginx documents (echo with its encodings and default,
# set, config errmsg/timefmt, if/elif/else/endif with regexes and captures, block/endblock,
# include file/virtual with args, wait, set and stub), $date_local/$date_gmt, nginx's
# parse and command errors (logged, and the errmsg in place unless ssi_silent_errors), the
# headers it changes, ssi_types; included pages (SSI themselves) share the SSI variables;
# proxied includes run in parallel and come out in order; commands cut between the pieces a
# body streams in; a large document with gzip.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/155-ssi.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;
use Test::MoongateBackend;

plan 'no_plan';

backend(a => 'echo');

our $Err = '[an error occurred while processing the directive]';
our $Straddle = ('x' x 32760) . '<!--#echo var="uri" -->' . "|end\n";
our $Big = join '', map { sprintf("%06d <!--#echo var=\"n\" --> %s\n", $_, 'y' x 970) } 1 .. 6000;
(our $BigOut = $Big) =~ s/<!--#echo var="n" -->/N/g;

run_tests();

__DATA__

=== TEST 1: echo: spacing, quotes, a variable without a value, default
--- user_files
>>> t.html
1[<!--#echo var="uri"-->]
2[<!--# echo var="uri" -->]
3[<!--#  echo   var = "uri"  -->]
4[<!--#echo var='uri'-->]
5[<!--#echo var="nope" -->]
6[<!--#echo var="nope" default="<d> $uri" -->]
7[<!--#echo var="arg_a" -->]
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html?a=A
--- response_body
1[/t.html]
2[/t.html]
3[/t.html]
4[/t.html]
5[(none)]
6[&lt;d&gt; $uri]
7[A]



=== TEST 2: set with variables and escapes; echo's encodings, which stay for the echoes after
--- user_files
>>> t.html
<!--#set var="x" value="<a&b> \"q\" $uri" -->1[<!--#echo var="x" -->]
2[<!--#echo var="x" encoding="none" -->]
3[<!--#echo var="x" encoding="url" -->]
4[<!--#echo var="x" -->]
5[<!--#set var="z" value="a\\b\$uri${uri}x$urix" --><!--#echo var="z" encoding="none" -->]
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body
1[&lt;a&amp;b&gt; &quot;q&quot; /t.html]
2[<a&b> "q" /t.html]
3[%3Ca&b%3E%20%22q%22%20/t.html]
4[%3Ca&b%3E%20%22q%22%20/t.html]
5[a\b$uri/t.htmlx]



=== TEST 3: if, elif, else, endif; regexes with captures; text with variables
--- user_files
>>> dir/t.html
1[<!--#if expr="$arg_a" -->yes<!--#else -->no<!--#endif -->]
2[<!--#if expr="$arg_none" -->yes<!--#else -->no<!--#endif -->]
3[<!--#if expr="$uri = /zzz/" -->A<!--#elif expr="$uri=/dir/" -->B<!--#else -->C<!--#endif -->]
4[<!--#if expr="$uri != /zzz/" -->ne<!--#endif -->]
5[<!--#if expr="$uri = /(\w+)\/(?P<file>\w+)/" --><!--#echo var="1" --> <!--#echo var="file" --><!--#endif -->]
6[<!--#if expr="$arg_a = $arg_b" -->same<!--#else -->diff<!--#endif -->]
7[<!--#if expr="text" -->literal<!--#endif -->]
--- config
    location / {
        ssi on;
    }
--- request
GET /dir/t.html?a=1&b=1
--- response_body
1[yes]
2[no]
3[B]
4[ne]
5[dir t]
6[same]
7[literal]



=== TEST 4: broken commands: the error message in place, a line in the log
--- user_files
>>> t.html
1[<!--#echo var=uri -->]
2[<!--#ECHO var="uri" -->]
3[<!--#echo bad="1" -->]
4[<!--#echo -->]
5[<!--#echo var="uri" var="uri" -->]
6[<!--#echo var="uri" - -> x -->]
7[<!--#endif -->]
8[<!--#if expr=" $uri" -->A<!--#endif -->]
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body eval
"1[$::Err]
2[$::Err]
3[$::Err]
4[$::Err]
5[$::Err]
6[$::Err]
7[$::Err]
8[" . $::Err . "A" . $::Err . "]
"
--- error_log
unexpected "u" symbol before value of "var" parameter in "echo" SSI command while sending response to client
invalid SSI command: "ECHO"
invalid parameter name: "bad" in "echo" SSI command
mandatory "var" parameter is absent in "echo" SSI command
duplicate "var" parameter in "echo" SSI command
unexpected " " symbol in "echo" SSI command
invalid context of SSI command: "endif"
invalid expression in " $uri"



=== TEST 5: config errmsg and timefmt; $date_gmt and $date_local
--- user_files
>>> t.html
<!--#config errmsg="ERR!" --><!--#foo -->|<!--#config timefmt="%Y" --><!--#echo var="date_gmt" -->|<!--#config timefmt="%s" --><!--#echo var="date_local" -->|
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body_like chomp
^ERR!\|20\d\d\|\d{10}\|$



=== TEST 6: $date_gmt in the default format
--- user_files
>>> t.html
<!--#echo var="date_gmt" -->
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body_like chomp
^(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d\d-\w\w\w-\d{4} \d\d:\d\d:\d\d GMT$



=== TEST 7: ssi_silent_errors: no message in the page, the log line stays
--- user_files
>>> t.html
[<!--#foo -->]
--- config
    location / {
        ssi on;
        ssi_silent_errors on;
    }
--- request
GET /t.html
--- response_body
[]
--- error_log
invalid SSI command: "foo"



=== TEST 8: include virtual with arguments, file, relative paths; variables set before are seen
--- user_files
>>> ssi/part.html
PART(<!--#echo var="uri" -->|<!--#echo var="args" -->|<!--#echo var="v" -->)
>>> ssi/sub/p.html
SUB
>>> ssi/t.html
1[<!--#include virtual="/ssi/part.html?a=1" -->]
2[<!--#include file="part.html" -->]
3[<!--#include virtual="sub/p.html" -->]
4[<!--#set var="v" value="V1" --><!--#include virtual="part.html" -->]
5[<!--#include virtual="/ssi/$arg_p" -->]
--- config
    location / {
        ssi on;
    }
--- request
GET /ssi/t.html?p=sub/p.html
--- response_body
1[PART(/ssi/part.html|a=1|(none))
]
2[PART(/ssi/part.html|(none)|(none))
]
3[SUB
]
4[PART(/ssi/part.html|(none)|V1)
]
5[SUB
]



=== TEST 9: include set= puts the response in a variable (a failure: empty); wait
--- config
    location / {
        ssi on;
    }
--- user_files
>>> part.html
PART
>>> t.html
1[<!--#include virtual="/part.html" set="p" --><!--#echo var="p" -->]
2[<!--#include virtual="/nothere" set="q" -->(<!--#echo var="q" -->)]
3[<!--#include virtual="/part.html" wait="yes" -->]
--- request
GET /t.html
--- response_body
1[PART
]
2[()]
3[PART
]



=== TEST 10: a stub for a failed include is run in its context; for an empty one it is sent as written
--- user_files
>>> empty.html
>>> t.html
<!--#block name="one" -->STUB<!--#echo var="uri" --><!--#endblock -->1[<!--#include virtual="/nothere" stub="one" -->]
2[<!--#include virtual="/empty.html" stub="one" -->]
3[<!--#include virtual="/nothere" -->]
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body_like chomp
^1\[STUB/nothere\]
2\[STUB<!--#echo var="uri" -->\]
3\[<html>\r?\n<head><title>404 Not Found</title></head>.*</html>\r?\n\]
$



=== TEST 11: include errors
--- user_files
>>> t.html
1[<!--#include virtual="../etc/passwd" -->]
2[<!--#include virtual="/a" file="b" -->]
3[<!--#include -->]
4[<!--#include virtual="/a" stub="nope" -->]
5[<!--#include virtual="/a" wait="maybe" -->]
6[<!--#block name="b" -->B<!--#endblock --><!--#include virtual="/a" set="q" stub="b" -->]
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body eval
"1[$::Err]
2[$::Err]
3[$::Err]
4[$::Err]
5[$::Err]
6[$::Err]
"
--- error_log
unsafe URI "/../etc/passwd" was detected
inclusion may be either virtual="/a" or file="b"
no parameter in "include" SSI command
"stub"="nope" for "include" not found
invalid value "maybe" in the "wait" parameter
"set" and "stub" cannot be used together in "include" SSI command



=== TEST 12: one level of "if"; limits of names, values and parameters
--- user_files
>>> t.html
1[<!--#if expr="$uri" --><!--#if expr="$uri" -->x<!--#endif --><!--#endif -->]
2[<!--#set var="long" value="0123456789012345678901234567890123456789" -->]
3[<!--#abcdefghijabcdefghijabcdefghijabcdefghij -->]
4[<!--#echo a1="1" a2="2" a3="3" a4="4" a5="5" a6="6" a7="7" a8="8" a9="9" a10="10" a11="11" a12="12" a13="13" a14="14" a15="15" a16="16" a17="17" -->]
--- config
    location / {
        ssi on;
        ssi_value_length 32;
    }
--- request
GET /t.html
--- response_body eval
"1[" . $::Err . "x" . $::Err . "]
2[$::Err]
3[$::Err]
4[$::Err]
"
--- error_log
the "if" command inside the "if" command
too long "012345678901234567890123456789012..." value of "value" parameter in "set" SSI command
the "abcdefghijabcdefghijabcdefghijabc..." SSI command is too long
too many SSI command parameters: "echo"



=== TEST 13: the length, date and ETag go; ssi_last_modified keeps the date and weakens the ETag
--- user_files
>>> t.html 202311142213.20
<!--#echo var="uri" -->
--- config
    location / {
        ssi on;
    }
    location /lm/ {
        alias html/;
        ssi on;
        ssi_last_modified on;
    }
--- request eval
["GET /t.html", "GET /lm/t.html"]
--- response_headers eval
["!Content-Length\n!Last-Modified\n!ETag\n!Accept-Ranges", "!Content-Length\nLast-Modified: Tue, 14 Nov 2023 22:13:20 GMT"]
--- response_headers_like eval
["", "ETag: W/\"[0-9a-f]+-[0-9a-f]+\""]



=== TEST 14: only text/html unless ssi_types says more
--- user_files
>>> t.txt
<!--#echo var="uri" -->
--- config
    location / {
        ssi on;
    }
    location /t/ {
        alias html/;
        ssi on;
        ssi_types text/plain;
    }
--- request eval
["GET /t.txt", "GET /t/t.txt"]
--- response_body eval
["<!--#echo var=\"uri\" -->\n", "/t/t.txt\n"]



=== TEST 15: an included page includes another; each is where it belongs
--- user_files
>>> a.html
A(<!--#include virtual="/b.html" -->)
>>> b.html
B(<!--#include virtual="/c.html" -->)
>>> c.html
C
>>> t.html
[<!--#include virtual="/a.html" -->]
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body
[A(B(C
)
)
]



=== TEST 16: proxied includes run in parallel and come out in order
--- user_files
>>> t.html
1[<!--#include virtual="/slow" -->] 2[<!--#include virtual="/fast" -->] 3[end]
--- config
    location / {
        ssi on;
    }
    location /slow {
        proxy_set_header X-Echo-Delay 0.4;
        proxy_set_header X-Echo-Body "slow";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location /fast {
        proxy_set_header X-Echo-Body "fast";
        proxy_set_header X-Echo-Mode chunked;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t.html
--- response_body
1[slow] 2[fast] 3[end]



=== TEST 17: set= waits for a proxied response before the next command
--- user_files
>>> t.html
<!--#include virtual="/slow" set="s" -->[<!--#echo var="s" -->]
--- config
    location / {
        ssi on;
    }
    location /slow {
        proxy_set_header X-Echo-Delay 0.2;
        proxy_set_header X-Echo-Body "slow";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t.html
--- response_body
[slow]



=== TEST 18: a command across the 32 KiB pieces a file is read in
--- user_files eval
">>> t.html\n$::Straddle"
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body eval
('x' x 32760) . "/t.html|end\n"



=== TEST 19: commands cut between output calls
--- config
    location /t {
        default_type text/html;
        ssi on;
        content_by_lua_block {
            for _, s in ipairs({ "a<!-", "-#ec", "ho var=\"u", "ri\" -", "-> <", "!--x--> <!--", "#echo var=\"uri\" -->" }) do
                ngx.print(s)
                ngx.flush(true)
            end
        }
    }
--- request
GET /t
--- response_body chomp
a/t <!--x--> /t



=== TEST 20: a command cut by the end of the body is dropped
--- user_files
>>> t.html
before <!--#echo var="uri"
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body chomp
before 



=== TEST 21: 6 MB with 6000 commands, gzip'ed as it streams
--- user_files eval
">>> big.html\n$::Big"
--- config
    location / {
        ssi on;
        gzip on;
        set $n N;
    }
--- request
GET /big.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters eval
\&::gunzip_md5
--- response_body eval
::md5_len($::BigOut)



=== TEST 22: HEAD: the head only, nothing included
--- user_files
>>> t.html
<!--#include virtual="/nothere" -->
--- config
    location / {
        ssi on;
    }
--- request
HEAD /t.html
--- response_headers
!Content-Length
--- response_body
--- no_error_log
nothere



=== TEST 23: ssi_value_length takes a size
--- config
    location / {
        ssi_value_length big;
    }
--- must_die
--- error_log eval
qr/"ssi_value_length" directive invalid value in .*:\d+/



=== TEST 24: sub_filter comes before ssi in the chain: a command it writes is run
--- user_files
>>> t.html
MARK <!--#echo var="v" -->
--- config
    location / {
        ssi on;
        set $v "V";
        sub_filter 'MARK' '<!--#echo var="uri" -->';
    }
--- request
GET /t.html
--- response_body
/t.html V



=== TEST 25: a page that includes itself stops after 51 levels of subrequests, as nginx
--- user_files
>>> self.html
x<!--#include virtual="/self.html" -->
--- config
    location / {
        ssi on;
    }
--- request
GET /self.html
--- response_body eval
('x' x 52) . $::Err . ("\n" x 52)
--- error_log
subrequests cycle while processing "/self.html"



=== TEST 26: echo encoding="url" escapes nginx's HTML set: " # % ' < > \ ^ ` { | } (not ? & ~)
--- user_files
>>> t.html
<!--#set var="x" value="a?b#c&d'e\"f%g<h>i\\j^k`l{m|n}o~p" --><!--#echo var="x" encoding="url" -->
--- config
    location / {
        ssi on;
    }
--- request
GET /t.html
--- response_body
a?b%23c&d%27e%22f%25g%3Ch%3Ei%5Cj%5Ek%60l%7Bm%7Cn%7Do~p
