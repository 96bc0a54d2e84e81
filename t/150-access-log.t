# access_log and log_format: the default logs/access.log in "combined", custom formats
# and their escaping, per-level lists and their inheritance, "off", if=, buffered logs
# (emptied when full, by the flush timer and at exit) and nginx's -t messages.
#
# Besides Test::Nginx's sections, a block may have "--- log_files eval": a hashref of
# files under the server root => the expected content (a string, a qr// matched against
# the whole file, or undef for "absent or empty"), checked once the server has stopped,
# so buffered lines are in. "--- reopen_logs eval" (an arrayref of such files) renames them to
# FILE.old once the requests are done and sends USR1, waiting for the files to be back.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/150-access-log.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Time::HiRes ();

plan 'no_plan';

# Debian's nginx is built with --http-log-path=/var/log/nginx/access.log, so its implicit
# log is not under the test prefix: that check is moongate's only
our $DefaultLog = $Binary =~ m{nginx[^/]*$} ? '' : 'logs/access.log';

# a block's log files must not see the previous block's lines
add_block_preprocessor(sub { unlink glob("$LogDir/*.log") });

sub check_log_files {
    my $block = shift;
    my $files = $block->log_files or return;
    for my $f (sort grep { length } keys %$files) {
        my $path = "$ServRoot/$f";
        my $got = -e $path ? do { local (@ARGV, $/) = $path; <> } : undef;
        my $want = $files->{$f};
        my $name = $block->name . " - $f";
        if (!defined $want) {
            ok(!defined $got || $got eq '', "$name absent or empty") or diag("got: $got");
        } elsif (ref $want eq 'Regexp') {
            like($got // '', $want, "$name matches");
        } else {
            is($got, $want, "$name is as expected");
        }
    }
}

sub reopen_logs {
    my $files = shift;
    my $pid = Test::Moongate::read_pid() or return fail("no pid to send USR1 to");
    rename "$ServRoot/$_", "$ServRoot/$_.old" for @$files;
    kill 'USR1', $pid;
    my $deadline = Time::HiRes::time() + 3;
    until (!grep { !-e "$ServRoot/$_" } @$files) {
        return fail("USR1 did not reopen @$files") if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.01);
    }
    pass("USR1 reopened @$files");
}

add_known_sections(qw(log_files reopen_logs));
Test::Moongate::stop_stale_server();
for my $block (blocks()) {
    my $reopen = $block->reopen_logs;
    # run_block leaves the server running in no-clean mode: used to act between the
    # requests and the stop
    local $Test::Moongate::NoClean = 1 if $reopen;
    run_test($block) or next;
    if ($reopen) {
        reopen_logs($reopen);
        Test::Moongate::stop_server();
    }
    check_log_files($block); # the server has stopped, which empties log buffers
}

__DATA__

=== TEST 1: no access_log anywhere: logs/access.log in "combined"
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t?a=1
--- response_body
ok
--- log_files eval
+{ $::DefaultLog => qr{\A127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /t\?a=1 HTTP/1\.1" 200 3 "-" "-"\n\z} }



=== TEST 2: "combined" with a user, a referer and a user agent
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Referer: http://example.com/from
User-Agent: tester/1.0 (x)
--- log_files eval
+{ $::DefaultLog => qr{\A127\.0\.0\.1 - alice \[[^]]+\] "GET /t HTTP/1\.1" 200 3 "http://example\.com/from" "tester/1\.0 \(x\)"\n\z} }



=== TEST 3: an explicit access_log with "combined" named or implied
--- config
    access_log logs/a.log combined;
    access_log logs/b.log;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- log_files eval
{ 'logs/a.log' => qr{\A127\.0\.0\.1 - - \[[^]]+\] "GET /t HTTP/1\.1" 200 3 "-" "-"\n\z},
  'logs/b.log' => qr{\A127\.0\.0\.1 - - \[[^]]+\] "GET /t HTTP/1\.1" 200 3 "-" "-"\n\z},
  'logs/access.log' => undef }



=== TEST 4: a custom format; its strings are joined without separators
--- http_config
    log_format f '$request_method $uri' ' [$args]'
                 " $status/$body_bytes_sent";
--- config
    access_log logs/f.log f;
    location /t { return 200 "hello\n"; }
--- request eval
["GET /t?x=1", "HEAD /t", "GET /t?"]
--- log_files eval
{ 'logs/f.log' => "GET /t [x=1] 200/6\nHEAD /t [-] 200/0\nGET /t [-] 200/6\n" }



=== TEST 5: $status and $body_bytes_sent are final: error pages, 444
--- http_config
    log_format f '$uri $status $body_bytes_sent';
--- config
    access_log logs/f.log f;
    location /gone { return 404 "gone\n"; }
    location /close { return 444; }
--- request eval
["GET /gone", "GET /close", "GET /nofile"]
--- error_code eval
[404, "", 404]
--- abort
--- log_files eval
{ 'logs/f.log' => qr{\A/gone 404 5\n/close 444 0\n/nofile 404 \d{3}\n\z} }



=== TEST 6: $request_time, $msec and $time_iso8601 have their formats
--- http_config
    log_format f '$request_time|$msec|$time_iso8601';
