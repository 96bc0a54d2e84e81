# return: code with text or URL, URL alone, variables in both, redirect codes, codes without
# a page, 444, $status, server-level and if-level return, and config errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/132-return.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: return code and text with variables; $status is the code
--- config
    location /t { return 201 "$uri $arg_a $status\n"; }
--- request
GET /t?a=1
--- error_code: 201
--- response_body
/t 1 201



=== TEST 2: return URL alone is a 302
--- config
    location /t { return http://example.com/$arg_to; }
--- request
GET /t?to=x
--- error_code: 302
--- response_headers
Location: http://example.com/x
--- response_body_like: 302 Found



=== TEST 3: return with each redirect code sets Location
--- config
    location /301 { return 301 /a; }
    location /303 { return 303 http://example.com/b; }
    location /307 { return 307 /c; }
    location /308 { return 308 $scheme://example.com/d; }
--- request eval
["GET /301", "GET /303", "GET /307", "GET /308"]
--- error_code eval
[301, 303, 307, 308]
--- response_headers_like eval
["Location: http://localhost(:\\d+)?/a", "Location: http://example.com/b", "Location: http://localhost(:\\d+)?/c", "Location: http://example.com/d"]



=== TEST 4: other 3xx codes take the text as a body, not a Location
--- config
    location /t { return 300 "choose\n"; }
--- request
GET /t
--- error_code: 300
--- response_headers
!Location
--- response_body
choose



=== TEST 5: return an error code alone gives the built-in page
--- config
    location /t { return 418; }
    location /u { return 503; }
--- request eval
["GET /t", "GET /u"]
--- error_code eval
[418, 503]
--- response_body_like eval
["^\$", "503 Service Temporarily Unavailable"]



=== TEST 6: return an error code with a text sends the text
--- config
    location /t { return 404 "custom\n"; }
--- request
GET /t
--- error_code: 404
--- response_body
custom



=== TEST 7: return 444 closes the connection without a response
--- config
    location /t { return 444; }
--- request
GET /t
--- init
# the harness's own request is not checked (ignore_response): this one is, byte by byte
use IO::Socket::INET ();
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$Test::Moongate::ServerPort", Timeout => 5)
    or die "connect: $!";
$s->timeout(5);
print $s "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
local $SIG{ALRM} = sub { die "no close in 5 s\n" };
alarm 5;
my ($got, $n, $buf) = ('');
$got .= $buf while ($n = sysread($s, $buf, 4096)) && $n > 0;
alarm 0;
Test::More::is($got, '', '444: closed without a byte of response');
--- ignore_response



=== TEST 8: server-level return answers before any location
--- config
    return 200 "server\n";
    location /t { return 200 "location\n"; }
--- request
GET /t
--- response_body
server



=== TEST 9: the first return wins; later operations do not run
--- config
    location /t { return 200 "first\n"; return 200 "second\n"; }
--- request
GET /t
--- response_body
first



=== TEST 10: a nested location does not inherit return
--- config
    location /a {
        return 200 "outer\n";
        location /a/b { }
    }
--- user_files
>>> a/b
inner file
--- request eval
["GET /a/x", "GET /a/b"]
--- response_body eval
["outer\n", "inner file\n"]



=== TEST 11: return 200 with an empty text
--- config
    location /t { return 200 ""; }
--- request
GET /t
--- response_headers
Content-Length: 0
--- response_body eval
""



=== TEST 12: return code must be 0..999
--- config
    location / { return 1000; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid return code "1000" in \S+\.conf:\d+/



=== TEST 13: a non-URL text without a code is an invalid code
--- config
    location / { return ftp://x; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid return code "ftp:\/\/x" in \S+\.conf:\d+/



=== TEST 14: return takes at most two arguments
--- config
    location / { return 200 a b; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "return" directive in \S+\.conf:\d+/



=== TEST 15: return is not allowed at http level
--- http_config
    return 200;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"return" directive is not allowed here in \S+\.conf:\d+/



=== TEST 16: break takes no arguments
--- config
    location / { break 1; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "break" directive in \S+\.conf:\d+/
