# "set" and "if": new and changeable variables, uninitialized-variable warnings, nginx's
# conditions (variable, = !=, ~ ~* !~ !~* with captures, -f -d -e -x and negations), the
# if body's own configuration (root, add_header), server-level if, and config errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/131-if-set.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: set a new variable from a constant and from variables
--- config
    location /t { set $a hello; set $b "$a $arg_x"; return 200 "$b\n"; }
--- request
GET /t?x=world
--- response_body
hello world



=== TEST 2: set $args changes the arguments
--- config
    location /t { set $args "n=1"; return 200 "$args $arg_n $is_args\n"; }
--- request
GET /t?old=2
--- response_body
n=1 1 ?



=== TEST 3: a variable set in one location is seen after a rewrite into another
--- config
    location /a { set $who a; rewrite ^ /b last; }
    location /b { return 200 "from $who\n"; }
--- request
GET /a
--- response_body
from a



=== TEST 4: an unset variable is empty, with a warning
--- config
    location /a { set $x 1; }
    location /t { return 200 "[$x]\n"; }
--- request
GET /t
--- response_body
[]
--- error_log
using uninitialized "x" variable



=== TEST 5: uninitialized_variable_warn off silences the warning
--- config
    uninitialized_variable_warn off;
    location /a { set $x 1; }
    location /t { return 200 "[$x]\n"; }
--- request
GET /t
--- response_body
[]
--- no_error_log
using uninitialized



=== TEST 6: a variable alone is false when empty or "0"
--- config
    location /t { if ($arg_a) { return 200 "true\n"; } return 200 "false\n"; }
--- request eval
["GET /t?a=1", "GET /t?a=0", "GET /t?a=", "GET /t", "GET /t?a=00"]
--- response_body eval
["true\n", "false\n", "false\n", "false\n", "true\n"]



=== TEST 7: = and != compare strings, with variables on the right
--- config
    location /t {
        if ($arg_a = "x y") { return 200 "eq\n"; }
        if ($arg_a != $arg_b) { return 200 "ne\n"; }
        return 200 "same\n";
    }
--- request eval
["GET /t?a=x%20y", "GET /t?a=1&b=2", "GET /t?a=1&b=1"]
--- response_body eval
["ne\n", "ne\n", "same\n"]



=== TEST 8: ~ matches case-sensitively and sets captures
--- config
    location /t {
        if ($uri ~ ^/t/(\w+)/(\d+)$) { return 200 "$1:$2\n"; }
        return 200 "no\n";
    }
--- request eval
["GET /t/abc/12", "GET /t/abc/x"]
--- response_body eval
["abc:12\n", "no\n"]



=== TEST 9: ~* ignores case, named captures become variables
--- config
    location /t {
        if ($arg_ua ~* "^(?<agent>curl)/") { return 200 "agent $agent\n"; }
        return 200 "other\n";
    }
--- request eval
["GET /t?ua=CURL/8.0", "GET /t?ua=wget"]
--- response_body eval
["agent CURL\n", "other\n"]



=== TEST 10: !~ and !~* negate a match
--- config
    location /t {
        if ($arg_a !~ ^x) { return 200 "not x\n"; }
        if ($arg_a !~* ^XY) { return 200 "x but not xy\n"; }
        return 200 "xy\n";
    }
--- request eval
["GET /t?a=b", "GET /t?a=xz", "GET /t?a=xYz"]
--- response_body eval
["not x\n", "x but not xy\n", "xy\n"]



=== TEST 11: -f, -d, -e and their negations
--- config
    location /t {
        if (-f $document_root/$arg_p) { return 200 "file\n"; }
        if (-d $document_root/$arg_p) { return 200 "dir\n"; }
        if (!-e $document_root/$arg_p) { return 200 "none\n"; }
        return 200 "other\n";
    }
--- user_files
>>> d/f.txt
x
--- request eval
["GET /t?p=d/f.txt", "GET /t?p=d", "GET /t?p=nope"]
--- response_body eval
["file\n", "dir\n", "none\n"]



=== TEST 12: !-f and -e on a directory
--- config
    location /t {
        if (!-f $document_root/d) { set $r "notfile"; }
        if (-e $document_root/d) { set $r "$r exists"; }
        return 200 "$r\n";
    }
--- user_files
>>> d/f.txt
x
--- request
GET /t
--- response_body
notfile exists



=== TEST 13: -x tests the executable bit
--- config
    location /t {
        if (-x /bin/sh) { set $r "x"; }
        if (!-x $document_root/f.txt) { set $r "$r nx"; }
        return 200 "$r\n";
    }
--- user_files
>>> f.txt
x
--- request
GET /t
--- response_body
x nx



=== TEST 14: the body's configuration applies when true: root
--- config
    location /p/ {
        root html/a;
        if ($arg_b) { root html/b; }
    }
--- user_files
>>> a/p/f
from a
>>> b/p/f
from b
--- request eval
["GET /p/f", "GET /p/f?b=1"]
--- response_body eval
["from a\n", "from b\n"]



