# Location choice as nginx makes it: "=" exact, longest prefix, "^~", regexes
# in config order, nested locations, named and internal locations, regex
# captures, directory redirects, index, root and alias, path traversal.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/110-location.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: "=" beats a prefix and a regex of the same URI
--- config
    location = /a { return 200 "exact\n"; }
    location /a { return 200 "prefix\n"; }
    location ~ ^/a { return 200 "regex\n"; }
--- request eval
["GET /a", "GET /ab", "GET /a/"]
--- response_body eval
["exact\n", "regex\n", "regex\n"]



=== TEST 2: the longest prefix wins, whatever the config order
--- config
    location /a/ { return 200 "a\n"; }
    location /a/b/c/ { return 200 "abc\n"; }
    location /a/b/ { return 200 "ab\n"; }
--- request eval
["GET /a/x", "GET /a/b/x", "GET /a/b/c/x", "GET /a/b/cx"]
--- response_body eval
["a\n", "ab\n", "abc\n", "ab\n"]



=== TEST 3: prefix matching is case-sensitive
--- config
    location /Abc { return 200 "Abc\n"; }
    location / { return 200 "root\n"; }
--- request eval
["GET /Abc", "GET /abc", "GET /ABC"]
--- response_body eval
["Abc\n", "root\n", "root\n"]



=== TEST 4: "^~" on the longest prefix stops the regex search
--- config
    location ^~ /static/ { return 200 "static\n"; }
    location ~ \.png$ { return 200 "png\n"; }
--- request eval
["GET /static/x.png", "GET /other/x.png", "GET /static/x.txt"]
--- response_body eval
["static\n", "png\n", "static\n"]



=== TEST 5: "^~" on a shorter prefix does not stop regexes when a longer plain prefix matches
--- config
    location ^~ /a/ { return 200 "a\n"; }
    location /a/b/ { return 200 "ab\n"; }
    location ~ \.png$ { return 200 "png\n"; }
--- request eval
["GET /a/x.png", "GET /a/b/x.png", "GET /a/b/x"]
--- response_body eval
["a\n", "png\n", "ab\n"]



=== TEST 6: regexes are tried in config order, the first match wins
--- config
    location ~ /x { return 200 "first\n"; }
    location ~ /x/y { return 200 "second\n"; }
    location ~ \.txt$ { return 200 "third\n"; }
--- request eval
["GET /x/y", "GET /q.txt", "GET /x/y.txt"]
--- response_body eval
["first\n", "third\n", "first\n"]



=== TEST 7: "~" is case-sensitive, "~*" is not
--- config
    location ~ \.png$ { return 200 "cs\n"; }
    location ~* \.jpg$ { return 200 "ci\n"; }
    location / { return 200 "root\n"; }
--- request eval
["GET /a.png", "GET /a.PNG", "GET /a.jpg", "GET /a.JpG"]
--- response_body eval
["cs\n", "root\n", "ci\n", "ci\n"]



=== TEST 8: a regex beats the longest prefix; with no regex match the prefix is used
--- config
    location /files/ { return 200 "prefix\n"; }
    location ~ \.php$ { return 200 "php\n"; }
--- request eval
["GET /files/a.php", "GET /files/a.html", "GET /a.php"]
--- response_body eval
["php\n", "prefix\n", "php\n"]



=== TEST 9: nested prefix inside a prefix
--- config
    location /a/ {
        location /a/b/ { return 200 "inner\n"; }
        return 200 "outer\n";
    }
--- request eval
["GET /a/x", "GET /a/b/x"]
--- response_body eval
["outer\n", "inner\n"]



=== TEST 10: nested regex inside a prefix
--- config
    location /a/ {
        location ~ \.txt$ { return 200 "inner regex\n"; }
        return 200 "outer\n";
    }
    location / { return 200 "root\n"; }
--- request eval
["GET /a/x.txt", "GET /a/x.png", "GET /b/x.txt"]
--- response_body eval
["inner regex\n", "outer\n", "root\n"]



=== TEST 11: a server-level regex still wins over a prefix nested in the chosen prefix
--- config
    location /a/ {
        location /a/b/ { return 200 "nested prefix\n"; }
        return 200 "outer\n";
    }
    location ~ \.txt$ { return 200 "outer regex\n"; }
--- request eval
["GET /a/b/x.txt", "GET /a/b/x"]
--- response_body eval
["outer regex\n", "nested prefix\n"]



=== TEST 12: "^~" on the outer prefix shields its nested locations from server regexes
--- config
    location ^~ /a/ {
        location /a/b/ { return 200 "nested prefix\n"; }
        return 200 "outer\n";
    }
    location ~ \.txt$ { return 200 "regex\n"; }
