# "expires": Expires and Cache-Control as nginx computes them (off, epoch, max, access time,
# "modified", "@" time of day, negative times, variables), on the statuses it sets them on,
# inheritance, the seeds' example locations serving real files, and the configuration errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/141-expires.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the seeds' example: images, scripts and styles for 7 days
--- user_files
>>> img/logo.png
PNG
>>> js/app.js
var a = 1;
>>> style.css
body {}
--- config
    location ~ .*\.(gif|jpg|jpeg|png|bmp|swf|js|css)?$ {
        expires 7d;
    }
    location ~ .*\.(html|htm|json|xhtml|shtml)?$ {
        expires 300s;
    }
--- request eval
["GET /img/logo.png", "GET /js/app.js", "GET /style.css"]
--- response_headers eval
["Cache-Control: max-age=604800", "Cache-Control: max-age=604800",
 "Cache-Control: max-age=604800"]
--- response_headers_like eval
['Expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT', 'Expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT', 'Expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT']
--- response_body eval
["PNG\n", "var a = 1;\n", "body {}\n"]



=== TEST 2: the seeds' example: pages and JSON for 300 seconds
--- user_files
>>> page.html
<p>hi</p>
>>> data.json
{"a":1}
>>> other.txt
text
>>> x.htm
htm
--- config
    location ~ .*\.(gif|jpg|jpeg|png|bmp|swf|js|css)?$ {
        expires 7d;
    }
    location ~ .*\.(html|htm|json|xhtml|shtml)?$ {
        expires 300s;
    }
--- request eval
["GET /page.html", "GET /data.json", "GET /other.txt", "GET /x.htm"]
--- response_headers eval
["Cache-Control: max-age=300", "Cache-Control: max-age=300", "!Cache-Control\n!Expires",
 "Cache-Control: max-age=300"]
--- response_body_like eval
["<p>hi</p>", "\\{\"a\":1\\}", "text", "htm"]



=== TEST 3: epoch and max give nginx's fixed values
--- config
    location = /epoch { expires epoch; return 200 "e\n"; }
    location = /max { expires max; return 200 "m\n"; }
--- request eval
["GET /epoch", "GET /max"]
--- response_headers eval
["Expires: Thu, 01 Jan 1970 00:00:01 GMT\nCache-Control: no-cache",
 "Expires: Thu, 31 Dec 2037 23:55:55 GMT\nCache-Control: max-age=315360000"]



=== TEST 4: a negative time gives no-cache and a past date; zero gives max-age=0
--- config
    location = /neg { expires -1h; return 200 "n\n"; }
    location = /zero { expires 0; return 200 "z\n"; }
    location = /plus { expires +1h; return 200 "p\n"; }
--- request eval
["GET /neg", "GET /zero", "GET /plus"]
--- response_headers eval
["Cache-Control: no-cache", "Cache-Control: max-age=0", "Cache-Control: max-age=3600"]
--- response_headers_like eval
['Expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT', 'Expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT', 'Expires: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT']



=== TEST 5: "modified" counts from the file's Last-Modified
--- user_files
>>> old.txt 201707140240.00
old
--- config
    location /old.txt {
        expires modified +24h;
    }
--- request
GET /old.txt
--- response_headers
Expires: Sat, 15 Jul 2017 02:40:00 GMT
Cache-Control: no-cache
Last-Modified: Fri, 14 Jul 2017 02:40:00 GMT



=== TEST 6: "modified" in the future gives a positive max-age
--- user_files
>>> new.txt 210001010000.00
new
--- config
    location /new.txt {
        expires modified 1d;
    }
--- request
GET /new.txt
--- response_headers
Expires: Sat, 02 Jan 2100 00:00:00 GMT
--- response_headers_like
Cache-Control: max-age=\d{9,10}



=== TEST 7: "modified" without a Last-Modified counts from now
--- config
    location /t {
        expires modified 1d;
        return 200 "t\n";
    }
--- request
GET /t
--- response_headers
Cache-Control: max-age=86400



=== TEST 8: a time of day
--- config
    location /t {
        expires @15h30m;
        return 200 "t\n";
    }
--- request
GET /t
--- response_headers_like
Expires: .* \d\d:\d0:00 GMT
Cache-Control: max-age=\d{1,5}



=== TEST 9: off and inheritance: a location's own expires wins over the server's
--- config
    expires 1h;
    location /inherit { return 200 "i\n"; }
    location /off { expires off; return 200 "o\n"; }
    location /own { expires 2h; return 200 "w\n"; }
