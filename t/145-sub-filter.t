# sub_filter (ngx_http_sub_module): strings replaced in a response as it streams, ignoring
# case; the leftmost match wins, and of several strings matching at one place the first
# configured; sub_filter_once per string; variables in both strings; sub_filter_types;
# the headers it changes (Content-Length, Last-Modified, ETag, ranges); matches across the
# pieces a body comes in (32 KiB file reads, separate output calls); a large body streamed.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/145-sub-filter.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;

plan 'no_plan';

# a pattern straddling the 32 KiB boundary of file reads, and one per 1000 bytes of 6 MB
our $Straddle = ('x' x 32765) . "NEEDLE" . ('y' x 100) . "\n";
our $Big = join '', map { sprintf("%06d <b>bold</b> %s\n", $_, 'z' x 977) } 1 .. 6000;
(our $BigOut = $Big) =~ s{<b>}{<strong>}gi;

run_tests();

__DATA__

=== TEST 1: the first match replaced; the length, date and ETag go
--- user_files
>>> t.html
hello abcd world ABCD abc ab
--- config
    location / {
        sub_filter 'ab' 'X';
    }
--- request
GET /t.html
--- response_headers
!Content-Length
!Last-Modified
!ETag
!Accept-Ranges
Content-Type: text/html
--- response_body
hello Xcd world ABCD abc ab



=== TEST 2: sub_filter_once off: every match, ignoring case; the replacement keeps its case
--- user_files
>>> t.html
hello abcd world ABCD abc ab
--- config
    location / {
        sub_filter 'aB' 'xY';
        sub_filter_once off;
    }
--- request
GET /t.html
--- response_body
hello xYcd world xYCD xYc xY



=== TEST 3: the leftmost match wins; at one place the first string configured
--- user_files
>>> t.html
hello abcd world ABCD abc ab
--- config
    location / {
        sub_filter 'bcd' 'Z';
        sub_filter 'abc' 'Y';
        sub_filter 'ab' 'X';
        sub_filter_once off;
    }
--- request
GET /t.html
--- response_body
hello Yd world YD Y X



=== TEST 4: once is per string: each replaced at its first match
--- user_files
>>> t.html
hello abcd world ABCD abc ab
--- config
    location / {
        sub_filter 'bcd' 'Z';
        sub_filter 'ab' 'X';
    }
--- request
GET /t.html
--- response_body
hello Xcd world AZ abc ab



=== TEST 5: variables in the string and in the replacement; an empty string matches nothing
--- user_files
>>> t.html
hello abcd world
--- config
    location / {
        sub_filter '$arg_find' '[$uri $arg_with]';
        sub_filter_once off;
    }
--- request eval
["GET /t.html?find=o&with=0", "GET /t.html?find=&with=1"]
--- response_body eval
["hell[/t.html 0] abcd w[/t.html 0]rld\n", "hello abcd world\n"]



=== TEST 6: only text/html by default; sub_filter_types adds types, "*" takes any
--- user_files
>>> t.txt
plain ab
>>> t.css
style ab
--- http_config
    types { text/html html; text/plain txt; text/css css; }
--- config
    location /none/ {
        alias html/;
        sub_filter 'ab' 'X';
    }
    location /plain/ {
        alias html/;
        sub_filter 'ab' 'X';
        sub_filter_types text/plain;
    }
    location /any/ {
        alias html/;
        sub_filter 'ab' 'X';
        sub_filter_types *;
    }
--- request eval
["GET /none/t.txt", "GET /plain/t.txt", "GET /plain/t.css", "GET /any/t.css"]
--- response_body eval
["plain ab\n", "plain X\n", "style ab\n", "style X\n"]



=== TEST 7: a response of another type keeps its length, date and ranges
--- user_files
>>> t.txt
plain ab
--- config
    location / {
        sub_filter 'ab' 'X';
    }
--- request
GET /t.txt
--- response_headers
Content-Length: 9
Accept-Ranges: bytes
--- response_headers_like
Last-Modified: .+
--- response_body
plain ab



=== TEST 8: sub_filter_last_modified on keeps the date; the ETag becomes weak
--- user_files
>>> t.html 202311142213.20
hello ab
--- config
    location / {
        sub_filter 'ab' 'X';
        sub_filter_last_modified on;
    }
--- request
GET /t.html
--- response_headers
Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT
!Content-Length
--- response_headers_like
ETag: W/"[0-9a-f]+-9"
--- response_body
hello X



=== TEST 9: a range request gets the whole replaced body
--- user_files
>>> t.html
hello abcd world
--- config
    location / {
        sub_filter 'ab' 'X';
    }
--- request
GET /t.html
--- more_headers
Range: bytes=0-3
--- error_code: 200
--- response_body
hello Xcd world



=== TEST 10: a level with its own sub_filter does not inherit the parent's
--- user_files
>>> t.html
one two three
--- config
    sub_filter 'one' '1';
    sub_filter 'two' '2';
    location / {
    }
    location /own/ {
        alias html/;
        sub_filter 'three' '3';
    }
--- request eval
["GET /t.html", "GET /own/t.html"]
--- response_body eval
["1 2 three\n", "one two 3\n"]



=== TEST 11: a match across the 32 KiB pieces a file is read in
--- user_files eval
">>> t.html\n$::Straddle"
--- config
    location / {
        sub_filter 'needle' '<found>';
    }
--- request
GET /t.html
--- response_body eval
('x' x 32765) . "<found>" . ('y' x 100) . "\n"



=== TEST 12: matches across output calls; a partial match at the end is sent as it was
--- config
    location /t {
        default_type text/html;
        sub_filter 'abcdef' '[1]';
        sub_filter 'xyz' '[2]';
        sub_filter_once off;
        content_by_lua_block {
            ngx.print("0 ab")
            ngx.flush(true)
            ngx.print("cd")
            ngx.flush(true)
            ngx.print("ef 1 x")
            ngx.flush(true)
            ngx.print("yz abcdeX abcd")
        }
    }
--- request
GET /t
--- response_body chomp
0 [1] 1 [2] abcdeX abcd



=== TEST 13: 6 MB, 6000 replacements, streamed
--- user_files eval
">>> big.html\n$::Big"
--- config
    location / {
        sub_filter '<B>' '<strong>';
        sub_filter_once off;
    }
--- request
GET /big.html
--- response_body_filters eval
\&::md5_len
--- response_body eval
::md5_len($::BigOut)



=== TEST 14: HEAD: the head as for GET, no body
--- user_files
>>> t.html
hello ab
--- config
    location / {
        sub_filter 'ab' 'X';
    }
--- request
HEAD /t.html
--- response_headers
!Content-Length
--- response_body



=== TEST 15: an empty search string is refused at startup
--- config
    location / {
        sub_filter '' 'X';
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*empty search pattern in .*nginx\.conf:\d+|empty search pattern in .*:\d+/



=== TEST 16: one argument is refused
--- config
    location / {
        sub_filter 'a';
    }
--- must_die
--- error_log eval
qr/invalid number of arguments in "sub_filter" directive in .*:\d+/
