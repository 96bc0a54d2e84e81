# Keepalive and pipelining: several requests on one connection, the limits
# that end a connection (keepalive_requests, keepalive_timeout,
# client_header_timeout), request bodies that a handler does not read
# (Content-Length, chunked, Expect: 100-continue, client_max_body_size) and
# the stream staying in sync after them.
#
#   prove -I t/lib t/102-keepalive-pipelining.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/102-keepalive-pipelining.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();

# Send pieces on one connection ($delay seconds apart) and check each of the
# responses against [status, body regex, optional header regex]: for the
# exchanges the harness sections cannot express (several responses to raw
# bytes, interim responses).
sub converse {
    my ($pieces, $delay, @want) = @_;
    my $x = Test::Moongate::exchange($pieces, $delay, [('GET') x @want], 3);
    my @res = Test::Moongate::parse_responses($x->{raw}, [('GET') x @want], 1);
    Test::More::is(scalar @res, scalar @want, "converse: " . scalar(@want) . " responses")
        or Test::More::diag($x->{raw});
    for my $i (0 .. $#want) {
        my ($status, $body, $head) = @{ $want[$i] };
        my $r = $res[$i] || { status => '', body => '', raw_headers => '' };
        Test::More::is($r->{status}, $status, "converse: response $i status");
        Test::More::like($r->{body}, $body, "converse: response $i body") if $body;
        Test::More::like($r->{raw_headers}, $head, "converse: response $i head") if $head;
    }
    return $x->{raw};
}

log_level('info');

run_tests();

__DATA__

=== TEST 1: pipelined requests with a HEAD and a 404 in the middle
--- config
    location /a { return 200 "a:$connection_requests\n"; }
    location /nf { return 404; }
--- pipelined_requests eval
["GET /a", "HEAD /a", "GET /nf", "GET /a?x"]
--- error_code eval
[200, 200, 404, 200]
--- response_headers eval
["Connection: keep-alive", "Content-Length: 4", "Connection: keep-alive", "Connection: close"]
--- response_body_like eval
["^a:1\n\\z", "^\\z", "<title>404 Not Found</title>", "^a:4\n\\z"]



=== TEST 2: pipelined static files, a missing one between them
--- user_files
>>> a.txt
aaa
>>> b.txt
bbbbbb
--- pipelined_requests eval
["GET /a.txt", "GET /missing.txt", "HEAD /b.txt", "GET /b.txt"]
--- error_code eval
[200, 404, 200, 200]
--- response_body_like eval
["^aaa\n\\z", "404 Not Found", "^\\z", "^bbbbbb\n\\z"]
--- error_log
open() "
--- no_error_log
[alert]



=== TEST 3: $connection_requests and $connection stay the same across a pipeline
--- config
    location /t { return 200 "$connection_requests\n"; }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["1\n", "2\n", "3\n"]



=== TEST 4: keepalive_requests 3: the third response says Connection: close
--- config
    keepalive_requests 3;
    location /t { return 200 "$connection_requests\n"; }
--- more_headers
Connection: keep-alive
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- response_headers eval
["Connection: keep-alive", "Connection: keep-alive", "Connection: close"]
--- response_body eval
["1\n", "2\n", "3\n"]



=== TEST 5: keepalive_requests 1: every response closes
--- config
    keepalive_requests 1;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- response_headers
Connection: close



=== TEST 6: keepalive_requests 2: what is pipelined after the limit is not answered
--- config
    keepalive_requests 2;
    location /t { return 200 "$connection_requests\n"; }
--- request
GET /t
--- init
my $raw = main::converse(["GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n" x 3], 0,
                         [200, qr/^1\n\z/, qr/Connection: keep-alive/],
                         [200, qr/^2\n\z/, qr/Connection: close/]);
Test::More::is(scalar(() = $raw =~ m{^HTTP/1\.1 }mg), 2, "no third response");
--- response_body
1



=== TEST 7: keepalive_timeout 0: Connection: close, even for HTTP/1.1
--- config
    keepalive_timeout 0;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- response_headers
Connection: close
!Keep-Alive
--- response_body
ok



=== TEST 8: keepalive_timeout with a header timeout: Keep-Alive: timeout=N
--- config
    keepalive_timeout 30s 25;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- response_headers
