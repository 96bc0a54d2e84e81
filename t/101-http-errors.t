# HTTP/1.x request errors: malformed request lines, methods, versions, size
# limits of the request head, header checks (Host, Content-Length,
# Transfer-Encoding), each with its status, page and info-level log line;
# after each, the server still serves.
#
#   prove -I t/lib t/101-http-errors.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/101-http-errors.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $Name = $Binary =~ /nginx/ ? 'nginx' : 'moongate';

log_level('info');

# every block may ask for /ok: a location that answers when all is well
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => qq{location /ok { return 200 "still serving\\n"; }\n}
                                . ($block->config // ''));
});

# Send raw bytes on a connection of their own and return the parsed
# responses (the connection is read until the server closes it or 3s).
sub exchange_raw {
    my ($bytes) = @_;
    my $x = Test::Moongate::exchange([$bytes], 0, ['GET'], 3);
    return Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
}

run_tests();

__DATA__

=== TEST 1: malformed request line: 400, the connection is closed
--- raw_request eval
"GET\r\n\r\n"
--- error_code: 400
--- response_headers
Connection: close
--- response_body_like: 400 Bad Request
--- error_log
client sent invalid method while reading client request line, client: 127.0.0.1, server: localhost, request: "GET"



=== TEST 2: the server still serves after a bad request line
--- request eval
["GET /x y z HTTP/1.1", "GET /ok"]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/400 Bad Request/, qr/still serving/]



=== TEST 3: invalid characters in the method: 400
--- raw_request eval
"G(T / HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid method while reading client request line



=== TEST 4: lowercase method: 400
--- raw_request eval
"get / HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid method while reading client request line



=== TEST 5: unknown uppercase method on a return location works
--- config
    location /r { return 200 "$request_method\n"; }
--- raw_request eval
"FROB_NICATE-X /r HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_body
FROB_NICATE-X



=== TEST 6: unknown method on a static location: 405
--- user_files
>>> f.txt
x
--- raw_request eval
"FROBNICATE /f.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- error_code: 405
--- response_body_like: <title>405 Not Allowed</title>



=== TEST 7: PUT, DELETE on static: 405; POST on a missing file: 404
--- user_files
>>> f.txt
x
--- request eval
["PUT /f.txt\nx", "DELETE /f.txt", "POST /nofile\nx", "GET /ok"]
--- error_code eval
[405, 405, 404, 200]



=== TEST 8: TRACE: 405 even where return would answer
--- config
    location /r { return 200 "r\n"; }
--- request eval
["TRACE /r", "GET /ok"]
--- error_code eval
[405, 200]
--- error_log
client sent TRACE method while reading client request headers



=== TEST 9: HTTP/2.0 on the request line: 505
--- raw_request eval
"GET /ok HTTP/2.0\r\nHost: localhost\r\n\r\n"
--- error_code: 505
--- response_body_like: <title>505 HTTP Version Not Supported</title>
--- error_log
client sent invalid version while reading client request line



=== TEST 10: HTTP/1.9 is HTTP/1.1 to us
--- raw_request eval
"GET /r HTTP/1.9\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- config
    location /r { return 200 "$server_protocol\n"; }
--- response_body
HTTP/1.9



=== TEST 11: lowercase "http/1.1": 400
--- raw_request eval
"GET /ok http/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line



=== TEST 12: garbage version digits: 400
--- request eval
["GET /ok HTTP/1.x", "GET /ok"]
--- error_code eval
[400, 200]



=== TEST 13: URI longer than large_client_header_buffers: 414
--- http_config
    large_client_header_buffers 4 1k;
--- raw_request eval
"GET /" . ("a" x 2000) . " HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 414
--- response_body_like: <title>414 Request-URI Too Large</title>
--- error_log eval
qr/client sent too long URI while reading client request line, client: 127\.0\.0\.1, server: localhost, request: "GET \/a{100,}"$/



=== TEST 14: a URI that fits a large buffer is served
--- http_config
    client_header_buffer_size 128;
    large_client_header_buffers 4 1k;
--- config
    location /a { return 200 "len ok\n"; }
--- raw_request eval
"GET /" . ("a" x 800) . " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_body
len ok



