# Configuration errors: the exact message and FILE:LINE of every kind of error the parser and
# the generic setters report, compared with nginx (run the file with
# TEST_MOONGATE_BINARY=/usr/sbin/nginx: every block passes there too).
#
# Most blocks put the faulty lines in conf/bad.conf (section "bad_conf") and include it from the
# level named by "include_in" (main, http, server, or a location /t in the server), so the line
# numbers in the expected messages are the lines of bad.conf whatever the harness writes around
# it.  In "error_log", %F stands for that file's path, %D for the conf directory and $PORT for
# the test port.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

use_bad_conf_blocks();

run_tests();

__DATA__

=== TEST 1: unknown directive
--- include_in: http
--- bad_conf
sendfile on;
foo bar;
--- error_log
unknown directive "foo" in %F:2



=== TEST 2: unknown directive, quoted name
--- include_in: server
--- bad_conf
# a comment line
# another
"no_such" 1;
--- error_log
unknown directive "no_such" in %F:3



=== TEST 3: listen is not allowed in http
--- include_in: http
--- bad_conf
listen 80;
--- error_log
"listen" directive is not allowed here in %F:1



=== TEST 4: location is not allowed in http
--- include_in: http
--- bad_conf
# the next line
location / { }
--- error_log
"location" directive is not allowed here in %F:2



=== TEST 5: server is not allowed at main level
--- include_in: main
--- bad_conf
server {
}
--- error_log
"server" directive is not allowed here in %F:1



=== TEST 6: worker_connections is not allowed at main level
--- include_in: main
--- bad_conf
worker_connections 10;
--- error_log
"worker_connections" directive is not allowed here in %F:1



=== TEST 7: daemon is not allowed in http
--- include_in: http
--- bad_conf
daemon on;
--- error_log
"daemon" directive is not allowed here in %F:1



=== TEST 8: root with two arguments
--- include_in: server
--- bad_conf
root /a
     /b;
--- error_log
invalid number of arguments in "root" directive in %F:2



=== TEST 9: location with no argument
--- include_in: server
--- bad_conf
location {
}
--- error_log
invalid number of arguments in "location" directive in %F:1



=== TEST 10: flag takes one argument
--- include_in: server
--- bad_conf
sendfile on off;
--- error_log
invalid number of arguments in "sendfile" directive in %F:1



=== TEST 11: flag "maybe"
--- include_in: server
--- bad_conf
sendfile maybe;
--- error_log
invalid value "maybe" in "sendfile" directive, it must be "on" or "off" in %F:1



=== TEST 12: size "10q"
--- include_in: location
--- bad_conf
client_body_buffer_size 10q;
--- error_log
"client_body_buffer_size" directive invalid value in %F:1



=== TEST 13: time "5x"
--- include_in: server
--- bad_conf
send_timeout 5x;
--- error_log
"send_timeout" directive invalid value in %F:1



=== TEST 14: time with units out of order
--- include_in: server
--- bad_conf
send_timeout 1m1h;
--- error_log
"send_timeout" directive invalid value in %F:1



=== TEST 15: number "abc"
--- include_in: server
--- bad_conf
keepalive_requests abc;
--- error_log
"keepalive_requests" directive invalid number in %F:1



=== TEST 16: log level "loud"
--- include_in: http
--- bad_conf
error_log logs/x.log loud;
--- error_log
invalid log level "loud" in %F:1



=== TEST 17: two log levels
--- include_in: main
--- bad_conf
error_log logs/x.log info debug;
--- error_log
duplicate log level "debug" in %F:1



=== TEST 18: listen port out of range
--- include_in: server
--- bad_conf
listen 127.0.0.1:99999;
--- error_log
invalid port in "127.0.0.1:99999" of the "listen" directive in %F:1



=== TEST 19: unexpected end of file inside a block
--- include_in: server
--- bad_conf
location /a {
    return 204;
--- error_log
unexpected end of file, expecting "}" in %F:3



=== TEST 20: unexpected end of file inside a directive
--- include_in: server
--- bad_conf
default_type
  text/plain
--- error_log
unexpected end of file, expecting ";" or "}" in %F:3



=== TEST 21: unexpected end of file inside a quoted string
--- include_in: server
--- bad_conf
default_type "text/plain;
# not a comment: still inside the quotes
--- error_log
unexpected end of file, expecting ";" or "}" in %F:3



=== TEST 22: unexpected "}"
--- include_in: server
--- bad_conf
default_type text/plain;
}
--- error_log
unexpected "}" in %F:2



=== TEST 23: unexpected ";"
--- include_in: server
--- bad_conf
default_type text/plain;
  ;
--- error_log
unexpected ";" in %F:2



=== TEST 24: unexpected "{"
--- include_in: server
--- bad_conf
{ }
--- error_log
unexpected "{" in %F:1



=== TEST 25: a quoted word glued to the next one
--- include_in: server
--- bad_conf
default_type "text/"plain;
--- error_log
unexpected "p" in %F:1



=== TEST 26: directive not terminated by ";"
--- include_in: server
--- bad_conf
root /x {
}
--- error_log
directive "root" is not terminated by ";" in %F:1



=== TEST 27: block directive without "{"
--- include_in: server
--- bad_conf
location /x;
--- error_log
directive "location" has no opening "{" in %F:1



=== TEST 28: duplicate flag
--- include_in: server
--- bad_conf
sendfile on;
sendfile off;
--- error_log
"sendfile" directive is duplicate in %F:2



=== TEST 29: duplicate string
--- include_in: location
--- bad_conf
default_type a/b;
default_type a/c;
--- error_log
"default_type" directive is duplicate in %F:2