Connection: keep-alive
Keep-Alive: timeout=25



=== TEST 9: two requests in one write: both answered, in order
--- config
    location /a { return 200 "A\n"; }
    location /b { return 200 "B\n"; }
--- request
GET /a
--- init
main::converse(["GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"], 0,
               [200, qr/^A\n\z/, qr/Connection: keep-alive/], [200, qr/^B\n\z/, qr/Connection: close/]);
--- response_body
A



=== TEST 10: a request split across several writes
--- config
    location /t { return 200 "$request_method $uri $http_x_a\n"; }
--- raw_request eval
["G", "ET /t", "?q HTTP/1.1\r", "\nHost: local", "host\r\nX-A: 1\r\nConnection: close\r\n", "\r\n"]
--- raw_request_middle_delay: 0.02
--- response_body
GET /t 1



=== TEST 11: the second of two pipelined requests split across writes
--- config
    location /a { return 200 "A\n"; }
    location /b { return 200 "B $http_x_b\n"; }
--- request
GET /a
--- init
main::converse(["GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b HT",
                "TP/1.1\r\nHost: localhost\r\nX-B: split\r\n",
                "Connection: close\r\n\r\n"], 0.05,
               [200, qr/^A\n\z/], [200, qr/^B split\n\z/]);
--- response_body
A



=== TEST 12: Content-Length body then a pipelined request: the stream stays in sync
--- config
    location /p { return 200 "p $http_content_length\n"; }
    location /g { return 200 "g\n"; }
--- pipelined_requests eval
["POST /p\nhello world", "GET /g"]
--- response_body eval
["p 11\n", "g\n"]



=== TEST 13: a body that looks like a request is not one
--- config
    location /p { return 200 "p\n"; }
    location /g { return 200 "g\n"; }
--- pipelined_requests eval
["POST /p\nGET /g HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET /g"]
--- response_body eval
["p\n", "g\n"]



=== TEST 14: a body larger than the header buffer, then a pipelined request
--- config
    client_header_buffer_size 1k;
    location /p { return 200 "p $http_content_length\n"; }
    location /g { return 200 "g\n"; }
--- pipelined_requests eval
["POST /p\n" . ("x" x 100000), "GET /g"]
--- response_body eval
["p 100000\n", "g\n"]



=== TEST 15: chunked body then a pipelined request
--- config
    location /p { return 200 "p\n"; }
    location /g { return 200 "g $connection_requests\n"; }
--- request
GET /g
--- init
main::converse(["POST /p HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                . "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n"
                . "GET /g HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"], 0,
               [200, qr/^p\n\z/, qr/Connection: keep-alive/], [200, qr/^g 2\n\z/]);
--- response_body
g 1



=== TEST 16: chunked body arriving after the response, then the next request
--- config
    location /p { return 200 "p\n"; }
    location /g { return 200 "g $connection_requests\n"; }
