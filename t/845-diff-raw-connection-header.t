# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate (t/tools/h1diff.py):
# the Connection header. nginx 1.22 looks for "close" anywhere in a line's value, and only
# then for "keep-alive"; each line decides anew, so the last line that names either wins.
# moongate read tokens and let any "close" win: "closex" kept the connection, "close" then
# "keep-alive" closed it, an HTTP/1.0 "keep-alive, close" kept it.
#
#   prove -I t/lib t/845-diff-raw-connection-header.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/845-diff-raw-connection-header.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;

plan 'no_plan';

# the answers to `first` pipelined with a second request that closes: the number of responses
# tells whether the first one kept the connection
sub answers {
    my ($first) = @_;
    my $out = main::raw_exchange($first . "GET /t?2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    my @st = $out =~ m{^HTTP/1\.1 (\d+) .*?\r\nConnection: (\S+)\r\n}msg;
    return join ' ', @st;
}

run_tests();

__DATA__

=== TEST 1: "close" inside another token closes
--- config
    location /t { return 200 "ok\n"; }
--- init
Test::More::is(main::answers("GET /t HTTP/1.1\r\nHost: a\r\nConnection: closex\r\n\r\n"),
               "200 close", "closex: one response, connection closed");
Test::More::is(main::answers("GET /t HTTP/1.1\r\nHost: a\r\nConnection: foo-close-bar\r\n\r\n"),
               "200 close", "foo-close-bar: closed");
Test::More::is(main::answers("GET /t HTTP/1.1\r\nHost: a\r\nConnection: foo\r\n\r\n"),
               "200 keep-alive 200 close", "foo: kept");
--- request
GET /t
--- response_body
ok



=== TEST 2: HTTP/1.0: "close" wins over "keep-alive" within a line, in either order
--- config
    location /t { return 200 "ok\n"; }
--- init
Test::More::is(main::answers("GET /t HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
               "200 close", "keep-alive, close");
Test::More::is(main::answers("GET /t HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n"),
               "200 close", "close, keep-alive");
Test::More::is(main::answers("GET /t HTTP/1.0\r\nConnection: Keep-Alive, Upgrade\r\n\r\n"),
               "200 keep-alive 200 close", "Keep-Alive, Upgrade");
--- request
GET /t
--- response_body
ok



=== TEST 3: the last Connection line naming close or keep-alive decides
--- config
    location /t { return 200 "ok\n"; }
--- init
Test::More::is(main::answers("GET /t HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n"),
               "200 keep-alive 200 close", "close then keep-alive: kept");
Test::More::is(main::answers("GET /t HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"),
               "200 close", "1.0: keep-alive then close: closed");
Test::More::is(main::answers("GET /t HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: foo\r\n\r\n"),
               "200 close", "close then foo: closed");
--- request
GET /t
--- response_body
ok