=== TEST 30: duplicate size (client_max_body_size is already set by the harness)
--- include_in: server
--- bad_conf
client_max_body_size 1m;
--- error_log
"client_max_body_size" directive is duplicate in %F:1



=== TEST 31: duplicate time
--- include_in: http
--- bad_conf
send_timeout 1s;

send_timeout 2s;
--- error_log
"send_timeout" directive is duplicate in %F:3



=== TEST 32: duplicate number
--- include_in: location
--- bad_conf
keepalive_requests 5;
keepalive_requests 5;
--- error_log
"keepalive_requests" directive is duplicate in %F:2



=== TEST 33: duplicate root
--- include_in: location
--- bad_conf
root /a;
root /b;
--- error_log
"root" directive is duplicate in %F:2



=== TEST 34: duplicate path (pid is already set by the harness)
--- include_in: main
--- bad_conf
pid logs/other.pid;
--- error_log
"pid" directive is duplicate in %F:1



=== TEST 35: duplicate worker_rlimit_nofile
--- include_in: main
--- bad_conf
worker_rlimit_nofile 100;
worker_rlimit_nofile 100;
--- error_log
"worker_rlimit_nofile" directive is duplicate in %F:2



=== TEST 36: duplicate worker_processes (already set by the harness)
--- include_in: main
--- bad_conf
worker_processes 2;
--- error_log
"worker_processes" directive is duplicate in %F:1



=== TEST 37: duplicate events
--- include_in: main
--- bad_conf
events {
}
events {
}
--- error_log
"events" directive is duplicate in %F:3



=== TEST 38: duplicate http
--- include_in: main
--- bad_conf
http {
}
http {
}
--- error_log
"http" directive is duplicate in %F:3



=== TEST 39: duplicate prefix location
--- include_in: server
--- bad_conf
location /a { }
location /a { }
--- error_log
duplicate location "/a" in %F:2



=== TEST 40: duplicate exact location
--- include_in: server
--- bad_conf
location = /a { }

location = /a { }
--- error_log
duplicate location "/a" in %F:3



=== TEST 41: ^~ and plain prefix location of the same name
--- include_in: server
--- bad_conf
location ^~ /a { }
location /a { }
--- error_log
duplicate location "/a" in %F:2



=== TEST 42: duplicate listen
--- include_in: server
--- bad_conf
listen 127.0.0.1:$PORT;
--- error_log
a duplicate listen 127.0.0.1:$PORT in %F:1



=== TEST 43: duplicate default server
--- include_in: http
--- bad_conf
server {
    listen 127.0.0.1:$PORT default_server;
}
server {
    listen 127.0.0.1:$PORT default_server;
}
--- error_log
a duplicate default server for 127.0.0.1:$PORT in %F:5



=== TEST 44: location outside location
--- include_in: server
--- bad_conf
location /a {
    location /b { }
}
--- error_log
location "/b" is outside location "/a" in %F:2



=== TEST 45: named location nested
--- include_in: server
--- bad_conf
location /a {
    location @b { }
}
--- error_log
named location "@b" can be on the server level only in %F:2



=== TEST 46: include of a missing file
--- include_in: http
--- bad_conf
# the next line
include nothere.conf;
--- error_log
open() "%D/nothere.conf" failed (2: No such file or directory) in %F:2



=== TEST 47: invalid event type
--- include_in: main
--- bad_conf
events { use no_such_method; }
--- error_log
invalid event type "no_such_method" in %F:1



=== TEST 48: worker_connections "abc"
--- include_in: main
--- bad_conf
events {
    worker_connections abc;
}
--- error_log
invalid number "abc" in %F:2



=== TEST 49: worker_processes "-1" (the harness then leaves out its own: line 6)
--- main_config
worker_processes -1;
--- must_die
--- error_log
"worker_processes" directive invalid value in %C:6



=== TEST 50: worker_processes "abc"
--- main_config
worker_processes abc;
--- must_die
--- error_log
"worker_processes" directive invalid value in %C:6



=== TEST 51: duplicate use
--- include_in: main
--- bad_conf
events {
    use epoll;
    use epoll;
}
--- error_log
"use" directive is duplicate in %F:3



=== TEST 52: unknown variable: nginx gives no FILE:LINE
--- config
location /t {
    return 200 "[$no_such_var]";
}
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "no_such_var" variable$/



=== TEST 53: invalid regex in a location: pcre2's message, with the rest of the pattern
--- include_in: server
--- bad_conf
location ~ ^/a)b {
}
--- error_log
pcre2_compile() failed: unmatched closing parenthesis in "^/a)b" at ")b" in %F:1



=== TEST 54: invalid regex error at the end of the pattern: nginx leaves out the empty 'at ""'
--- include_in: server
--- bad_conf
location ~ "(" {
}
--- error_log
pcre2_compile() failed: missing closing parenthesis in "(" in %F:1



=== TEST 55: the error inside a nested include names the inner file
--- include_in: http
--- bad_conf
# includes itself one level down
include inner*.conf;
--- user_files
>>> ../conf/inner1.conf
server {
    listen 127.0.0.1:$PORT;
    server_name inner;
    location / {
        return 200;
        return 204 "a" "b";
    }
}
--- error_log
invalid number of arguments in "return" directive in %D/inner1.conf:6



=== TEST 56: a non-block directive given a block in events
--- include_in: main
--- bad_conf
events {
    worker_connections 10 {
    }
}
--- error_log
directive "worker_connections" is not terminated by ";" in %F:2



=== TEST 57: an error in -g style context: directive not allowed in events
--- include_in: main
--- bad_conf
events {
    pid x.pid;
}
--- error_log
"pid" directive is not allowed here in %F:2
