# add_header as nginx applies it: the statuses it adds to without "always", empty values,
# variables, several headers of one name, the "own add_header drops the parent's" rule, the
# headers it replaces (ETag, Last-Modified) and the configuration errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/140-headers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a header on a 200, with a variable in the value
--- config
    location /t {
        add_header X-Plain hello;
        add_header X-Var "u=$uri a=$arg_a";
        return 200 "ok\n";
    }
--- request
GET /t?a=1
--- response_headers
X-Plain: hello
X-Var: u=/t a=1
--- response_body
ok



=== TEST 2: statuses that get headers without "always", and ones that do not
--- config
    location /s {
        add_header X-H yes;
        return 200 "x";
    }
    location = /201 { add_header X-H yes; return 201 "x"; }
    location = /204 { add_header X-H yes; return 204; }
    location = /206 { add_header X-H yes; return 206 "x"; }
    location = /301 { add_header X-H yes; return 301 /x; }
    location = /302 { add_header X-H yes; return 302 /x; }
    location = /303 { add_header X-H yes; return 303 /x; }
    location = /307 { add_header X-H yes; return 307 /x; }
    location = /308 { add_header X-H yes; return 308 /x; }
    location = /400 { add_header X-H yes; return 400; }
    location = /403 { add_header X-H yes; return 403; }
    location = /404 { add_header X-H yes; return 404; }
    location = /500 { add_header X-H yes; return 500; }
    location = /202 { add_header X-H yes; return 202 "x"; }
--- request eval
["GET /201", "GET /204", "GET /206", "GET /301", "GET /302", "GET /303", "GET /307",
 "GET /308", "GET /400", "GET /403", "GET /404", "GET /500", "GET /202"]
--- error_code eval
[201, 204, 206, 301, 302, 303, 307, 308, 400, 403, 404, 500, 202]
--- response_headers eval
["X-H: yes", "X-H: yes", "X-H: yes", "X-H: yes", "X-H: yes", "X-H: yes", "X-H: yes",
 "X-H: yes", "!X-H", "!X-H", "!X-H", "!X-H", "!X-H"]



=== TEST 3: "always" adds to every status, the others only to the listed ones
--- config
    location /t {
        add_header X-Always a always;
        add_header X-Normal n;
        return 404;
    }
--- request
GET /t
--- error_code: 404
--- response_headers
X-Always: a
!X-Normal



=== TEST 4: "always" on an error page of a missing file
--- config
    location / {
        add_header X-Err e always;
    }
--- request
GET /no-such-file
--- error_code: 404
--- response_headers
X-Err: e
--- response_body_like: 404 Not Found



=== TEST 5: an empty value adds nothing, also when a variable is empty
--- config
    location /t {
        add_header X-Empty "";
        add_header X-Var $arg_v;
        return 200 "ok\n";
    }
--- request eval
["GET /t", "GET /t?v=set"]
--- response_headers eval
["!X-Empty\n!X-Var", "!X-Empty\nX-Var: set"]



=== TEST 6: several headers of one name go out as several lines, in order
--- config
    location /t {
        add_header X-M one;
        add_header X-M two;
        add_header Set-Cookie a=1;
        add_header Set-Cookie b=2;
        return 200 "ok\n";
    }
--- request
GET /t
--- raw_response_headers_like: X-M: one\r\nX-M: two\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n



=== TEST 7: a level with its own add_header does not inherit the parent's
--- http_config
    add_header X-Http h;
--- config
    add_header X-Server s;
    location /own {
        add_header X-Loc l;
        return 200 "own\n";
    }
    location /inherit {
        return 200 "inherit\n";
    }
    location /nested {
        add_header X-Outer o;
        location /nested/inner {
            return 200 "inner\n";
        }
        location /nested/own {
            add_header X-Inner i;
            return 200 "inner own\n";
        }
    }
--- request eval
["GET /own", "GET /inherit", "GET /nested/inner", "GET /nested/own"]
--- response_headers eval
["X-Loc: l\n!X-Server\n!X-Http", "X-Server: s\n!X-Http", "X-Outer: o\n!X-Server",
 "X-Inner: i\n!X-Outer"]



=== TEST 8: the http level's headers reach a server without its own
--- http_config
    add_header X-Http h;
--- config
    location /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_headers
X-Http: h



=== TEST 9: add_header ETag replaces the file's ETag; an empty one removes it
--- user_files
>>> a.txt
hello
>>> b/b.txt
hello
--- config
    location /a.txt {
        add_header ETag '"mine"';
    }
    location /b/ {
        add_header ETag "";
        add_header X-B b;
    }
--- request eval
["GET /a.txt", "GET /b/b.txt"]
--- response_headers eval
["ETag: \"mine\"", "!ETag\nX-B: b"]
--- response_body eval
["hello\n", "hello\n"]



=== TEST 10: add_header Last-Modified replaces the file's date
--- user_files
>>> a.txt 201707140240.00
hello
--- config
    location /a.txt {
        add_header Last-Modified "Wed, 01 Jan 2020 00:00:00 GMT";
    }
--- request
GET /a.txt
--- response_headers
Last-Modified: Wed, 01 Jan 2020 00:00:00 GMT
--- raw_response_headers_unlike: Jul 2017



=== TEST 11: a name's case is kept as written
--- config
    location /t {
        add_header x-lower-CASE v;
        return 200 "ok\n";
    }
--- request
GET /t
--- raw_response_headers_like: \r\nx-lower-CASE: v\r\n



=== TEST 12: a bad last parameter
--- config
    location /t {
        add_header X-A a never;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "never" in .*moongate\.conf:\d+/



=== TEST 13: one argument is too few, four too many
--- config
    location /t {
        add_header X-A a always always;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "add_header" directive in .*moongate\.conf:\d+/



=== TEST 14: an unknown variable in the value
--- config
    location /t {
        add_header X-A $no_such_variable_here;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "no_such_variable_here" variable/



=== TEST 15: not allowed at the main level
--- main_config
    add_header X-A a;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"add_header" directive is not allowed here in .*moongate\.conf:\d+/
