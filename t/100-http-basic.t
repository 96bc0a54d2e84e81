# HTTP/1.x basics: methods, protocol versions and their Connection headers,
# HTTP/0.9, absolute-form targets, Date/Server, Content-Length and
# Content-Type of simple responses, URI normalization as $uri shows it.
#
#   prove -I t/lib t/100-http-basic.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/100-http-basic.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

# what the Server header and error pages call the server
our $Name = $Binary =~ /nginx/ ? 'nginx' : 'moongate';
$ENV{TEST_NGINX_MIME_TYPES} = "$RepoRoot/conf/mime.types";

run_tests();

__DATA__

=== TEST 1: GET: status, Content-Length, Content-Type of a return text
--- config
    location /t { return 200 "hello\n"; }
--- request
GET /t
--- response_headers
Content-Length: 6
Content-Type: text/plain
!Transfer-Encoding
--- response_body
hello



=== TEST 2: HEAD: the headers of a GET, Content-Length included, and no body
--- config
    location /t { return 200 "hello\n"; }
--- request
HEAD /t
--- response_headers
Content-Length: 6
Content-Type: text/plain
--- response_body



=== TEST 3: HEAD of a static file and of a 404 page: no body
--- user_files
>>> f.txt
12345
--- pipelined_requests eval
["HEAD /f.txt", "HEAD /missing", "GET /f.txt"]
--- error_code eval
[200, 404, 200]
--- response_headers eval
["Content-Length: 6", "Content-Type: text/html", "Content-Length: 6"]
--- response_body eval
["", "", "12345\n"]



=== TEST 4: Date and Server headers
--- config
    location /t { return 200 "x"; }
--- request
GET /t
--- response_headers_like eval
"Date: (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \\d{4} \\d\\d:\\d\\d:\\d\\d GMT
Server: $::Name/\\d+\\.\\d+\\.\\d+"
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\nServer: [^\r\n]+\r\nDate: [^\r\n]+\r\n



=== TEST 5: server_tokens off: the name without a version, also on error pages
--- config
    server_tokens off;
    location /t { return 404; }
--- request
GET /t
--- error_code: 404
--- response_headers eval
"Server: $::Name"
--- response_body_like eval
"<hr><center>$::Name</center>"



