# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate (t/tools/h1diff.py
# -k invalid): a header line that ignore_invalid_headers skips is logged ("client sent invalid
# header line") as nginx takes each line, when it comes: before what a later line refuses (too
# long, a bad byte), before the client's close of a head that never ended, with the context the
# head had at that line (the server and Host of the lines before it). moongate logged it only
# when it took the whole head, so never for a head refused or cut off after it.
#
#   prove -I t/lib t/879-diff-raw-head-skipped-line.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/879-diff-raw-head-skipped-line.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

plan 'no_plan';

# a head's first lines, then the client closes (after half a second without an answer)
sub cut_off {
    my ($bytes) = @_;
    my ($out, $secs) = until_close($bytes, 0.5);
    Test::More::ok(!defined $secs && $out eq '', "no answer before the head's end");
}

run_tests();

__DATA__

=== TEST 1: a head cut off after a skipped line: the line is logged, then the close
--- config
    location /t { return 200 "ok\n"; }
--- init
main::cut_off("GET /t HTTP/1.1\r\nHost: a\r\nX\@Y: 1\r\nX-A: 2\r\n");
--- request
GET /t
--- response_body
ok
--- grep_error_log eval
qr/client sent invalid header line: "[^"]*"|client prematurely closed connection/
--- grep_error_log_out
client sent invalid header line: "X@Y: 1"
client prematurely closed connection



=== TEST 2: a skipped line, then a line too long: both, in that order
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\nX\@Y: 1\r\nX-L: " . ("a" x 9000) . "\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- grep_error_log eval
qr/client sent (invalid|too long) header line: "[^"]{0,6}/
--- grep_error_log_out
client sent invalid header line: "X@Y: 1
client sent too long header line: "X-L: a



=== TEST 3: a skipped line, then a line with a NUL: both, in that order
--- config
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: a\r\nX\@Y: 1\r\nX-A\0: 2\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- grep_error_log eval
qr/client sent invalid header line: "[^"]*"/
--- grep_error_log_out
client sent invalid header line: "X@Y: 1"
client sent invalid header line: "X-A\x00..."



=== TEST 4: each skipped line's context is the head's at that line (a cut-off head)
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name b; # (the default server: the first one)
    }
--- config
    location /t { return 200 "ok\n"; }
--- init
main::cut_off("GET /t HTTP/1.1\r\nX_A: 1\r\nHost: localhost\r\nX_B: 2\r\n");
--- request
GET /t
--- response_body
ok
--- grep_error_log eval
qr/client sent invalid header line: .*/
--- grep_error_log_out eval
qr/\Aclient sent invalid header line: "X_A: 1" while reading client request headers, client: 127\.0\.0\.1, server: b, request: "GET \/t HTTP\/1\.1"\n(?s:.*)client sent invalid header line: "X_B: 2" while reading client request headers, client: 127\.0\.0\.1, server: localhost, request: "GET \/t HTTP\/1\.1", host: "localhost"\n\z/