=== TEST 15: a header line longer than a large buffer: 400 "Request Header Or Cookie Too Large"
--- http_config
    large_client_header_buffers 4 1k;
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\nX-Long: " . ("b" x 2000) . "\r\n\r\n"
--- error_code: 400
--- response_headers
Connection: close
--- response_body_like eval
"<title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>Request Header Or Cookie Too Large</center>\r\n"
--- error_log eval
qr/client sent too long header line: "X-Long: b{100,}\.\.\." while reading client request headers, client: 127\.0\.0\.1, server: localhost, request: "GET \/ok HTTP\/1\.1", host: "localhost"$/



=== TEST 16: too many header bytes in total: 400 "Request Header Or Cookie Too Large"
--- http_config
    client_header_buffer_size 512;
    large_client_header_buffers 2 1k;
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\n" . CORE::join('', map { "X-H$_: " . ("c" x 100) . "\r\n" } 1..30) . "\r\n"
--- error_code: 400
--- response_body_like: <title>400 Request Header Or Cookie Too Large</title>
--- error_log
client sent too long header line: "X-H



=== TEST 17: many headers that fit the buffers are fine
--- http_config
    client_header_buffer_size 128;
    large_client_header_buffers 4 1k;
--- config
    location /h { return 200 "$http_x_h1 $http_x_h30\n"; }
--- raw_request eval
"GET /h HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" . CORE::join('', map { "X-H$_: v$_\r\n" } 1..30) . "\r\n"
--- response_body
v1 v30



=== TEST 18: a header line without a colon is a header with an empty value
--- config
    location /h { return 200 "[$http_nocolonhere]\n"; }
--- raw_request eval
"GET /h HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\nConnection: close\r\n\r\n"
--- response_body
[]
--- no_error_log
[error]



=== TEST 19: a space in a header name: 400
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "Bad\x20..." while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /ok HTTP/1.1", host: "localhost"



=== TEST 20: HTTP/1.1 without Host: 400
--- raw_request eval
"GET /ok HTTP/1.1\r\n\r\n"
--- error_code: 400
--- error_log
client sent HTTP/1.1 request without "Host" header while reading client request headers



=== TEST 21: duplicate Host: 400
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"
--- error_code: 400
--- error_log
client sent duplicate host header: "Host: b.example", previous value: "Host: a.example" while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /ok HTTP/1.1", host: "a.example"



=== TEST 22: invalid Host "a/b": 400
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: a/b\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header while reading client request headers



=== TEST 23: invalid Host "..": 400
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: ..\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header while reading client request headers



=== TEST 24: empty Host in HTTP/1.1: 400
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost:\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header while reading client request headers