--- request eval
["GET /a/b/x.txt", "GET /a/x.txt"]
--- response_body eval
["nested prefix\n", "outer\n"]



=== TEST 13: named locations cannot be requested by URI
--- config
    location @x { return 200 "named\n"; }
    location / { return 200 "root:$uri\n"; }
--- request
GET /@x
--- response_body
root:/@x



=== TEST 14: internal location answers 404 to a client
--- config
    location /secret { internal; return 200 "secret\n"; }
--- request
GET /secret
--- error_code: 404
--- response_body_like: 404 Not Found



=== TEST 15: regex captures in return
--- config
    location ~ ^/u/(\w+)/(\d+)$ { return 200 "$1:$2:[$3]\n"; }
--- request
GET /u/bob/42
--- response_body
bob:42:[]



=== TEST 16: "$10" is capture 1 followed by "0"
--- config
    location ~ ^/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)$ { return 200 "$10 $9 $2x\n"; }
--- request
GET /abcdefghij
--- response_body
a0 i bx



=== TEST 17: named captures of a location regex become variables
--- config
    location ~ ^/user/(?<name>[a-z]+)/(?P<id>\d+)$ { return 200 "$name $id $1 $2\n"; }
--- request
GET /user/joe/7
--- response_body
joe 7 joe 7



=== TEST 18: the seed's image regex: the extension group is optional, a dot is required
--- config
    location ~ .*\.(gif|jpg|jpeg|png|bmp|swf|js|css)?$ { return 200 "static [$1]\n"; }
    location / { return 200 "root\n"; }
--- request eval
["GET /a.png", "GET /a/b.css", "GET /foo", "GET /a.", "GET /a.html", "GET /x.html.js"]
--- response_body eval
["static [png]\n", "static [css]\n", "root\n", "static []\n", "root\n", "static [js]\n"]



=== TEST 19: the seed's two regexes: each takes its extensions, the first listed wins when both match
--- config
    location ~ .*\.(gif|jpg|jpeg|png|bmp|swf|js|css)?$ { return 200 "images\n"; }
    location ~ .*\.(html|htm|json|xhtml|shtml)?$ { return 200 "pages\n"; }
    location / { return 200 "root\n"; }
--- request eval
["GET /a.jpeg", "GET /a.json", "GET /index.html", "GET /a.", "GET /README", "GET /a.txt"]
--- response_body eval
["images\n", "pages\n", "pages\n", "images\n", "root\n", "root\n"]



=== TEST 20: modifiers written against the pattern
--- config
    location =/x { return 200 "exact\n"; }
    location ~*\.PNG$ { return 200 "png\n"; }
    location ^~/s/ { return 200 "s\n"; }
    location / { return 200 "root\n"; }
--- request eval
["GET /x", "GET /x/", "GET /a.png", "GET /s/a.png"]
--- response_body eval
["exact\n", "root\n", "png\n", "s\n"]



=== TEST 21: "location / {}" catches everything with the server root
--- config
    location / {}
