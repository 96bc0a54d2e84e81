# The rewrite directive: regex captures, last/break/redirect/permanent, arguments,
# redirects for URL replacements, the rewrite-cycle limit, rewrite_log lines, server-level
# rewrites, config-order execution with the other rewrite-module directives.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/130-rewrite.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: rewrite ... last restarts the location search with the new URI
--- config
    location /old/ { rewrite ^/old/(.*)$ /new/$1 last; return 200 "not reached\n"; }
    location /new/ { return 200 "new: $uri\n"; }
--- request
GET /old/a/b
--- response_body
new: /new/a/b



=== TEST 2: rewrite ... break keeps the location and serves the new URI from it
--- config
    location /b/ { rewrite ^/b/(.*)$ /$1 break; return 200 "not reached\n"; }
--- user_files
>>> page.html
the page
--- request
GET /b/page.html
--- response_body
the page



=== TEST 3: without a flag the list goes on, then the location search restarts
--- config
    location /a {
        rewrite ^/a(.*) /b$1;
        rewrite ^/b(.*) /c$1;
        return 200 "still here: $uri\n";
    }
--- request
GET /a/x
--- response_body
still here: /c/x



=== TEST 4: without a flag and without a return, the new URI finds its location
--- config
    location /a { rewrite ^/a(.*) /b$1; }
    location /b { return 200 "b: $uri\n"; }
--- request
GET /a/x
--- response_body
b: /b/x



=== TEST 5: the request's arguments follow the new URI
--- config
    location /a { rewrite ^/a /b last; }
    location /b { return 200 "$uri?$args\n"; }
--- request
GET /a?x=1&y=2
--- response_body
/b?x=1&y=2



=== TEST 6: new arguments come first, the request's follow
--- config
    location /a { rewrite ^/a /b?n=1 last; }
    location /b { return 200 "$uri?$args $arg_n $arg_x\n"; }
--- request
GET /a?x=2
--- response_body
/b?n=1&x=2 1 2



=== TEST 7: a final "?" drops the request's arguments
--- config
    location /a { rewrite ^/a /b? last; }
    location /c { rewrite ^/c /b?n=1? last; }
    location /b { return 200 "[$args]\n"; }
--- request eval
["GET /a?x=1", "GET /c?x=1"]
--- response_body eval
["[]\n", "[n=1]\n"]



=== TEST 8: redirect and permanent flags answer 302 and 301 with the new URI
--- config
    location /r { rewrite ^/r(.*) /t$1 redirect; }
    location /p { rewrite ^/p(.*) /t$1 permanent; }
--- request eval
["GET /r/x", "GET /p/x"]
--- error_code eval
[302, 301]
--- response_headers_like eval
["Location: http://localhost(:\\d+)?/t/x", "Location: http://localhost(:\\d+)?/t/x"]



