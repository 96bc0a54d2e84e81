# error_log at the http, server and location levels: each level's lines go to its own
# files, filtered by each file's level; a level with error_log lines replaces the parent's;
# several lines at one level all get what their level admits (the same file twice gets it
# twice); messages before the server is known use the default server's log.
#
# Besides Test::Nginx's sections, a block may have "--- log_files eval": a hashref of
# files under the server root => undef (empty), a qr// that must match, or [qr//...] of
# patterns that must not match; checked once the server has stopped. Every file named must
# exist (the server opens each error_log file at startup): a wrong name in the block must not
# pass as a file that got nothing.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/151-error-log.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

log_level('error');

add_block_preprocessor(sub { unlink glob("$LogDir/*.log") });

sub check_log_files {
    my $block = shift;
    my $files = $block->log_files or return;
    for my $f (sort keys %$files) {
        my $path = "$ServRoot/$f";
        my $name = $block->name . " - $f";
        ok(-e $path, "$name exists") or next;
        my $got = do { local (@ARGV, $/) = $path; <> } // '';
        my $want = $files->{$f};
        if (!defined $want) {
            is($got, '', "$name empty");
        } elsif (ref $want eq 'ARRAY') {
            unlike($got, $_, "$name does not match $_") for @$want;
        } else {
            like($got, $want, "$name matches");
        }
    }
}

add_known_sections('log_files');
Test::Moongate::stop_stale_server();
for my $block (blocks()) {
    run_test($block) and check_log_files($block);
}

__DATA__

=== TEST 1: a server's error_log gets its requests' errors, the main log does not
--- config
    error_log logs/srv.log;