--- user_files
>>> f.txt
file
--- request eval
["GET /f.txt", "GET /nope"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^file\n\\z", "404 Not Found"]



=== TEST 22: a directory without the slash: 301 to the absolute URL with the port
--- config
    location / {}
--- user_files
>>> dir/index.html
in dir
--- request
GET /dir
--- error_code: 301
--- response_headers eval
"Location: http://localhost:$Test::Moongate::ServerPort/dir/"
--- response_body_like: 301 Moved Permanently



=== TEST 23: the directory redirect keeps the query string
--- config
    location / {}
--- user_files
>>> dir/index.html
in dir
--- request
GET /dir?a=1&b=2
--- error_code: 301
--- response_headers eval
"Location: http://localhost:$Test::Moongate::ServerPort/dir/?a=1&b=2"



=== TEST 24: absolute_redirect off: a relative Location
--- config
    absolute_redirect off;
    location / {}
--- user_files
>>> dir/index.html
in dir
--- request
GET /dir
--- error_code: 301
--- response_headers
Location: /dir/



=== TEST 25: port_in_redirect off
--- config
    port_in_redirect off;
    location / {}
--- user_files
>>> dir/index.html
in dir
--- request
GET /dir
--- error_code: 301
--- response_headers
Location: http://localhost/dir/



=== TEST 26: the redirect uses the Host header, or the server name with server_name_in_redirect on
--- config
    location /a/ { alias $TEST_NGINX_HTML_DIR/; }
    location /b/ { alias $TEST_NGINX_HTML_DIR/; server_name_in_redirect on; }
--- user_files
>>> dir/index.html
in dir
--- more_headers
Host: example.com
--- request eval
["GET /a/dir", "GET /b/dir"]
--- error_code eval
[301, 301]
--- response_headers eval
["Location: http://example.com:$Test::Moongate::ServerPort/a/dir/",
 "Location: http://localhost:$Test::Moongate::ServerPort/b/dir/"]



=== TEST 27: the directory itself is served through its index
--- config
    location / {}
--- user_files
>>> dir/index.html
in dir
--- request
GET /dir/
--- response_body
in dir



=== TEST 28: several index files: the first that exists
--- config
    location / { index a.html b.html c.html; }
--- user_files
>>> d/b.html
b
>>> d/c.html
c
--- request
GET /d/
--- response_body
b



=== TEST 29: an absolute last index is an internal redirect when nothing else exists
--- config
    location / { index a.html /fallback.txt; }
    location = /fallback.txt { return 200 "fallback for $request_uri\n"; }
--- user_files
>>> d/x.html
x
--- request
GET /d/
--- response_body
fallback for /d/



=== TEST 30: directory without index file: 403 and the error in the log
--- config
    location / { index none.html; }
--- user_files
>>> d/x.html
x
--- request
GET /d/
--- error_code: 403
--- error_log eval
qr{directory index of ".*/html/d/" is forbidden}



=== TEST 31: root appends the whole URI, alias replaces the location prefix
--- config
    location /r/ { root $TEST_NGINX_HTML_DIR/sub; }
    location /al/ { alias $TEST_NGINX_HTML_DIR/sub/; }
--- user_files
>>> sub/r/f.txt
via root
>>> sub/f.txt
via alias
--- request eval
["GET /r/f.txt", "GET /al/f.txt"]
--- response_body eval
["via root\n", "via alias\n"]



=== TEST 32: alias in a regex location with a capture
--- config
    location ~ ^/img/(.*)$ { alias $TEST_NGINX_HTML_DIR/pics/$1; }
--- user_files
>>> pics/cat.png
meow
--- request eval
["GET /img/cat.png", "GET /img/dog.png"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^meow\n\\z", "404 Not Found"]



=== TEST 33: $document_root and $request_filename for root and alias
--- config
    location /r/ { root /srv/www; return 200 "$document_root $request_filename\n"; }
    location /al/ { alias /srv/data/; return 200 "$document_root $request_filename\n"; }
--- request eval
["GET /r/x.txt", "GET /al/x.txt"]
--- response_body eval
["/srv/www /srv/www/r/x.txt\n", "/srv/data/ /srv/data/x.txt\n"]



=== TEST 34: dot segments are resolved inside the URI
--- config
    location /a/ { return 200 "a:$uri\n"; }
    location / { return 200 "root:$uri\n"; }
--- request eval
["GET /a/../b/x", "GET /x/../a/y", "GET /a/./b/%2e/c"]
--- response_body eval
["root:/b/x\n", "a:/a/y\n", "a:/a/b/c\n"]



=== TEST 35: climbing above the root is a bad request, never a file outside root
--- config
    location / {}
--- request eval
["GET /../etc/passwd", "GET /%2e%2e/etc/passwd", "GET /a/../../etc/passwd", "GET /%2E%2E%2Fetc%2Fpasswd"]
--- error_code eval
[400, 400, 400, 400]
--- response_body_unlike: root:



=== TEST 36: a location of "/" alone catches what no other prefix takes
--- config
    location /api { return 200 "api\n"; }
    location / { return 200 "default\n"; }
--- request eval
["GET /api/v1", "GET /apix", "GET /ap", "GET /"]
--- response_body eval
["api\n", "api\n", "default\n", "default\n"]



=== TEST 37: duplicate location is a config error
--- config
    location /a { return 200; }
    location /a { return 204; }
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate location "\/a" in .*moongate\.conf:\d+/



=== TEST 38: "=" and plain prefix of the same name are not duplicates
--- config
    location = /a { return 200 "exact\n"; }
    location /a { return 200 "prefix\n"; }
--- request eval
["GET /a", "GET /a/b"]
--- response_body eval
["exact\n", "prefix\n"]



=== TEST 39: nested location outside its parent is a config error
--- config
    location /a/ {
        location /b/ { return 200; }
    }
--- must_die
--- error_log
location "/b/" is outside location "/a/"



=== TEST 40: bad regex in a location is a config error
--- config
    location ~ ^/(a { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*pcre2?_compile\(\) failed: missing (closing parenthesis|\)) in "\^\/\(a"/



=== TEST 41: captures are spelled $1..$9 only: "${1}" is an unknown variable
--- config
    location ~ ^/(a)$ { return 200 "${1}\n"; }
--- must_die
--- error_log
unknown "1" variable



=== TEST 42: a named capture is empty when its regex did not match
--- config
    location ~ ^/n/(?<word>[a-z]+)$ { return 200 "word=$word\n"; }
    location / { return 200 "word=[$word]\n"; }
--- request eval
["GET /n/abc", "GET /n/123"]
--- response_body eval
["word=abc\n", "word=[]\n"]



=== TEST 43: a matching regex without groups empties the captures of an earlier match
--- config
    location ~ ^/(k)/ {
        location ~ \.txt$ { return 200 "[$1]\n"; }
    }
--- request
GET /k/a.txt
--- response_body
[]



=== TEST 44: locations match the decoded, normalized URI
--- config
    location = "/a b" { return 200 "space\n"; }
    location /x/y { return 200 "xy:$uri\n"; }
    location / { return 200 "root:$uri\n"; }
--- request eval
["GET /a%20b", "GET //x///y/z", "GET /x%2Fy"]
--- response_body eval
["space\n", "xy:/x/y/z\n", "xy:/x/y\n"]



=== TEST 45: merge_slashes off: the URI keeps its slashes for the location search
--- config
    merge_slashes off;
    location /x/y { return 200 "xy\n"; }
    location / { return 200 "root:$uri\n"; }
--- request
GET //x//y
--- response_body
root://x//y



=== TEST 46: "location = /" with index: the index file is looked up in another location
--- config
    location = / { index index.html; }
    location / { return 200 "second pass: $uri\n"; }
--- user_files
>>> index.html
index
--- request
GET /
--- response_body
second pass: /index.html



=== TEST 47: a regex location inside a regex location
--- config
    location ~ ^/r/ {
        location ~ \.txt$ { return 200 "inner\n"; }
        return 200 "outer\n";
    }
--- request eval
["GET /r/a.txt", "GET /r/a.png"]
--- response_body eval
["inner\n", "outer\n"]



=== TEST 48: the regex subject is the decoded URI without the query string
--- config
    location ~ ^/q/(.+)$ { return 200 "[$1]\n"; }
--- request
GET /q/a%3Fb?c=d
--- response_body
[a?b]



=== TEST 49: a nested location inherits the outer root
--- config
    location /n/ {
        root $TEST_NGINX_HTML_DIR/sub;
        location ~ \.txt$ { }
    }
--- user_files
>>> sub/n/f.txt
nested root
--- request
GET /n/f.txt
--- response_body
nested root



=== TEST 50: the redirect keeps the Host name but uses the listening port
--- config
    location / {}
--- user_files
>>> dir/index.html
in dir
--- more_headers
Host: example.com:8080
--- request
GET /dir
--- error_code: 301
--- response_headers eval
"Location: http://example.com:$Test::Moongate::ServerPort/dir/"



=== TEST 51: an index file may lead into an internal location
--- config
    location / { index /i/x; }
    location /i/ { internal; return 200 "internal $uri\n"; }
--- request eval
["GET /", "GET /i/x"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^internal /i/x\n\\z", "404 Not Found"]



=== TEST 52: alias with a capture: $request_filename and $document_root, and the directory redirect
--- config
    location ~ ^/pic/(.*)$ { alias /srv/pics/$1; return 200 "$request_filename|$document_root\n"; }
    location ~ ^/img/(.*)$ { alias $TEST_NGINX_HTML_DIR/pics/$1; }
--- user_files
>>> pics/d/a.png
x
--- request eval
["GET /pic/d/e.png", "GET /img/d"]
--- error_code eval
[200, 301]
--- response_body_like eval
["^/srv/pics/d/e.png\\|/srv/pics/d/e.png\n\\z", "301 Moved Permanently"]



=== TEST 53: a named location inside a location is a config error
--- config
    location /a { location @n { } }
--- must_die
--- error_log
named location "@n" can be on the server level only in



=== TEST 54: nothing can be nested in an exact location
--- config
    location = /a { location /a/b { } }
--- must_die
--- error_log
location "/a/b" cannot be inside the exact location "/a" in



=== TEST 55: an unknown modifier is a config error
--- config
    location ~~ /a { }
--- must_die
--- error_log
invalid location modifier "~~" in



=== TEST 56: "location" takes one or two arguments
--- config
    location = /a /b { }
--- must_die
--- error_log
invalid number of arguments in "location" directive in



=== TEST 57: no alias in a named location
--- config
    location @a { alias /tmp/; }
--- must_die
--- error_log
the "alias" directive cannot be used inside the named location in
