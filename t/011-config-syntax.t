# The configuration language: tokens, quotes and escapes, comments, ${var} in words, directives
# over several lines, include (file, glob, relative to the conf directory), nested blocks, time
# and size values, and the main/events directives a stock nginx.conf carries.  Every block
# passes against nginx too (TEST_MOONGATE_BINARY=/usr/sbin/nginx).

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

my $root = $> == 0;
my $nobody_group = do {
    my @pw = getpwnam('nobody');
    @pw ? (getgrgid($pw[3]))[0] : undef;
};

add_block_preprocessor {
    my $block = shift;
    my @v = @{ $block->{main_config} || [] };
    return unless @v && $v[0] =~ /NOBODY_GROUP/;
    (my $main = $v[0]) =~ s/NOBODY_GROUP/$nobody_group/g;
    $block->set_value(main_config => $main);
    unless ($root) {
        # nginx's warning; the directive is then ignored
        $block->set_value(error_log => 'the "user" directive makes sense only if the master'
            . ' process runs with super-user privileges, ignored in ' . $ConfFile . ':6');
    }
};

plan skip_all => 'no "nobody" user here' unless defined $nobody_group;

run_tests();

# ---------------------------------------------------------------------------
# what the blocks above cannot write: whole files of our own, checked with -t

sub conf_test {
    my ($name, $text) = @_;
    my $file = "$ConfDir/$name";
    Test::Moongate::spew($file, $text);
    return run_cmd($Binary, '-p', "$ServRoot/", '-e', "$LogDir/t.log", '-t', '-c', $file);
}

my ($code, $out, $err) = conf_test('events.conf', <<"EOC");
worker_rlimit_nofile 1024;
env FOO;
env BAR=1;
pid $LogDir/events.pid;
events {
    accept_mutex off;
    multi_accept on;
    use epoll;
    worker_connections 64;
}
EOC
is($code, 0, 'events block with accept_mutex, multi_accept, use, worker_connections') or diag($err);

($code, $out, $err) = conf_test('times.conf', <<"EOC");
worker_shutdown_timeout 10s;
pid $LogDir/times.pid;
events { accept_mutex_delay 100ms; worker_connections 64; }
http {
    keepalive_timeout 68000ms "1y 1M";
    send_timeout "1h 30m";
    client_body_timeout 7d;
    client_header_timeout 1d2h3m4s5ms;
    lingering_time 2w;
    lingering_timeout 1h30;
    keepalive_time "2d 12";
    client_max_body_size 1g;
    client_body_buffer_size 8k;
    client_header_buffer_size 2K;
    large_client_header_buffers 4 30M;
}
EOC
is($code, 0, 'times with units (ms s m h d w, M y in seconds, combined, trailing seconds) and sizes') or diag($err);

for my $bad ('1M', '1y', '"1h 1d"', '" 1h"', '"30 1h"', '1h1h') {
    ($code, $out, $err) = conf_test('bad-time.conf', "events { }\nhttp { send_timeout $bad; }\n");
    like($err, qr/\[emerg\] "send_timeout" directive invalid value in \S+bad-time.conf:2$/m,
         "time $bad is invalid for a msec value");
}
($code, $out, $err) = conf_test('bad-time.conf', "events { }\nhttp { keepalive_timeout 1 5ms; }\n");
like($err, qr/\[emerg\] "keepalive_timeout" directive invalid value in \S+bad-time.conf:2$/m,
     'ms is invalid for a value kept in seconds');

($code, $out, $err) = conf_test('levels.conf', <<"EOC");
pid $LogDir/levels.pid;
error_log $LogDir/l-debug.log debug;
error_log $LogDir/l-info.log info;
error_log $LogDir/l-notice.log notice;
error_log $LogDir/l-warn.log warn;
error_log $LogDir/l-error.log error;
error_log $LogDir/l-crit.log crit;
error_log $LogDir/l-alert.log alert;
error_log $LogDir/l-emerg.log emerg;
error_log $LogDir/l-default.log;
error_log $LogDir/l-mask.log debug_http debug_core;
events { }
http {
    error_log $LogDir/l-http.log info;
    server {
        listen 127.0.0.1:$ServerPort;
        error_log $LogDir/l-server.log warn;
        location / {
            error_log $LogDir/l-location.log crit;
        }
    }
}
EOC
is($code, 0, 'error_log with every level name, none, and debug_<area> masks') or diag($err);