=== TEST 9: a replacement starting with http:// redirects, with the arguments
--- config
    location /r { rewrite ^/r(.*) http://example.com/q$1; }
--- request
GET /r/z?a=1
--- error_code: 302
--- response_headers
Location: http://example.com/q/z?a=1
--- response_body_like: 302 Found



=== TEST 10: a https:// or $scheme replacement redirects too; "?" in it takes the args with "&"
--- config
    location /s { rewrite ^ https://example.com/s?k=v; }
    location /m { rewrite ^ $scheme://example.com/m? permanent; }
--- request eval
["GET /s?a=1", "GET /m?a=1"]
--- error_code eval
[302, 301]
--- response_headers eval
["Location: https://example.com/s?k=v&a=1", "Location: http://example.com/m"]



=== TEST 11: a rewrite that does not match leaves the URI alone
--- config
    location /a { rewrite ^/zzz /b last; return 200 "$uri\n"; }
--- request
GET /a
--- response_body
/a



=== TEST 12: named captures in a rewrite
--- config
    location /u/ { rewrite "^/u/(?<user>[a-z]+)/(\d+)$" /show?u=$user&n=$2 last; }
    location /show { return 200 "$arg_u $arg_n\n"; }
--- request
GET /u/bob/42
--- response_body
bob 42



=== TEST 13: a rewrite cycle ends in 500 after ten restarts, with nginx's error line
--- config
    location /loop { rewrite ^ /loop last; }
--- request
GET /loop
--- error_code: 500
--- error_log
rewrite or internal redirection cycle while processing "/loop"



=== TEST 14: two locations rewriting to each other also hit the limit
--- config
    location /x { rewrite ^/x(.*) /y$1 last; }
    location /y { rewrite ^/y(.*) /x$1 last; }
--- request
GET /x/1
--- error_code: 500
--- error_log
rewrite or internal redirection cycle while processing "/y/1"



=== TEST 15: rewrite_log logs matches, misses and the result at notice level
--- config
    rewrite_log on;
    location /a { rewrite ^/zz /q; rewrite ^/a(.*) /b$1?k=1 break; return 200 "x"; }
--- user_files
>>> b/c
bc
--- log_level: notice
--- request
GET /a/c?z=2
--- response_body
bc
--- error_log
"^/zz" does not match "/a/c", client: 127.0.0.1
"^/a(.*)" matches "/a/c", client: 127.0.0.1
rewritten data: "/b/c", args: "k=1&z=2", client: 127.0.0.1



=== TEST 16: rewrite_log logs a redirect
--- config
    rewrite_log on;
    location /a { rewrite ^/a(.*) http://example.com$1; }
--- log_level: notice
--- request
GET /a/x?q=1
--- error_code: 302
--- error_log
rewritten redirect: "http://example.com/x?q=1"



=== TEST 17: rewrite_log is off by default
--- config
    location /a { rewrite ^/a(.*) /b$1 break; return 200 "x"; }
--- log_level: notice
--- request
GET /a
--- error_code: 404
--- no_error_log
matches



=== TEST 18: server-level rewrites run before the location search
--- config
    rewrite ^/old(.*) /new$1;
    location /new { return 200 "new $uri\n"; }
    location /old { return 200 "old\n"; }
--- request
GET /old/x
--- response_body
new /new/x



=== TEST 19: a "last" in a location searches again without the server-level rewrites
--- config
    rewrite ^/a$ /b;
    location /b { rewrite ^ /a last; }
    location /a { return 200 "a\n"; }
--- request
GET /b
--- response_body
a



=== TEST 20: a location's rewrites are not inherited by a nested location
--- config
    location /a {
        rewrite ^ /other last;
        location /a/b { return 200 "nested $uri\n"; }
    }
    location /other { return 200 "other\n"; }
--- request eval
["GET /a/b", "GET /a/c"]
--- response_body eval
["nested /a/b\n", "other\n"]



=== TEST 21: rewrite, set and return run in config order
--- config
    location /a {
        set $v one;
        rewrite ^/a(.*)$ /b$1;
        set $v "$v-two";
        return 200 "$v $uri\n";
    }
--- request
GET /a/z
--- response_body
one-two /b/z



=== TEST 22: break stops the list
--- config
    location /a { set $v 1; break; set $v 2; return 200 "not reached\n"; }
--- user_files
>>> a
file a
--- request
GET /a
--- response_body
file a



=== TEST 23: a rewrite into an internal location reaches it
--- config
    location /a { rewrite ^ /in last; }
    location /in { internal; return 200 "internal\n"; }
--- request eval
["GET /a", "GET /in"]
--- error_code eval
[200, 404]



=== TEST 24: rewrite regexes are case-sensitive
--- config
    location / { rewrite ^/ABC /x break; return 200 "$uri\n"; }
--- request
GET /abc
--- response_body
/abc



=== TEST 25: bad rewrite flag
--- config
    location / { rewrite ^/a /b foo; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "foo" in \S+\.conf:\d+/



=== TEST 26: bad rewrite regex
--- config
    location / { rewrite "^(/a" /b; }
--- must_die
--- error_log eval
qr/\[emerg\] .*missing closing parenthesis.* in \S+\.conf:\d+/



=== TEST 27: rewrite arguments count and context
--- config
    location / { rewrite ^/a; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "rewrite" directive in \S+\.conf:\d+/



=== TEST 28: rewrite is not allowed at http level
--- http_config
    rewrite ^/a /b;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"rewrite" directive is not allowed here in \S+\.conf:\d+/



=== TEST 29: rewrite_log takes on or off
--- config
    rewrite_log maybe;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in "rewrite_log" directive, it must be "on" or "off" in \S+\.conf:\d+/