--- config
    access_log logs/f.log f;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- log_files eval
{ 'logs/f.log' => qr{\A\d+\.\d{3}\|\d{10}\.\d{3}\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\n\z} }



=== TEST 7: a variable that is not found logs "-"; a found empty one logs nothing
--- http_config
    log_format f '[$http_x_missing] [$arg_e] [$arg_none] [$cookie_c]';
--- config
    access_log logs/f.log f;
    location /t { return 200 "ok\n"; }
--- request
GET /t?e=
--- log_files eval
{ 'logs/f.log' => "[-] [] [-] [-]\n" }



=== TEST 8: escape=default: quote, backslash, control bytes and bytes >= 0x7f as \xXX
--- http_config
    log_format f '"$http_x_a" $request';
--- config
    access_log logs/f.log f;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t?q=\"a\\b HTTP/1.1\r\nHost: localhost\r\nX-A: q\"b\\c\x01d\x7fe\xc3\xa9f\tg\x1b\r\nConnection: close\r\n\r\n"
--- log_files eval
{ 'logs/f.log' => "\"q\\x22b\\x5Cc\\x01d\\x7Fe\\xC3\\xA9f\\x09g\\x1B\" GET /t?q=\\x22a\\x5Cb HTTP/1.1\n" }



=== TEST 9: escape=json: JSON string escapes, missing variables are empty
--- http_config
    log_format f escape=json '{"a":"$http_x_a","m":"$http_x_missing"}';
--- config
    access_log logs/f.log f;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nX-A: q\"b\\c\x01d\x7fe\xc3\xa9f\tg\x1b\x08\x0c\r\nConnection: close\r\n\r\n"
--- log_files eval
{ 'logs/f.log' => "{\"a\":\"q\\\"b\\\\c\\u0001d\x7fe\xc3\xa9f\\tg\\u001B\\b\\f\",\"m\":\"\"}\n" }



=== TEST 10: escape=none writes values as they are, missing ones as nothing
--- http_config
    log_format f escape=none '[$http_x_a] [$http_x_missing]';
