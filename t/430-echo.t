# echo (OpenResty's echo-nginx-module): a location's echo_* program, its subrequests, loops,
# waits and filters, and its variables.
#
#   prove -I t/lib t/430-echo.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/430-echo.t   (needs
#   libnginx-mod-http-echo, or TEST_MOONGATE_NGINX_MODULES naming a directory with its .so)

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: echo, -n, --, several words, an empty echo
--- config
    location /e {
        echo hello world;
        echo -n "a ";
        echo b;
        echo -- -n x;
        echo;
        echo "$arg_v!";
        echo -x "unknown options are dropped";
        set $opt -n;
        echo $opt "from a variable is a word";
    }
--- request
GET /e?v=yes
--- response_headers
Content-Type: text/plain
!Content-Length
--- response_body
hello world
a b
-n x

yes!
unknown options are dropped
-n from a variable is a word



=== TEST 2: echo_duplicate, echo_status, default_type
--- config
    location /d {
        default_type text/html;
        echo_status 404;
        echo_duplicate 3 "ab";
        echo_duplicate 0 "zz";
        echo_duplicate 1 "$arg_x";
        echo;
    }
--- request
GET /d?x=END
--- error_code: 404
--- response_headers
Content-Type: text/html
--- response_body
abababEND



=== TEST 3: echo_location and echo_location_async put their output in place
--- config
    location /main {
        echo start;
        echo_location /sub1 "a=1";
        echo_location_async /sub2 "b=2";
        echo_location /sub1;
        echo end;
    }
    location /sub1 {
        echo "sub1 a=$arg_a method=$echo_request_method uri=$echo_request_uri";
    }
    location /sub2 {
        echo_sleep 0.1;
        echo "sub2 b=$arg_b";
    }
--- request
GET /main?q=1
--- response_body
start
sub1 a=1 method=GET uri=/sub1
sub2 b=2
sub1 a= method=GET uri=/sub1
end



=== TEST 4: echo_location waits: the timer shows the sync subrequests' time
--- config
    location /main {
        echo_reset_timer;
        echo_location /s;
        echo_location /s;
        echo "slow: $echo_timer_elapsed";
    }
    location /s {
        echo_sleep 0.2;
        echo hi;
    }
--- request
GET /main
--- response_body_like chomp
^hi\nhi\nslow: 0\.[4-9]\d\d\n$



=== TEST 5: echo_location_async runs in parallel: the main program does not wait
--- config
    location /main {
        echo_reset_timer;
        echo_location_async /s;
        echo_location_async /s;
        echo "took: $echo_timer_elapsed";
    }
    location /s {
        echo_sleep 1;
        echo hi;
    }
--- request
GET /main
--- response_body_like chomp
^hi\nhi\ntook: 0\.[0-4]\d\d\n$



=== TEST 6: echo_subrequest with a method, a query, a body and a file body
--- user_files
>>> body.txt
hello
--- config
    location /main {
        echo_subrequest POST /sub -q "foo=Foo" -b "hi";
        echo_subrequest_async PUT /sub -q "bar=Bar" -f "html/body.txt";
        echo_subrequest GET /sub;
    }
    location /sub {
        echo "q: $query_string";
        echo "method: $echo_request_method";
        echo "body: $echo_request_body";
        echo "length: $http_content_length";
        echo "///";
    }
--- request
GET /main
--- response_body
q: foo=Foo
method: POST
body: hi
length: 2
///
q: bar=Bar
method: PUT
body: 
length: 6
///
q: 
method: GET
body: 
length: 
///



=== TEST 6a: echo_subrequest -h sets a header line of the subrequest (Debian's echo 0.63
has no -h: "unknown option for echo_subrequest*")
--- moongate_only
--- config
    location /main {
        echo_subrequest GET /sub -h 'X-Foo: bar' -h 'User-Agent: sub-agent';
    }
    location /sub { echo "[$http_x_foo] [$http_user_agent] [$http_x_keep]"; }