--- request eval
["GET /inherit", "GET /off", "GET /own"]
--- response_headers eval
["Cache-Control: max-age=3600", "!Cache-Control\n!Expires", "Cache-Control: max-age=7200"]



=== TEST 10: only on the statuses add_header uses without "always"
--- config
    expires 1h;
    location = /301 { return 301 /x; }
    location = /204 { return 204; }
    location = /404 { return 404; }
    location = /403 { return 403; }
    location = /500 { return 500; }
--- request eval
["GET /301", "GET /204", "GET /404", "GET /403", "GET /500", "GET /missing"]
--- error_code eval
[301, 204, 404, 403, 500, 404]
--- response_headers eval
["Cache-Control: max-age=3600", "Cache-Control: max-age=3600", "!Cache-Control\n!Expires",
 "!Cache-Control\n!Expires", "!Cache-Control\n!Expires", "!Cache-Control\n!Expires"]



=== TEST 11: a value from a variable, parsed per request; a bad one sets nothing
--- config
    location /t {
        expires $arg_e;
        return 200 "t\n";
    }
--- request eval
["GET /t?e=1h", "GET /t?e=epoch", "GET /t?e=off", "GET /t?e=bad", "GET /t?e=-5m",
 "GET /t?e=max"]
--- response_headers eval
["Cache-Control: max-age=3600", "Cache-Control: no-cache\nExpires: Thu, 01 Jan 1970 00:00:01 GMT",
 "!Cache-Control\n!Expires", "!Cache-Control\n!Expires", "Cache-Control: no-cache",
 "Cache-Control: max-age=315360000"]



=== TEST 12: "modified" with a variable
--- user_files
>>> old.txt 201707140240.00
old
--- config
    location /old.txt {
        expires modified $arg_e;
    }
--- request
GET /old.txt?e=2h
--- response_headers
Expires: Fri, 14 Jul 2017 04:40:00 GMT
Cache-Control: no-cache



=== TEST 13: add_header Cache-Control comes after the one expires sets
--- config
    location /t {
        expires 1m;
        add_header Cache-Control public;
        return 200 "t\n";
    }
--- request
GET /t
--- raw_response_headers_like: Cache-Control: max-age=60\r\n(?:.*\r\n)*Cache-Control: public\r\n



=== TEST 14: HEAD gets the headers too
--- user_files
>>> a.css
a {}
--- config
    location /a.css {
        expires 7d;
    }
--- request
HEAD /a.css
--- response_headers
Cache-Control: max-age=604800
--- response_body



=== TEST 15: an unknown word
--- config
    location /t {
        expires soon;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"expires" directive invalid value in .*moongate\.conf:\d+/



=== TEST 16: two words where the first is not "modified"
--- config
    location /t {
        expires access 1h;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"expires" directive invalid value in .*moongate\.conf:\d+/



=== TEST 17: duplicate
--- config
    location /t {
        expires 1h;
        expires 2h;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"expires" directive is duplicate in .*moongate\.conf:\d+/



=== TEST 18: a time of day over 24 hours
--- config
    location /t {
        expires @24h1s;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"expires" directive daily time value must be less than 24 hours in .*moongate\.conf:\d+/



=== TEST 19: a time of day with "modified"
--- config
    location /t {
        expires modified @10h;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"expires" directive daily time cannot be used with "modified" parameter in .*moongate\.conf:\d+/



=== TEST 20: "modified epoch" is not a time
--- config
    location /t {
        expires modified epoch;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"expires" directive invalid value in .*moongate\.conf:\d+/



=== TEST 21: three arguments
--- config
    location /t {
        expires modified 1h 2h;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "expires" directive in .*moongate\.conf:\d+/



=== TEST 22: a 304 gets them too
--- user_files
>>> old.txt 201707140240.00
old
--- config
    location /old.txt {
        expires 1h;
        add_header X-A a;
    }
--- request
GET /old.txt
--- more_headers
If-Modified-Since: Fri, 14 Jul 2017 02:40:00 GMT
--- error_code: 304
--- response_headers
Cache-Control: max-age=3600
X-A: a



=== TEST 23: inside "if" in a location
--- config
    location /t {
        if ($arg_x) {
            expires 2h;
            add_header X-If yes;
        }
        return 200 "t\n";
    }
--- request eval
["GET /t?x=1", "GET /t"]
--- response_headers eval
["Cache-Control: max-age=7200\nX-If: yes", "!Cache-Control\n!X-If"]