--- config
    access_log logs/f.log f;
    location /t { return 200 "ok\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nX-A: q\"b\\c\x01d\xc3\xa9\r\nConnection: close\r\n\r\n"
--- log_files eval
{ 'logs/f.log' => "[q\"b\\c\x01d\xc3\xa9] []\n" }



=== TEST 11: every access_log of a level is written, the same file twice too
--- http_config
    log_format one 'one $uri';
    log_format two 'two $uri';
--- config
    access_log logs/a.log one;
    access_log logs/a.log two;
    access_log logs/b.log two;
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- log_files eval
{ 'logs/a.log' => "one /t\ntwo /t\n", 'logs/b.log' => "two /t\n" }



=== TEST 12: a level with its own access_log drops the parent's list
--- http_config
    log_format f '$uri';
    access_log logs/http.log f;
--- config
    access_log logs/srv.log f;
    location /own { access_log logs/loc.log f; return 200 "ok\n"; }
    location /inherit { return 200 "ok\n"; }
--- request eval
["GET /own", "GET /inherit"]
--- log_files eval
{ 'logs/http.log' => undef, 'logs/srv.log' => "/inherit\n", 'logs/loc.log' => "/own\n",
  'logs/access.log' => undef }



=== TEST 13: the http level's list reaches servers and locations without their own
--- http_config
    log_format f '$uri';
    access_log logs/http.log f;
--- config
    location /a { return 200 "ok\n"; }
    location /b { location /b/c { return 200 "ok\n"; } }
--- request eval
["GET /a", "GET /b/c"]
--- log_files eval
{ 'logs/http.log' => "/a\n/b/c\n", 'logs/access.log' => undef }



=== TEST 14: "off" at a server, a location turns its own log back on
--- http_config
    log_format f '$uri';
--- config
    access_log off;
    location /on { access_log logs/on.log f; return 200 "ok\n"; }
    location /quiet { return 200 "ok\n"; }
--- request eval
["GET /on", "GET /quiet"]
--- log_files eval
{ 'logs/on.log' => "/on\n", 'logs/access.log' => undef }



=== TEST 15: "off" beside another access_log at the same level wins, in either order
--- http_config
    log_format f '$uri';
--- config
    location /a { access_log logs/a.log f; access_log off; return 200 "ok\n"; }
    location /b { access_log off; access_log logs/b.log f; return 200 "ok\n"; }
--- request eval
["GET /a", "GET /b"]
--- log_files eval
{ 'logs/a.log' => undef, 'logs/b.log' => undef, 'logs/access.log' => undef }



=== TEST 16: if=: an empty or "0" value skips the line
--- http_config
    log_format f '$uri?$args';
--- config
    access_log logs/f.log f if=$arg_log;
    location /t { return 200 "ok\n"; }
--- request eval
["GET /t?log=1", "GET /t?log=0", "GET /t?log=", "GET /t", "GET /t?log=yes"]
--- log_files eval
{ 'logs/f.log' => "/t?log=1\n/t?log=yes\n" }



=== TEST 17: buffer=: nothing reaches the file while the buffer has room; exit writes it
--- http_config
    log_format f '$uri';
--- config
    access_log logs/f.log f buffer=32k;
    location /t { return 200 "ok\n"; }
    location /logs/ { access_log off; root $TEST_NGINX_SERVROOT; }
--- request eval
["GET /t", "GET /t", "GET /logs/f.log"]
--- response_body eval
["ok\n", "ok\n", ""]
--- log_files eval
{ 'logs/f.log' => "/t\n/t\n" }



=== TEST 18: buffer=: a line that does not fit writes the buffer first; a line longer than the buffer goes straight out
--- http_config
    log_format f '$uri';
--- config
    access_log logs/f.log f buffer=24;
    location / { return 200 "ok\n"; }
    location /logs/ { access_log off; root $TEST_NGINX_SERVROOT; }
--- request eval
["GET /aaaaaaaaa", "GET /bbbbbbbbb", "GET /ccccccccc", "GET /logs/f.log",
 "GET /dddddddddddddddddddddddddddddd", "GET /logs/f.log"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "/aaaaaaaaa\n/bbbbbbbbb\n",
 "ok\n", "/aaaaaaaaa\n/bbbbbbbbb\n/ccccccccc\n/dddddddddddddddddddddddddddddd\n"]
--- log_files eval
{ 'logs/f.log' => "/aaaaaaaaa\n/bbbbbbbbb\n/ccccccccc\n/dddddddddddddddddddddddddddddd\n" }



=== TEST 19: flush=: the timer writes a buffered line out while the server runs
flush=3s, not 1s: the file read right after the request must not have the line yet, and a
loaded machine can take a second between two requests.
--- http_config
    log_format f 'ACCESS-LINE $uri';
--- config
    access_log logs/error.log f buffer=32k flush=3s;
    location /t { return 200 "ok\n"; }
    location /logs/ { access_log off; root $TEST_NGINX_SERVROOT; }
--- request eval
["GET /t", "GET /logs/error.log"]
--- response_body_unlike eval
[qr/ACCESS/, qr/ACCESS-LINE/]
--- error_log
ACCESS-LINE /t
--- log_wait: 10



=== TEST 20: USR1 writes a log's buffer to the old file, then reopens the file
--- http_config
    log_format f '$uri';
--- config
    access_log logs/f.log f buffer=32k;
    location /t { return 200 "ok\n"; }
--- request eval
["GET /t", "GET /t"]
--- reopen_logs eval
["logs/f.log"]
--- log_files eval
{ 'logs/f.log.old' => "/t\n/t\n", 'logs/f.log' => undef }



=== TEST 21: an access_log inside "if" takes over when the condition holds
--- http_config
    log_format f '$uri $arg_x';
--- config
    access_log logs/loc.log f;
    location /t {
        if ($arg_x) { access_log logs/if.log f; }
        return 200 "ok\n";
    }
--- request eval
["GET /t?x=1", "GET /t"]
--- log_files eval
{ 'logs/if.log' => "/t 1\n", 'logs/loc.log' => "/t -\n" }



=== TEST 22: log_format is only allowed at the http level
--- config
    log_format f '$uri';
--- must_die
--- error_log eval
qr/\[emerg\] .*"log_format" directive is not allowed here in \S+:\d+/



=== TEST 23: a log_format name can be defined once; "combined" is taken
--- http_config
    log_format combined '$uri';
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate "log_format" name "combined" in \S+:\d+/



=== TEST 24: an unknown escaping
--- http_config
    log_format f escape=yaml '$uri';
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown log format escaping "yaml" in \S+:\d+/



=== TEST 25: log_format with only a name
--- http_config
    log_format f;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "log_format" directive in \S+:\d+/



=== TEST 26: an unknown format name
--- config
    access_log logs/a.log nosuch;
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown log format "nosuch" in \S+:\d+/



=== TEST 27: a bad buffer= value
--- config
    location /a { access_log logs/a.log combined buffer=0; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid buffer size "0" in \S+:\d+/



=== TEST 28: bad flush= value
--- config
    access_log logs/a.log combined buffer=4k flush=soon;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid flush time "soon" in \S+:\d+/



=== TEST 29: flush= needs buffer=
--- config
    access_log logs/a.log combined flush=1s;
--- must_die
--- error_log eval
qr/\[emerg\] .*no buffer is defined for access_log "logs\/a\.log" in \S+:\d+/



=== TEST 30: an unknown parameter
--- config
    access_log logs/a.log combined buffer=4k fast;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "fast" in \S+:\d+/



=== TEST 31: "off" takes no parameters
--- config
    access_log off combined;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "combined" in \S+:\d+/



=== TEST 32: two buffered access_logs to one file must agree on the buffer
--- http_config
    access_log logs/a.log combined buffer=4k;
--- config
    access_log logs/a.log combined buffer=8k;
--- must_die
--- error_log eval
qr/\[emerg\] .*access_log "logs\/a\.log" already defined with conflicting parameters in \S+:\d+/



=== TEST 33: an unknown variable in a format
--- http_config
    log_format f '$no_such_thing';
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "no_such_thing" variable/