=== TEST 25: the worker keeps serving after each kind of bad head, one connection each
--- init
my @bad = (
    ["GET /ok HTTP/1.1\r\n\r\n", 400],
    ["GET /ok HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    ["GET /ok HTTP/1.1\r\nHost: a..b\r\n\r\n", 400],
    ["GET /ok HTTP/1.1\r\nHost: x\r\nContent-Length: z\r\n\r\n", 400],
    ["POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["POST /ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br\r\n\r\n", 501],
    ["GET /ok HTTP/1.1\r\nHost: x\r\nX: " . ("y" x 10000) . "\r\n\r\n", 400],
    ["GET /" . ("u" x 10000) . " HTTP/1.1\r\nHost: x\r\n\r\n", 414],
    ["TRACE /ok HTTP/1.1\r\nHost: x\r\n\r\n", 405],
    ["GET /ok HTTP/3.0\r\nHost: x\r\n\r\n", 505],
);
for my $b (@bad) {
    my ($r) = main::exchange_raw($b->[0]);
    Test::More::is($r && $r->{status}, $b->[1], "bad head answered $b->[1]");
}
--- http_config
    large_client_header_buffers 4 1k;
--- request
GET /ok
--- response_body
still serving



=== TEST 26: invalid host in an absolute-form target: 400
--- raw_request eval
"GET http://a..b/ok HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host in request line while reading client request line



=== TEST 27: invalid Content-Length: 400
--- raw_request eval
"POST /ok HTTP/1.1\r\nHost: localhost\r\nContent-Length: 12abc\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid "Content-Length" header while reading client request headers



=== TEST 28: negative Content-Length: 400
--- raw_request eval
"POST /ok HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid "Content-Length" header while reading client request headers



=== TEST 29: duplicate Content-Length: 400
--- raw_request eval
"POST /ok HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"
--- error_code: 400
--- error_log
client sent duplicate header line: "Content-Length: 1", previous value: "Content-Length: 1" while reading client request headers



=== TEST 30: Content-Length and Transfer-Encoding together: 400 and the connection closed
--- raw_request eval
"POST /ok HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- response_headers
Connection: close
--- error_log
client sent "Content-Length" and "Transfer-Encoding" headers at the same time while reading client request headers



=== TEST 31: Transfer-Encoding: gzip: 501
--- raw_request eval
"POST /ok HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n"
--- error_code: 501
--- response_body_like: <title>501 Not Implemented</title>
--- error_log
client sent unknown "Transfer-Encoding": "gzip" while reading client request headers



=== TEST 32: HTTP/1.0 with Transfer-Encoding: 400
--- raw_request eval
"POST /ok HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
--- error_code: 400
--- error_log
client sent HTTP/1.0 request with "Transfer-Encoding" header while reading client request headers



=== TEST 33: Transfer-Encoding: CHUNKED is chunked
--- raw_request eval
"POST /ok HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: CHUNKED\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
--- response_body
still serving



=== TEST 34: underscores_in_headers off: the header is ignored and logged
--- config
    location /u { return 200 "[$http_x_foo]\n"; }
--- more_headers
X_Foo: bar
--- request
GET /u
--- response_body
[]
--- error_log
client sent invalid header line: "X_Foo: bar" while reading client request headers



=== TEST 35: underscores_in_headers on: $http_x_foo finds it
--- config
    underscores_in_headers on;
    location /u { return 200 "[$http_x_foo]\n"; }
--- more_headers
X_Foo: bar
--- request
GET /u
--- response_body
[bar]
--- no_error_log
client sent invalid header line



=== TEST 36: ignore_invalid_headers off: a header with odd characters is kept
--- config
    ignore_invalid_headers off;
    location /u { return 200 "[$http_x_foo]\n"; }
--- more_headers
X_Foo: bar
--- request
GET /u
--- response_body
[bar]



=== TEST 37: error pages on a keepalive connection: a 404 keeps it, a 400 closes it
--- config
    location /nf { return 404; }
--- pipelined_requests eval
["GET /nf", "GET /ok"]
--- error_code eval
[404, 200]
--- response_headers eval
["Connection: keep-alive", "Connection: close"]



=== TEST 38: 400 in the middle of a pipeline ends it
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\nGET /ok HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 200
--- response_headers
Connection: keep-alive



=== TEST 39: NUL in the request line: 400
--- raw_request eval
"GET /o\0k HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line



=== TEST 40: "%00" in the path: 400
--- raw_request eval
"GET /ok%00 HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line



=== TEST 41: HTTP/0.9 with a method other than GET: 400, the page without a head
--- init
my $x = Test::Moongate::exchange(["POST /ok\r\n"], 0, ['GET'], 3);
Test::More::like($x->{raw}, qr{\A<html>\r\n<head><title>400 Bad Request</title>}, "HTTP/0.9 POST: page only");
--- request
GET /ok
--- response_body
still serving
--- error_log
client sent invalid method in HTTP/0.9 request while reading client request line, client: 127.0.0.1, server: localhost, request: "POST /ok"



=== TEST 42: a NUL in a header value: 400, the line shown up to it
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\nX-A: a\0b\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "X-A: a\x00..." while reading client request headers



=== TEST 43: a folded header line (obs-fold): 400
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n  folded\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "\x20..." while reading client request headers



=== TEST 44: leading empty lines before the request line are skipped
--- raw_request eval
"\r\n\r\nGET /ok HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
--- response_body
still serving



=== TEST 45: bare LF line ends and extra spaces on the request line are accepted
--- raw_request eval
"GET  /ok  HTTP/1.1  \nHost: localhost\nConnection: close\n\n"
--- response_body
still serving



=== TEST 46: the invalid-header log line has the referrer too
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\nReferer: http://r.example/\r\nContent-Length: 1x\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid "Content-Length" header while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /ok HTTP/1.1", host: "localhost", referrer: "http://r.example/"



=== TEST 47: a tab before "chunked" is part of the value, as in nginx: 501
--- raw_request eval
"POST /ok HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n"
--- error_code: 501
--- error_log eval
# nginx writes the tab as it is; moongate escapes every control byte in its log (\x09)
qr{client sent unknown "Transfer-Encoding": "(?:\t|\\x09)chunked" while reading client request headers}



=== TEST 48: only spaces are stripped around a value; tabs stay
--- config
    location /v { return 200 "[$http_x_v]\n"; }
--- raw_request eval
"GET /v HTTP/1.1\r\nHost: localhost\r\nX-V:  \t a b \t  \r\nConnection: close\r\n\r\n"
--- response_body eval
"[\t a b \t]\n"



=== TEST 49: a tab in the Host header: 400 invalid host
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost:\tlocalhost\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header while reading client request headers



=== TEST 49b: the port part of Host is checked too: 400 for "..", "/", a control byte or a space after the ':'
--- init
for my $h ("a:80/../x", "a:8..0", "a:/", "a:80\x01", "a:\x7f", "a:80 x") {
    my ($res) = exchange_raw("GET /ok HTTP/1.1\r\nHost: $h\r\nConnection: close\r\n\r\n");
    Test::More::is($res && $res->{status}, 400, "Host \"" . quotemeta($h) . "\" refused");
}
--- request
GET /ok
--- response_body
still serving



=== TEST 49c: the name is what comes before the port or after an IPv6 literal's ']'; a backslash is an ordinary byte
--- config
    location /h { return 200 "[$host]\n"; }
--- init
for my $c (["a\\b", "[a\\b]\n"], ["[::1]x", "[[::1]]\n"], ["[::1]:80", "[[::1]]\n"],
           ["a:8\\0", "[a]\n"], ["A.B.:1", "[a.b]\n"], ["a:b:c", "[a]\n"]) {
    my ($res) = exchange_raw("GET /h HTTP/1.1\r\nHost: $c->[0]\r\nConnection: close\r\n\r\n");
    Test::More::is($res && $res->{body}, $c->[1], "Host \"" . quotemeta($c->[0]) . "\"");
}
--- request
GET /ok
--- response_body
still serving



=== TEST 50: names with "(" or bytes >= 0x80 are dropped with an info line, the request is served
--- config
    location /v { return 200 "[$http_x_v]\n"; }
--- raw_request eval
"GET /v HTTP/1.1\r\nHost: localhost\r\nA(b): 1\r\nX\xc3\xa9: 2\r\nC{}:   \r\nX-V: 3\r\nConnection: close\r\n\r\n"
--- response_body
[3]
--- error_log eval
[qq{client sent invalid header line: "A(b): 1" while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /v HTTP/1.1", host: "localhost"},
 qq{client sent invalid header line: "X\xc3\xa9: 2" while reading client request headers},
 qq{client sent invalid header line: "C{}:   " while reading client request headers}]



=== TEST 51: ignore_invalid_headers off keeps such lines
--- config
    ignore_invalid_headers off;
    location /v { return 200 "[$http_x_v]\n"; }
--- raw_request eval
"GET /v HTTP/1.1\r\nHost: localhost\r\nA(b): 1\r\nX\xc3\xa9: 2\r\nX-V: 3\r\nConnection: close\r\n\r\n"
--- response_body
[3]
--- no_error_log
client sent invalid header line



=== TEST 52: a control byte in a name is a 400 whatever ignore_invalid_headers says
--- config
    ignore_invalid_headers off;
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\nA\x01b: 1\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "A\x01..." while reading client request headers



=== TEST 53: a line starting with ":" is a 400
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\n:x: 1\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "\x3a..." while reading client request headers



=== TEST 54: several CRs before a header line's LF are taken, as nginx does
--- config
    location /v { return 200 "[$http_x_v]\n"; }
--- raw_request eval
"GET /v HTTP/1.1\r\nHost: localhost\r\nX-V: 1  \r\r\r\nConnection: close\r\n\r\n"
--- response_body
[1]



=== TEST 55: a CR inside a value: 400, the line shown up to the value's end
--- raw_request eval
"GET /ok HTTP/1.1\r\nHost: localhost\r\nX-A: a  \r\rb\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid header line: "X-A: a\x20..." while reading client request headers



=== TEST 56: a reset on an idle keepalive connection: nginx's line, without context
--- init
use Socket qw(SOL_SOCKET SO_LINGER);
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                              Proto => 'tcp', Timeout => 3) or die "connect: $!";
print $s "GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n";
my $got = '';
while ($got !~ /still serving\n/) {
    my $n = sysread($s, $got, 4096, length $got);
    last unless $n;
}
Test::More::like($got, qr{^HTTP/1.1 200 }, "keepalive response before the reset");
setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
close $s;
--- request
GET /ok
--- response_body
still serving
--- error_log eval
qr/\[info\] \d+#\d+: \*\d+ client 127\.0\.0\.1 closed keepalive connection \(104: Connection reset by peer\)$/