--- request
GET /nofile
--- error_code: 404
--- log_files eval
{ 'logs/srv.log' => qr{\[error\] \d+#\d+: \*\d+ open\(\) "[^"]+/html/nofile" failed \(2: No such file or directory\), client: 127\.0\.0\.1, server: localhost, request: "GET /nofile HTTP/1\.1", host: "localhost"\n\z} }
--- no_error_log
open()



=== TEST 2: a location's error_log at "crit" drops "error" lines; its sibling uses the server's
--- config
    error_log logs/srv.log error;
    location /quiet/ { error_log logs/quiet.log crit; }
--- request eval
["GET /quiet/nofile", "GET /loud"]
--- error_code eval
[404, 404]
--- log_files eval
{ 'logs/quiet.log' => undef, 'logs/srv.log' => qr{\A[^\n]+open\(\) "[^"]+/html/loud" failed[^\n]+\n\z} }
--- no_error_log
open()



=== TEST 3: the http level's error_log reaches servers and locations without their own
--- http_config
    error_log logs/http.log warn;
--- config
    location /a/ { }
--- request eval
["GET /a/nofile", "GET /nofile"]
--- error_code eval
[404, 404]
--- log_files eval
{ 'logs/http.log' => qr{\A[^\n]+"GET /a/nofile HTTP/1\.1"[^\n]+\n[^\n]+"GET /nofile HTTP/1\.1"[^\n]+\n\z} }
--- no_error_log
open()



=== TEST 4: a server with its own error_log does not write to the http level's
--- http_config
    error_log logs/http.log;
--- config
    error_log logs/srv.log;
--- request
GET /nofile
--- error_code: 404
--- log_files eval
{ 'logs/http.log' => undef, 'logs/srv.log' => qr{"GET /nofile HTTP/1\.1"} }



=== TEST 5: a location with its own error_log replaces the server's
--- config
    error_log logs/srv.log;
    location /a/ { error_log logs/loc.log; }
--- request
GET /a/nofile
--- error_code: 404
--- log_files eval
{ 'logs/srv.log' => undef, 'logs/loc.log' => qr{open\(\) "[^"]+/html/a/nofile" failed} }



=== TEST 6: a nested location inherits the enclosing location's error_log
--- config
    location /a/ {
        error_log logs/a.log;
        location /a/b/ { }
    }
--- request
GET /a/b/nofile
--- error_code: 404
--- log_files eval
{ 'logs/a.log' => qr{open\(\) "[^"]+/html/a/b/nofile" failed} }
--- no_error_log
open()



=== TEST 7: several error_log lines at one level: each gets what its level admits
--- config
    error_log logs/crit.log crit;
    error_log logs/info.log info;
    error_log logs/err2.log error;
--- request
GET /nofile
--- error_code: 404
--- log_files eval
{ 'logs/crit.log' => undef,
  'logs/info.log' => qr{\A[^\n]+open\(\) "[^"]+/html/nofile" failed[^\n]+\n\z},
  'logs/err2.log' => qr{\A[^\n]+open\(\) "[^"]+/html/nofile" failed[^\n]+\n\z} }



=== TEST 8: the same file named twice at one level gets each message twice
--- config
    error_log logs/twice.log;
    error_log logs/twice.log warn;
--- request
GET /nofile
--- error_code: 404
--- log_files eval
{ 'logs/twice.log' => qr{\A([^\n]+open\(\) "[^"]+/html/nofile" failed[^\n]+\n){2}\z} }



=== TEST 9: the order of the lines does not matter
--- config
    error_log logs/info.log info;
    error_log logs/alert.log alert;
--- request
GET /nofile
--- error_code: 404
--- log_files eval
{ 'logs/alert.log' => undef, 'logs/info.log' => qr{open\(\) "[^"]+/html/nofile" failed} }



=== TEST 10: without a level a file gets "error" and worse, not "info"
--- config
    error_log logs/srv.log;
--- raw_request eval
"GE!T / HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- log_files eval
{ 'logs/srv.log' => undef }



=== TEST 11: a request line error goes to the default server's log at its level
--- config
    error_log logs/srv.log info;
--- raw_request eval
"GE!T / HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- log_files eval
{ 'logs/srv.log' => qr{\[info\] \d+#\d+: \*\d+ client sent invalid method while reading client request line, client: 127\.0\.0\.1, server: localhost, request: "GE!T / HTTP/1\.1"} }
--- no_error_log
client sent



=== TEST 12: once the Host header picks a server, its log takes the request's lines
--- config
    error_log logs/default.log info;
}
server {
    listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    server_name other;
    error_log logs/other.log info;
    location / { root html; }
--- request
GET /nofile
--- more_headers
Host: other
--- error_code: 404
--- log_files eval
{ 'logs/default.log' => [qr/nofile/], 'logs/other.log' => qr{open\(\) "[^"]+/html/nofile" failed[^\n]+server: other} }



=== TEST 13: log_not_found off in a location keeps a missing file out of its log
--- config
    error_log logs/srv.log;
    location /a/ { log_not_found off; }
--- request eval
["GET /a/nofile", "GET /nofile"]
--- error_code eval
[404, 404]
--- log_files eval
{ 'logs/srv.log' => qr{\A[^\n]+"GET /nofile HTTP/1\.1"[^\n]+\n\z} }



=== TEST 14: an unknown level in a location is rejected with its place
--- config
    location /a/ { error_log logs/a.log loud; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid log level "loud" in \S+moongate\.conf:\d+/



=== TEST 15: two levels on one error_log line are rejected
--- config
    error_log logs/a.log error warn;
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate log level "warn" in \S+moongate\.conf:\d+/



=== TEST 16: control bytes a client sends never reach the log raw (a decoded URI in a message)
--- moongate_only
--- config
    location / { root html; }
--- request
GET /a%0d%0a2026/12/04%2000:00:00%20[emerg]%20forged%01%7f%09x
--- error_code: 404
--- error_log eval
qr{open\(\) "[^"]+/html/a\\x0D\\x0A2026/12/04 00:00:00 \[emerg\] forged\\x01\\x7F\\x09x" failed}
--- no_error_log eval
[qr/\r/, qr/^2026\/12\/04 00:00:00/, qr/forged\x01/]



=== TEST 17: ... nor in the context (a header in the referrer, the request line)
--- moongate_only
--- config
    location / { root html; }
--- raw_request eval
"GET /nofile HTTP/1.1\r\nHost: x\r\nReferer: a\x01b\x7fc\tz\r\nConnection: close\r\n\r\n"
--- error_code: 404
--- error_log eval
qr{referrer: "a\\x01b\\x7Fc\\x09z"}
--- no_error_log eval
[qr/\x01/, qr/\x7f/]



=== TEST 18: Lua keeps its lines (tracebacks, ngx.log), other control bytes are escaped
--- moongate_only
--- config
    location /l { content_by_lua_block { ngx.log(ngx.ERR, "one\ntwo\rthree\1four\tfive") } }
--- request
GET /l
--- error_log eval
[qr/\[lua\] .*one$/, qr/^two\\x0Dthree\\x01four\tfive, client: /]
--- no_error_log eval
[qr/\r/, qr/\x01/]
