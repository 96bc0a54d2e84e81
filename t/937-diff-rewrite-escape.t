# Found by running the same configs on nginx and moongate: how rewrite builds its result from
# regex captures. When the client's path had a '%' or a '+', the captures in a rewrite's
# arguments, and everywhere in a redirect, come %-escaped as query arguments; a redirect's
# target is then decoded where nginx decodes it (%XX of a printable character after '%', up to
# the first '?'), and the request's arguments follow with "?" unless the replacement itself
# has a literal "?" (a "$request_uri" holding arguments gets them twice, as nginx sends it).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/937-diff-rewrite-escape.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a capture in a rewrite's new arguments is escaped when the path had '%' or '+'
--- config
    location /show { return 200 "uri=$uri args=$args\n"; }
    location /e/ { rewrite ^/e/(.*)$ /show/$1?v=$1 last; }
--- request eval
["GET /e/a%20b", "GET /e/a+b", "GET /e/a%26b%3Dc", "GET /e/%C3%A9%22%3C", "GET /e/a&b", "GET /e/./a%3Bb"]
--- response_body eval
["uri=/show/a b args=v=a%20b\n", "uri=/show/a+b args=v=a%2Bb\n", "uri=/show/a&b=c args=v=a%26b=c\n",
 "uri=/show/\xc3\xa9\"< args=v=%C3%A9%22%3C\n", "uri=/show/a&b args=v=a&b\n", "uri=/show/a;b args=v=a%3Bb\n"]



=== TEST 2: ... and kept with the request's own arguments after them
--- config
    location /show { return 200 "args=$args\n"; }
    location /e/ { rewrite ^/e/(.*)$ /show?v=$1; }
--- request
GET /e/x%20y?k=%20
--- response_body
args=v=x%20y&k=%20



=== TEST 3: a named capture is a variable: never escaped
--- config
    location /show { return 200 "args=$args\n"; }
    location /m/ { rewrite ^/m/(?<nm>.*)$ /show?v=$nm last; }
--- request
GET /m/a%20b
--- response_body
args=v=a b



=== TEST 4: a capture in a redirect is escaped when the path had '%'; printable %XX are decoded
--- config
    location /r/ { rewrite ^/r/(.*)$ /x/$1 redirect; }
--- request eval
["GET /r/a%20b", "GET /r/a%3Fb?q=1", "GET /r/%C3%A9%7E", "GET /r/a+b", "GET /r/a%25zz"]
--- error_code eval
[302, 302, 302, 302, 302]
--- response_headers_like eval
["Location: http://localhost(:\\d+)?/x/a%20b\r?\$", "Location: http://localhost(:\\d+)?/x/a\\?b\\?q=1\r?\$",
 "Location: http://localhost(:\\d+)?/x/%C3%A9~\r?\$", "Location: http://localhost(:\\d+)?/x/a\\+b\r?\$",
 "Location: http://localhost(:\\d+)?/x/a%25zz\r?\$"]



=== TEST 5: the replacement's own %XX: printable ones decoded up to the first "?"
--- config
    location /t { rewrite ^ http://example.com/a%2Fb%20c%C3%A9%3Fd%25 redirect; }
    location /u { rewrite ^ http://example.com/u%zz%4x%41%2 redirect; }
--- request eval
["GET /t", "GET /t?z=1", "GET /u"]
--- error_code eval
[302, 302, 302]
--- response_headers eval
["Location: http://example.com/a/b%20c%C3%A9?d%25", "Location: http://example.com/a/b%20c%C3%A9?d%25?z=1",
 "Location: http://example.com/uzzA"]



=== TEST 6: $request_uri in a redirect: its arguments and the request's both follow with "?"
--- config
    location /ru/ { rewrite ^ https://example.com$request_uri permanent; }
    location /ok/ { rewrite ^ https://example.com$request_uri? permanent; }
--- request eval
["GET /ru/p?x=1", "GET /ru/a%2Fb", "GET /ok/p?x=1"]
--- error_code eval
[301, 301, 301]
--- response_headers eval
["Location: https://example.com/ru/p?x=1?x=1", "Location: https://example.com/ru/a/b",
 "Location: https://example.com/ok/p?x=1"]



=== TEST 7: a replacement with a literal "?" takes the request's arguments with "&"
--- config
    location /s/ { rewrite ^/s/(.*)$ http://e.com/x/$1?y=$1 redirect; }
--- request
GET /s/a%20b?d=1
--- error_code: 302
--- response_headers
Location: http://e.com/x/a%20b?y=a%20b&d=1



=== TEST 8: a '#' in the request target ends $uri and $args; $request_uri keeps it
--- config
    location /show { return 200 "uri=$uri args=$args ru=$request_uri\n"; }
--- user_files
>>> a.txt
a
--- request eval
["GET /a.txt#x", "GET /show#b?x=1", "GET /show?x=1#y", "GET /show/a#b/../c", "GET /show/..#", "GET /show/x#%zz"]
--- error_code eval
[200, 200, 200, 200, 403, 200]
--- response_body_like eval
["^a\n\\z", "^uri=/show args= ru=/show#b\\?x=1\n\\z", "^uri=/show args=x=1 ru=/show\\?x=1#y\n\\z",
 "^uri=/show/a args= ru=/show/a#b/../c\n\\z", "403 Forbidden", "^uri=/show/x args= ru=/show/x#%zz\n\\z"]