=== TEST 15: add_header inside if replaces the location's headers when true
--- config
    location /t {
        add_header X-Loc loc;
        if ($arg_i) { add_header X-If if; }
        return 200 "ok\n";
    }
--- request eval
["GET /t", "GET /t?i=1"]
--- response_headers eval
["X-Loc: loc\n!X-If", "X-If: if\n!X-Loc"]



=== TEST 16: the if body inherits the location's settings
--- config
    location /p/ {
        root html/a;
        if ($arg_x) { add_header X-If 1; }
    }
--- user_files
>>> a/p/f
from a
--- request
GET /p/f?x=1
--- response_headers
X-If: 1
--- response_body
from a



=== TEST 17: operations after a true if still run; break inside the body stops them
--- config
    location /t {
        if ($arg_a) { set $v "a"; }
        if ($arg_b) { set $v "b"; break; }
        set $v "$v+";
        return 200 "[$v]\n";
    }
--- user_files
>>> t
file t
--- request eval
["GET /t?a=1", "GET /t?b=1"]
--- response_body eval
["[a+]\n", "file t\n"]



=== TEST 18: rewrite ... last inside if
--- config
    location /t { if ($arg_go) { rewrite ^ /other last; } return 200 "stay\n"; }
    location /other { return 200 "moved\n"; }
--- request eval
["GET /t?go=1", "GET /t"]
--- response_body eval
["moved\n", "stay\n"]



=== TEST 19: server-level if runs in the server-rewrite phase
--- config
    if ($arg_deny) { return 403; }
    if ($arg_go) { rewrite ^ /go; }
    location /go { return 200 "go\n"; }
    location / { return 200 "root\n"; }
--- request eval
["GET /x?deny=1", "GET /x", "GET /x?go=1"]
--- error_code eval
[403, 200, 200]
--- response_body_like eval
["403 Forbidden", "root", "go"]



=== TEST 20: a regex if with rewrite_log logs the match
--- config
    rewrite_log on;
    location /t { if ($arg_a ~ ^x) { return 200 "x\n"; } return 200 "no\n"; }
--- log_level: notice
--- request eval
["GET /t?a=xy", "GET /t?a=b"]
--- response_body eval
["x\n", "no\n"]
--- error_log eval
['"^x" matches "xy"', '"^x" does not match "b"']



=== TEST 21: parentheses as words of their own and quoted operands
--- config
    location /t { if ( $arg_a = "q" ) { return 200 "q\n"; } return 200 "other\n"; }
--- request
GET /t?a=q
--- response_body
q



=== TEST 22: set needs a $name
--- config
    location / { set foo bar; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid variable name "foo" in \S+\.conf:\d+/



=== TEST 23: set on a built-in read-only variable
--- config
    location / { set $uri x; }
--- must_die
--- error_log eval
qr/\[emerg\] .*the duplicate "uri" variable in \S+\.conf:\d+/



=== TEST 24: set's argument count
--- config
    location / { set $a; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "set" directive in \S+\.conf:\d+/



=== TEST 25: if without parentheses
--- config
    location / { if $a { } }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid condition "\$a" in \S+\.conf:\d+/



=== TEST 26: if with a missing operand
--- config
    location / { if ($arg_a = ) { } }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid condition "\$arg_a" in \S+\.conf:\d+/



=== TEST 27: if with an unknown file test
--- config
    location / { if (-q $uri) { } }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid condition "-q" in \S+\.conf:\d+/



=== TEST 28: if with too many words
--- config
    location / { if ($arg_a = a b) { } }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid condition "\$arg_a" in \S+\.conf:\d+/



=== TEST 29: empty if
--- config
    location / { if () { } }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid condition "\)" in \S+\.conf:\d+/



=== TEST 30: if with a bad regex
--- config
    location / { if ($uri ~ "(") { } }
--- must_die
--- error_log eval
qr/\[emerg\] .*missing closing parenthesis.* in \S+\.conf:\d+/



=== TEST 31: if inside if is not allowed
--- config
    location / { if ($arg_a) { if ($arg_b) { } } }
--- must_die
--- error_log eval
qr/\[emerg\] .*"if" directive is not allowed here in \S+\.conf:\d+/



=== TEST 32: location inside if is not allowed
--- config
    location / { if ($arg_a) { location /x { } } }
--- must_die
--- error_log eval
qr/\[emerg\] .*"location" directive is not allowed here in \S+\.conf:\d+/



=== TEST 33: root is not allowed in a server-level if
--- config
    if ($arg_a) { root /x; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"root" directive is not allowed here in \S+\.conf:\d+/



=== TEST 34: an if on an unknown variable
--- config
    location / { if ($no_such_thing) { } }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "no_such_thing" variable/



=== TEST 35: uninitialized_variable_warn takes on or off
--- config
    uninitialized_variable_warn x;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "x" in "uninitialized_variable_warn" directive, it must be "on" or "off" in \S+\.conf:\d+/