--- request
GET /g
--- init
main::converse(["POST /p HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
                "3\r\nabc\r\n", "0\r\n\r\nGET /g HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
               0.05, [200, qr/^p\n\z/], [200, qr/^g 2\n\z/]);
--- response_body
g 1



=== TEST 17: Content-Length body in pieces after the response, then the next request
--- config
    location /p { return 200 "p\n"; }
    location /g { return 200 "g $connection_requests\n"; }
--- request
GET /g
--- init
main::converse(["POST /p HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n12",
                "345", "67890GET /g HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
               0.05, [200, qr/^p\n\z/], [200, qr/^g 2\n\z/]);
--- response_body
g 1



=== TEST 18: an invalid chunked body arriving after the response closes the connection
--- config
    location /p { return 200 "p\n"; }
    location /g { return 200 "g\n"; }
--- request
GET /g
--- init
my $raw = main::converse(["POST /p HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
                          "zz\r\nGET /g HTTP/1.1\r\nHost: localhost\r\n\r\n"], 0.05, [200, qr/^p\n\z/]);
Test::More::unlike($raw, qr/\ng\n/, "nothing after the bad chunk is served");
--- response_body
g
--- error_log
client sent invalid chunked body



=== TEST 19: Expect: 100-continue: the interim response, the final one, then the next request
--- config
    location /p { return 200 "p\n"; }
    location /g { return 200 "g\n"; }
--- request
GET /g
--- init
my $raw = main::converse(["POST /p HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
                          "hello", "GET /g HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
                         0.1, [200, qr/^p\n\z/, qr/Connection: keep-alive/], [200, qr/^g\n\z/]);
Test::More::like($raw, qr{\AHTTP/1\.1 100 Continue\r\n\r\nHTTP/1\.1 200 OK\r\n}, "100 Continue first");
--- response_body
g



=== TEST 20: Expect: 100-continue answered by an error page: no interim response, still in sync
--- user_files
>>> f.txt
file
--- request
GET /f.txt
--- init
my $raw = main::converse(["PUT /f.txt HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
                          "abc", "GET /f.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
                         0.1, [405, qr/405 Not Allowed/, qr/Connection: keep-alive/], [200, qr/^file\n\z/]);
Test::More::unlike($raw, qr/100 Continue/, "no 100 Continue before an error page");
--- response_body
file



=== TEST 21: Expect: 100-continue is ignored for HTTP/1.0
--- config
    location /p { return 200 "p\n"; }
--- request
GET /p
--- init
my $raw = main::converse(["POST /p HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", "hello"],
                         0.05, [200, qr/^p\n\z/]);
Test::More::unlike($raw, qr/100 Continue/, "no interim response for HTTP/1.0");
--- response_body
p



=== TEST 22: client_max_body_size exceeded by Content-Length: 413 and the log line
--- config
    location /p {
        client_max_body_size 10;
        return 200 "p\n";
    }
--- request
POST /p
0123456789abcdefghij
--- error_code: 413
--- response_headers
Connection: close
--- response_body_like: <title>413 Request Entity Too Large</title>
--- error_log eval
qr/\[error\] .*client intended to send too large body: 20 bytes, client: 127\.0\.0\.1, server: localhost, request: "POST \/p HTTP\/1\.1", host: "localhost"$/



=== TEST 23: 413 with Expect: 100-continue: no interim response
--- config
    location /p {
        client_max_body_size 10;
        return 200 "p\n";
    }
--- request
GET /p
--- init
my $raw = main::converse(["POST /p HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n"],
                         0, [413, qr/413 Request Entity Too Large/, qr/Connection: close/]);
Test::More::unlike($raw, qr/100 Continue/, "no 100 Continue before a 413");
--- response_body
p



=== TEST 24: 413 for a large body sent at once: the response arrives intact
--- config
    location /p {
        client_max_body_size 1k;
        return 200 "p\n";
    }
--- request eval
"POST /p\n" . ("z" x 300000)
--- error_code: 413
--- response_body_like: 413 Request Entity Too Large
--- error_log
client intended to send too large body: 300000 bytes



=== TEST 25: a body of exactly client_max_body_size is fine
--- config
    location /p {
        client_max_body_size 10;
        return 200 "p\n";
    }
--- request
POST /p
0123456789
--- response_body
p
--- no_error_log
too large



=== TEST 26: client_max_body_size 0 is unlimited
--- config
    location /p {
        client_max_body_size 0;
        return 200 "p $http_content_length\n";
    }
--- pipelined_requests eval
["POST /p\n" . ("u" x 2000000), "GET /p"]
--- response_body eval
["p 2000000\n", "p \n"]



=== TEST 27: client_max_body_size does not apply to a chunked body that is discarded
--- config
    location /p {
        client_max_body_size 10;
        return 200 "p\n";
    }
--- request
GET /p
--- init
main::converse(["POST /p HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                . "14\r\n01234567890123456789\r\n0\r\n\r\n"
                . "GET /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"], 0,
               [200, qr/^p\n\z/], [200, qr/^p\n\z/]);
--- response_body
p



=== TEST 28: client_header_timeout: a partial head gets no response, the connection is closed
--- config
    client_header_timeout 500ms;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n"
--- abort
--- timeout: 3
--- response_body
--- error_log
client timed out (110: Connection timed out) while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1", host: "localhost"



=== TEST 29: client_header_timeout in the middle of the request line
--- config
    client_header_timeout 300ms;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t"
--- abort
--- timeout: 3
--- response_body
--- error_log
client timed out (110: Connection timed out) while reading client request line, client: 127.0.0.1, server: localhost, request: "GET /t"



=== TEST 30: client_header_timeout with no request at all
--- config
    client_header_timeout 300ms;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
my ($out, $secs) = main::until_close("", 3);
Test::More::ok(defined $secs && $out eq '', "silent connection closed without a response");
--- response_body
ok
--- error_log
client timed out (110: Connection timed out) while waiting for request, client: 127.0.0.1, server: 127.0.0.1:



=== TEST 31: an idle keepalive connection is closed after keepalive_timeout
--- config
    keepalive_timeout 300ms;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
my ($out, $secs) = main::until_close("GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n", 3);
Test::More::like($out, qr/\r\nConnection: keep-alive\r\n/, "response kept alive");
Test::More::like($out, qr/\r\n\r\nok\n\z/, "response complete");
Test::More::ok(defined $secs, "then the server closed the idle connection")
    or Test::More::diag("no close within 3s");
--- response_body
ok
--- no_error_log
client timed out
[error]



=== TEST 32: keepalive_timeout applies between requests, not client_header_timeout
--- config
    client_header_timeout 200ms;
    keepalive_timeout 10s;
    location /t { return 200 "$connection_requests\n"; }
--- raw_request eval
["GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.5
--- response_body
1



=== TEST 33: a client closing its keepalive connection is logged at info
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Proto => 'tcp');
print $s "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n";
my $sel = IO::Select->new($s);
my $got = '';
while ($got !~ /ok\n\z/ && $sel->can_read(3)) { sysread($s, my $b, 4096) or last; $got .= $b }
close $s;
Test::More::like($got, qr/ok\n\z/, "first response read");
--- response_body
ok
--- error_log eval
qr/\[info\] \d+#\d+: \*\d+ client 127\.0\.0\.1 closed keepalive connection$/



=== TEST 34: a client closing in the middle of a head
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: loc"
--- abort
--- timeout: 0.3
--- response_body
--- error_log
client prematurely closed connection while reading client request headers, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1"



=== TEST 35: HTTP/1.0 keepalive with a body, then another request
--- config
    location /p { return 200 "p $server_protocol\n"; }
--- request
GET /p
--- init
main::converse(["POST /p HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc"
                . "GET /p HTTP/1.0\r\n\r\n"], 0,
               [200, qr/^p HTTP\/1\.0\n\z/, qr/Connection: keep-alive/],
               [200, qr/^p HTTP\/1\.0\n\z/, qr/Connection: close/]);
--- response_body
p HTTP/1.1



=== TEST 36: a 404 page keeps the connection alive, the next request is served
--- config
    location /g { return 200 "g\n"; }
--- pipelined_requests eval
["POST /nope\nbody", "GET /g"]
--- error_code eval
[404, 200]
--- response_headers eval
["Connection: keep-alive", "Connection: close"]



=== TEST 37: many pipelined requests in one write
--- config
    location /t { return 200 "$arg_n\n"; }
--- pipelined_requests eval
[map { "GET /t?n=$_" } 1 .. 50]
--- response_body eval
[map { "$_\n" } 1 .. 50]



=== TEST 38: a head begun after a keepalive wait has client_header_timeout, not keepalive_timeout
--- config
    client_header_timeout 300ms;
    keepalive_timeout 20s;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Proto => 'tcp',
                              Timeout => 3);
print $s "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n";
my $sel = IO::Select->new($s);
my $got = '';
while ($got !~ /ok\n\z/ && $sel->can_read(3)) { sysread($s, my $b, 4096) or last; $got .= $b }
Test::More::like($got, qr/\r\n\r\nok\n\z/, "first response");
# (the server waits for the next request once it answered) a head that stops halfway
print $s "GET /t HTTP/1.1\r\nHost: loc";
my $t0 = Time::HiRes::time();
my $closed;
while ($sel->can_read(10)) { my $n = sysread($s, my $b, 4096); if (!$n) { $closed = 1; last } }
Test::More::ok($closed && Time::HiRes::time() - $t0 < 10, "closed long before keepalive_timeout");
--- response_body
ok
--- error_log
client timed out (110: Connection timed out) while reading client request headers