($code, $out, $err) = conf_test('glob-empty.conf', <<"EOC");
pid $LogDir/g.pid;
events { }
include no-such-dir-at-all/*.conf;
include $ConfDir/no-such-dir-either/*;
EOC
is($code, 0, 'include of a glob that matches nothing is no error') or diag($err);

($code, $out, $err) = conf_test('nested-inc.conf', <<"EOC");
pid $LogDir/n.pid;
include inc-events.conf;
EOC
Test::Moongate::spew("$ConfDir/inc-events.conf", "events {\n    include inc-wc.conf;\n}\n");
Test::Moongate::spew("$ConfDir/inc-wc.conf", "worker_connections 32;\n");
($code, $out, $err) = run_cmd($Binary, '-p', "$ServRoot/", '-e', "$LogDir/t.log", '-t',
                              '-c', "$ConfDir/nested-inc.conf");
is($code, 0, 'include inside an included block, relative to the conf directory') or diag($err);

($code, $out, $err) = conf_test('no-events.conf', "pid $LogDir/x.pid;\n");
is($code, 1, 'a configuration without events fails');
like($err, qr/\[emerg\] no "events" section in configuration$/m,
     'no "events" section, without FILE:LINE');

SKIP: {
    skip('user and group lookups: only as root', 3) unless $root;
    ($code, $out, $err) = conf_test('user.conf', "pid $LogDir/u.pid;\nevents { }\n"
                                    . "user nobody $nobody_group;\n");
    is($code, 0, 'user with an existing user and group, as root') or diag($err);
    ($code, $out, $err) = conf_test('user2.conf', "pid $LogDir/u.pid;\nevents { }\n"
                                    . "user no_such_user_here;\n");
    like($err, qr/\[emerg\] getpwnam\("no_such_user_here"\) failed in \S+user2.conf:3$/m,
         'user that does not exist, as root');
    ($code, $out, $err) = conf_test('user3.conf', "pid $LogDir/u.pid;\nevents { }\n"
                                    . "user nobody no_such_group_here;\n");
    like($err, qr/\[emerg\] getgrnam\("no_such_group_here"\) failed in \S+user3.conf:3$/m,
         'group that does not exist, as root');
}

# TEST 19 ran last: its location logs tell whether the levels filtered
my $crit = Test::Moongate::slurp("$LogDir/loc-crit.log");
my $err_log = Test::Moongate::slurp("$LogDir/loc-err.log");
# (the file must be there, opened at startup: a wrong name would pass the unlike on nothing)
ok(-e "$LogDir/loc-crit.log", 'the crit location log exists');
unlike($crit, qr/No such file or directory/, 'a crit location log does not get the [error] line');
like($err_log, qr/\[error\] .*open\(\) "[^"]+\/err\/missing" failed \(2: No such file or directory\)/,
     'an error location log gets it');

__DATA__

=== TEST 1: double quotes with spaces and every escape nginx knows
--- config
location /t {
    return 200 "a b\t|\"q\"|\'s\'|\\|x\ny\r\n";
}
--- request
GET /t
--- response_body eval
"a b\t|\"q\"|'s'|\\|x\ny\r\n"



=== TEST 2: single quotes keep double quotes; unknown escapes stay as written
--- config
location /t {
    return 200 'say "hi" \'there\' \d\n';
}
--- request
GET /t
--- response_body eval
"say \"hi\" 'there' \\d\n"



=== TEST 3: comments after a directive and after "{"; "#" inside quotes or a word is text
--- config
location /t {   # a comment after the brace { ; }
    # a whole-line comment with "quotes and ; and }
    return 200 "a#b c#d\n"; # a trailing comment ; }
}
location /w {
    return 200 x#y;
}
--- request eval
["GET /t", "GET /w"]
--- response_body eval
["a#b c#d\n", "x#y"]



=== TEST 4: ${var} inside an unquoted word does not end the word at "{" or "}"
--- config
location /t {
    return 200 pre${uri}mid${request_method}post;
}
--- request
GET /t
--- response_body chomp
pre/tmidGETpost



=== TEST 5: a directive over several lines, a quoted string with a raw newline
--- config
location
    /t
{
    return
        200
        "one
two\n"
    ;
}
--- request
GET /t
--- response_body
one
two



=== TEST 6: quoted directive name and quoted arguments everywhere
--- config
"location" "/t" {
    "return" '200' "quoted\n";
}
--- request
GET /t
--- response_body
quoted



=== TEST 7: a backslash before a space, a semicolon and a brace in an unquoted word
--- config
location /t {
    return 200 a\;b\{c\}d;
}
--- request
GET /t
--- response_body chomp
a\;b\{c\}d



=== TEST 8: include a single file, relative to the configuration directory
--- config
include one.conf;
--- user_files
>>> ../conf/one.conf
location /inc {
    return 200 "from one.conf\n";
}
--- request
GET /inc
--- response_body
from one.conf



=== TEST 9: include a glob: every match, in sorted order; a glob matching nothing is fine
--- config
include order/*.conf;
include nothing-here/*.conf;
location /t {
    return 200 "ok\n";
}
--- user_files
>>> ../conf/order/b.conf
add_header X-Order b;
>>> ../conf/order/c.conf
add_header X-Order c;
>>> ../conf/order/a.conf
add_header X-Order a;
>>> ../conf/order/not-a-conf.txt
this is not included
--- request
GET /t
--- response_headers
X-Order: a, b, c
--- response_body
ok



=== TEST 10: include with an absolute path, at the http level
--- http_config eval
"include $::ConfDir/abs.conf;"
--- user_files
>>> ../conf/abs.conf
add_header X-Abs yes;
--- config
location /t {
    return 200 "ok\n";
}
--- request
GET /t
--- response_headers
X-Abs: yes



=== TEST 11: nested blocks: a location in a location
--- config
location /a {
    location /a/b {
        return 200 "inner\n";
    }
    return 200 "outer\n";
}
--- request eval
["GET /a/b/c", "GET /a/x"]
--- response_body eval
["inner\n", "outer\n"]



=== TEST 12: times with units in several directives
--- config
keepalive_timeout 68000ms;
send_timeout 1h;
client_body_timeout "1h 30m";
client_header_timeout 7d;
lingering_timeout 5s;
location /t {
    keepalive_timeout 1m 30;
    return 200 "ok\n";
}
--- request
GET /t
--- response_body
ok



=== TEST 13: sizes with units
--- config
client_body_buffer_size 8k;
location /t {
    client_max_body_size 1g;
    return 200 "ok\n";
}
--- request
POST /t
hello
--- response_body
ok



=== TEST 14: server_name quoted picks the server
--- http_config eval
"server {
    listen 127.0.0.1:$::ServerPort;
    server_name \"quoted.test\" 'single.test';
    return 200 \"second server\\n\";
}"
--- config
location /t {
    return 200 "first server\n";
}
--- request
GET /t
--- more_headers
Host: single.test
--- response_body
second server



=== TEST 15: worker_rlimit_nofile, env FOO, env BAR=1
--- main_config
worker_rlimit_nofile 1024;
env FOO;
env BAR=1;
--- config
location /t {
    return 200 "ok\n";
}
--- request
GET /t
--- response_body
ok



=== TEST 16: user with the nobody user and its group (as non-root: nginx's warning)
--- main_config
user nobody NOBODY_GROUP;
--- config
location /t {
    return 200 "ok\n";
}
--- request
GET /t
--- response_body
ok



=== TEST 17: client_body_temp_path with levels, in a location
--- config
location /t {
    client_body_temp_path body_temp 1 2;
    return 200 "ok\n";
}
--- request
POST /t
some body
--- response_body
ok



=== TEST 18: error_log at each level, at every configuration level
--- main_config
error_log logs/debug.log debug;
error_log logs/info.log info;
error_log logs/notice.log notice;
error_log logs/warn.log warn;
error_log logs/crit.log crit;
error_log logs/alert.log alert;
error_log logs/emerg.log emerg;
--- http_config
error_log logs/http.log info;
--- config
error_log logs/server.log warn;
location /t {
    error_log logs/location.log error;
    return 200 "ok\n";
}
--- request
GET /t
--- response_body
ok



=== TEST 19: a level of error_log filters: a 404's "open() failed" reaches error, not crit
--- config
location /crit {
    error_log logs/loc-crit.log crit;
}
location /err {
    error_log logs/loc-err.log error;
}
--- request eval
["GET /crit/missing", "GET /err/missing"]
--- error_code eval
[404, 404]
--- init
# left over from an earlier run (against another binary, say): empty them, the server has them open
truncate "$::LogDir/$_", 0 for qw(loc-crit.log loc-err.log);