=== TEST 6: HTTP/1.0 without keep-alive: Connection: close, then the server closes
--- config
    location /t { return 200 "$server_protocol\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_headers
Connection: close
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n
--- response_body
HTTP/1.0



=== TEST 7: HTTP/1.0 with Connection: keep-alive is kept alive
--- config
    location /t { return 200 "$server_protocol\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"
--- response_headers
Connection: keep-alive
--- response_body
HTTP/1.0



=== TEST 8: HTTP/1.0 keep-alive: a second request on the same connection
--- config
    location /t { return 200 "$request_uri $connection_requests\n"; }
--- raw_request eval
"GET /t?1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /t?2 HTTP/1.0\r\n\r\n"
--- response_body
/t?1 1



=== TEST 9: HTTP/1.0 without Host is fine
--- config
    location /t { return 200 "[$host]\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\n\r\n"
--- response_body
[localhost]



=== TEST 10: HTTP/1.1 is kept alive by default
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- response_headers
Connection: keep-alive
--- response_body
ok



=== TEST 11: HTTP/1.1 with Connection: close
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_headers
Connection: close
--- response_body
ok



=== TEST 12: Connection tokens are case-insensitive and may be a list
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: TE, CLOSE\r\n\r\n"
--- response_headers
Connection: close
--- response_body
ok



=== TEST 13: HTTP/0.9: the body alone, no status line, no headers
--- config
    location /t { return 200 "zero nine\n"; }
--- init
my $out = main::raw_exchange("GET /t\r\n");
Test::More::is($out, "zero nine\n", "HTTP/0.9 response is the body only");
--- request
GET /t
--- response_body
zero nine



=== TEST 14: HTTP/0.9 error page: the page alone
--- config
    location /t { return 200 "x"; }
--- init
my $out = main::raw_exchange("GET /nothing-here\r\n");
Test::More::like($out, qr{\A<html>\r\n<head><title>404 Not Found</title>}, "HTTP/0.9 error page without a head");
--- request
GET /t
--- response_body chomp
x



=== TEST 15: absolute-form target: the host in the URI wins over Host
--- config
    location /x { return 200 "$host|$http_host|$uri|$request_uri|$args\n"; }
--- raw_request eval
"GET http://LocalHost:1234/x?a=b HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n"
--- response_body
localhost|other.example|/x|/x?a=b|a=b



=== TEST 16: absolute-form target selects the virtual server
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name vhost.example;
        location / { return 200 "vhost $host\n"; }
    }
--- config
    location /x { return 200 "default $host\n"; }
--- raw_request eval
"GET http://vhost.example/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_body
vhost vhost.example



=== TEST 17: Host header: lowercased, port and trailing dot removed in $host
--- config
    location /t { return 200 "$host|$http_host\n"; }
--- more_headers
Host: WWW.Example.COM.:8080
--- request
GET /t
--- response_body
www.example.com|WWW.Example.COM.:8080



=== TEST 18: types and default_type: the URI's extension picks the type
--- config
    types {
        text/x-foo foo;
        image/png png;
    }
    default_type application/x-default;
    location / { return 200 "x"; }
--- request eval
["GET /a.foo", "GET /b.PNG", "GET /c.unknown", "GET /noext", "GET /dir.foo/file"]
--- response_headers eval
["Content-Type: text/x-foo", "Content-Type: image/png", "Content-Type: application/x-default",
 "Content-Type: application/x-default", "Content-Type: application/x-default"]



=== TEST 19: include mime.types, static files
--- http_config
    include $TEST_NGINX_MIME_TYPES;
--- user_files
>>> a.html
<p>a</p>
>>> b.css
p {}
>>> c.json
{}
--- request eval
["GET /a.html", "GET /b.css", "GET /c.json"]
--- response_headers eval
["Content-Type: text/html\nContent-Length: 9", "Content-Type: text/css", "Content-Type: application/json"]



=== TEST 20: default_type inherited and overridden per location
--- config
    default_type text/x-server;
    location /in { return 200 "x"; }
    location /own { default_type text/x-own; return 200 "x"; }
--- request eval
["GET /in", "GET /own"]
--- response_headers eval
["Content-Type: text/x-server", "Content-Type: text/x-own"]



=== TEST 21: $uri: "/a/../b" is resolved, $request_uri is kept
--- config
    location / { return 200 "$uri $request_uri\n"; }
--- request
GET /a/../b
--- response_body
/b /a/../b



=== TEST 22: $uri: "/a/./b" and a trailing "/."
--- config
    location / { return 200 "$uri\n"; }
--- request eval
["GET /a/./b", "GET /a/b/.", "GET /a/b/..", "GET /./a"]
--- response_body eval
["/a/b\n", "/a/b/\n", "/a/\n", "/a\n"]



=== TEST 23: merge_slashes on (default): "//a//b" is "/a/b"
--- config
    location / { return 200 "$uri $request_uri\n"; }
--- request
GET //a///b
--- response_body
/a/b //a///b



=== TEST 24: merge_slashes off keeps the slashes
--- config
    merge_slashes off;
    location / { return 200 "$uri\n"; }
--- request
GET //a///b
--- response_body
//a///b



=== TEST 25: percent-decoding: "%41" is "A", "%2F" is "/", $request_uri stays raw
--- config
    location / { return 200 "$uri $request_uri\n"; }
--- request eval
["GET /%41%62c", "GET /a%2Fb", "GET /a%20b"]
--- response_body eval
["/Abc /%41%62c\n", "/a/b /a%2Fb\n", "/a b /a%20b\n"]



=== TEST 26: decoded dots are resolved too
--- config
    location / { return 200 "$uri\n"; }
--- request
GET /a/%2e%2E/b
--- response_body
/b



=== TEST 27: "/.." climbs above the root: 400
--- config
    location / { return 200 "$uri\n"; }
--- request eval
["GET /..", "GET /a/../../b", "GET /%2e%2e/x"]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
["400 Bad Request", "400 Bad Request", "400 Bad Request"]



=== TEST 28: the decoded URI selects the location
--- config
    location /ab { return 200 "ab:$uri\n"; }
    location / { return 200 "root:$uri\n"; }
--- request
GET /x/../%61b/c
--- response_body
ab:/ab/c



=== TEST 29: args: $args, $arg_*, $is_args, $query_string; $uri has no args
--- config
    location /t { return 200 "$uri|$args|$arg_a|$arg_b|$is_args|$query_string\n"; }
--- request
GET /t?a=1&b=x%20y
--- response_body
/t|a=1&b=x%20y|1|x%20y|?|a=1&b=x%20y



=== TEST 30: an empty query and no query
--- config
    location /t { return 200 "[$args][$is_args][$request_uri]\n"; }
--- request eval
["GET /t?", "GET /t"]
--- response_body eval
["[][][/t?]\n", "[][][/t]\n"]



=== TEST 31: args are not normalized, the path before them is
--- config
    location / { return 200 "$uri|$args\n"; }
--- request
GET /a/./b?x=/../y//z
--- response_body
/a/b|x=/../y//z



=== TEST 32: $request_method, $server_protocol and $request
--- config
    location /t { return 200 "$request_method|$server_protocol|$request\n"; }
--- request
POST /t?q
abc
--- response_body
POST|HTTP/1.1|POST /t?q HTTP/1.1



=== TEST 33: static file: Content-Length, Last-Modified, body
--- user_files
>>> dir/f.txt 201707140240.00
some text
--- request
GET /dir/f.txt
--- response_headers
Content-Length: 10
Last-Modified: Fri, 14 Jul 2017 02:40:00 GMT
Content-Type: text/plain
--- response_body
some text



=== TEST 34: return with a status only: nginx's page with its length
--- config
    location /t { return 403; }
--- request
GET /t
--- error_code: 403
--- response_headers_like
Content-Length: \d+
Content-Type: text/html
--- response_body_like eval
"\\A<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>$::Name/[\\d.]+</center>\r\n</body>\r\n</html>\r\n\\z"



=== TEST 35: return 204: no Content-Type, no Content-Length, no body
--- config
    location /t { return 204; }
--- request
GET /t
--- error_code: 204
--- response_headers
!Content-Length
!Content-Type
--- response_body



=== TEST 36: error page titles that differ from the status line: 302 Found, 401 Authorization Required
--- config
    location /r { return 302 /x; }
    location /a { return 401; }
--- request eval
["GET /r", "GET /a"]
--- error_code eval
[302, 401]
--- raw_response_headers_like eval
["^HTTP/1\\.1 302 Moved Temporarily\r\n", "^HTTP/1\\.1 401 Unauthorized\r\n"]
--- response_body_like eval
["<title>302 Found</title>.*<h1>302 Found</h1>", "<title>401 Authorization Required</title>"]



=== TEST 37: a status without a built-in page: empty body, no Content-Type
--- config
    location /t { return 418; }
--- request
GET /t
--- error_code: 418
--- raw_response_headers_like: ^HTTP/1\.1 418 \r\n
--- response_headers
Content-Length: 0
!Content-Type
--- response_body



=== TEST 38: a status without a reason phrase: "300 "
--- config
    location /t { return 300 "x"; }
--- request
GET /t
--- error_code: 300
--- raw_response_headers_like: ^HTTP/1\.1 300 \r\n
--- response_body chomp
x



=== TEST 39: 304 from return: the text's length, no body
--- config
    location /t { return 304 "abc"; }
--- request
GET /t
--- error_code: 304
--- response_headers
Content-Length: 3
--- response_body



=== TEST 40: which error pages end keepalive: 404 and 505 keep it, 500 ends it
--- config
    location /a { return 404; }
    location /b { return 505; }
    location /c { return 500; }
--- more_headers
Connection: keep-alive
--- pipelined_requests eval
["GET /a", "GET /b", "GET /c"]
--- error_code eval
[404, 505, 500]
--- response_headers eval
["Connection: keep-alive", "Connection: keep-alive", "Connection: close"]