--- request
GET /main
--- more_headers
User-Agent: client
X-Keep: kept
--- response_body
[bar] [sub-agent] [kept]



=== TEST 6b: an unknown option of echo_subrequest is an error: the connection is closed
--- config
    location /main {
        echo_subrequest GET /sub -x 1;
    }
    location /sub { echo sub; }
--- request
GET /main
--- ignore_response
--- error_log
unknown option for echo_subrequest*: -x



=== TEST 7: echo_foreach_split over $echo_it; an empty list
--- config
    location /loop {
        echo_foreach_split ',' $arg_list;
            echo "item: $echo_it";
        echo_end;
        echo "after: [$echo_it]";
    }
    location /empty {
        echo_foreach_split ',' $arg_none;
            echo "never";
        echo_end;
        echo "empty";
    }
--- pipelined_requests eval
["GET /loop?list=cat,dog,mouse", "GET /empty"]
--- response_body eval
["item: cat\nitem: dog\nitem: mouse\nafter: []\n", "empty\n"]



=== TEST 7a: a delimiter of several bytes (echo's README; Debian's echo 0.63 answers 500), a
stray echo_end does nothing (it crashes echo 0.63's worker)
--- moongate_only
--- config
    location /multi {
        echo_foreach_split '-a-' 'cat-a-dog-a-mouse';
            echo -n "$echo_it ";
        echo_end;
        echo;
    }
    location /stray {
        echo a;
        echo_end;
        echo b;
    }
--- pipelined_requests eval
["GET /multi", "GET /stray"]
--- response_body eval
["cat dog mouse \n", "a\nb\n"]



=== TEST 8: echo_foreach_split with echo_location_async: a merge of several resources
--- config
    location /merge {
        echo_foreach_split '&' $query_string;
            echo "/* $echo_it */";
            echo_location_async $echo_it;
        echo_end;
    }
    location /a.js { echo "var a;"; }
    location /b.js { echo "var b;"; }
--- request
GET /merge?/a.js&/b.js
--- response_body
/* /a.js */
var a;
/* /b.js */
var b;



=== TEST 9: echo_read_request_body, echo_request_body and $echo_request_body
--- config
    location /body {
        echo_read_request_body;
        echo_request_body;
        echo;
        echo "[$echo_request_body]";
    }
--- request
POST /body
hello, body
--- response_body
hello, body
[hello, body]



=== TEST 10: without echo_read_request_body there is no body to show
--- config
    location /body {
        echo "[$echo_request_body]";
        echo_request_body;
    }
--- request
POST /body
hello
--- response_body
[]



=== TEST 11: echo_exec to a location with arguments, with ?args, and to a named location
--- config
    location /a { echo_exec /bar weight=5; }
    location /b { echo_exec /bar?weight=6; }
    location /c { echo_exec @named; }
    location /bar { echo "weight=$arg_weight uri=$uri"; }
    location @named { echo "named: $echo_request_uri $args"; }
--- pipelined_requests eval
["GET /a", "GET /b", "GET /c?x=1"]
--- response_body eval
["weight=5 uri=/bar\n", "weight=6 uri=/bar\n", "named: /c x=1\n"]



=== TEST 12: echo_sleep and echo_flush: the first part arrives before the sleep ends
--- config
    location /s {
        echo_reset_timer;
        echo before;
        echo_flush;
        echo_sleep 0.3;
        echo "after $echo_timer_elapsed";
        echo_blocking_sleep 0.1;
        echo "end $echo_timer_elapsed";
    }
--- request
GET /s
--- response_body_like chomp
^before\nafter 0\.[3-9]\d\d\nend 0\.[4-9]\d\d\n$



=== TEST 13: echo_before_body and echo_after_body around a static file and a proxied body
--- user_files
>>> f.txt
file body
--- config
    location /f.txt {
        root html;
        echo_before_body hello;
        echo_before_body -n "world ";
        echo_after_body "the end";
    }
    location /p {
        echo_before_body "before";
        proxy_pass http://127.0.0.1:$server_port/inner;
        echo_after_body "after";
    }
    location /inner { echo "inner"; }
--- pipelined_requests eval
["GET /f.txt", "GET /p"]
--- response_body eval
["hello\nworld file body\nthe end\n", "before\ninner\nafter\n"]



=== TEST 14: echo_before_body and echo_after_body around echo's own output
--- config
    location /e {
        echo_before_body "[";
        echo_after_body "]";
        echo "body";
    }
--- request
GET /e
--- response_body
[
body
]



=== TEST 15: $echo_incr counts per request, subrequests included; $echo_response_status
--- config
    location /main {
        echo "main $echo_incr";
        echo_location /sub;
        echo "main $echo_incr";
    }
    location /sub {
        echo "sub $echo_incr";
    }
    location /st {
        echo_status 201;
        echo "status=$echo_response_status";
    }
--- pipelined_requests eval
["GET /main", "GET /st"]
--- error_code eval
[200, 201]
--- response_body eval
["main 1\nsub 2\nmain 3\n", "status=\n"]



=== TEST 16: $echo_client_request_headers is the client's request head
--- config
    location /h {
        echo -n $echo_client_request_headers;
    }
--- raw_request eval
"GET /h HTTP/1.1\r\nHost: localhost\r\nX-Foo: bar\r\nConnection: close\r\n\r\n"
--- response_body eval
"GET /h HTTP/1.1\r\nHost: localhost\r\nX-Foo: bar\r\nConnection: close\r\n\r\n"



=== TEST 17: $echo_request_uri is the request's URI without arguments, a subrequest's own
--- config
    location /main { echo $echo_request_uri; echo_location /sub "x=1"; }
    location /sub {
        echo "$echo_request_uri $echo_cacheable_request_uri $request_uri";
    }
--- request
GET /main?y=2
--- response_body
/main
/sub /sub /main?y=2



=== TEST 18: HEAD gets the head alone
--- config
    location /e { echo hello; }
--- request
HEAD /e
--- response_headers
Content-Type: text/plain
--- response_body eval
""



=== TEST 19: an "if" block that matched runs its location's echo program
--- config
    location /a {
        set $v "plain";
        if ($arg_x) {
            set $v "from if";
        }
        echo $v;
    }
--- pipelined_requests eval
["GET /a", "GET /a?x=1"]
--- response_body eval
["plain\n", "from if\n"]



=== TEST 20: echo_location to a missing location puts its 404 page in place
--- config
    location /main {
        echo before;
        echo_location /nowhere;
        echo after;
    }
--- request
GET /main
--- response_body_like chomp
^before\n<html>\r?\n<head><title>404 Not Found</title></head>.*</html>\r?\nafter\n$



=== TEST 21: echo_exec after a wait; nested synchronous subrequests
--- config
    location /a {
        echo_sleep 0.01;
        echo_exec /b;
    }
    location /b { echo "in b"; }
    location /main {
        echo main-start;
        echo_location /mid;
        echo main-end;
    }
    location /mid {
        echo mid-start;
        echo_location /leaf;
        echo_sleep 0.01;
        echo mid-end;
    }
    location /leaf { echo leaf; }
--- pipelined_requests eval
["GET /a", "GET /main"]
--- response_body eval
["in b\n", "main-start\nmid-start\nleaf\nmid-end\nmain-end\n"]



=== TEST 22: echo_location to a proxied location
--- config
    location /main {
        echo_location /p;
        echo done;
    }
    location /p {
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location /inner { echo_duplicate 1000 "x"; echo; }
--- request
GET /main
--- response_body eval
("x" x 1000) . "\ndone\n"



=== TEST 23: $echo_client_request_method is the client's method, also in a subrequest
--- config
    location /main {
        echo "main: $echo_request_method $echo_client_request_method";
        echo_subrequest PUT /sub;
    }
    location /sub {
        echo "sub: $echo_request_method $echo_client_request_method";
    }
--- request
POST /main
hello
--- response_body
main: POST POST
sub: PUT POST
