# The embedding API's calls t/800 and t/801 leave out (t/embed-api/api.c, built against the
# installed library): a configuration file named relative to the prefix, -g style directives
# (parsed first, kept by a reload; a bad one is create's error string, "in command line"),
# moongate's own loop in the main thread driven from another thread (reload with its verdict
# and FILE:LINE error, Lua run in the server's VM, a graceful stop), a log callback that gets
# the lines at its level and above only, the version macros against the library's answer, and
# the request API's raw arguments, its server and a handler that declines to the static file;
# then the same program linked with libmoongate.a through `pkg-config --static`.
use strict;
use warnings;
use Test::More;
use Test::Moongate ();
use Test::MoongateEmbed;

plan skip_all => 'the embedding API is moongate\'s' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $dir = "$Test::Moongate::ServRoot/embed-api";
my $prefix = embed_install($dir);
my ($code, $out) = embed_build($prefix, "$root/t/embed-api", "$dir/build");
is($code, 0, 'the test program builds with pkg-config') or diag($out);

my $run = "$dir/run";
mkdir $_ for $run, "$run/logs", "$run/conf", "$run/html", "$run/html/d";
Test::Moongate::spew("$run/html/d/file.txt", "static file\n");
my $port = Test::Moongate::find_free_port();
sub conf {
    my $extra = shift // '';
    Test::Moongate::spew("$run/conf/api.conf", <<"CONF");
master_process off;
error_log logs/error.log info;
$extra
events { }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port;
        location /args { handler args; }
        location /d/ { declines; }
        location /lua { content_by_lua_block { ngx.say("lua ", ngx.var.arg_v) } }
    }
}
CONF
}
conf();

# a directive of the command line the configuration does not know
my $log = "$dir/out-bad";
my $pid = embed_start($log, "$dir/build/api", $run, 'bogus_from_g on;');
is(embed_wait_exit($pid, 10), 1, 'a bad -g directive: create fails');
like(Test::Moongate::slurp($log),
     qr/^create failed: \[emerg\] unknown directive "bogus_from_g" in command line$/m,
     'its error string says where, as nginx\'s -g');

$log = "$dir/out";
$pid = embed_start($log, "$dir/build/api", $run, 'error_log logs/from-g.log notice;');
like(embed_wait_output($log, qr/^serving$/m), qr/^serving$/m, 'the server runs on its own loop');
like(Test::Moongate::slurp($log), qr/^version 100 100 0\.1\.0 0\.1\.0$/m,
     'the version macros are what the library says it is');

my ($status, $head, $body) = embed_request($port, 'GET', '/args?a=1&b=%20x');
is($status, 200, '/args: 200');
is($body, "args=a=1&b=%20x own-server=yes\n",
   'the raw query string; moongate_request_server gives the server');
($status, $head, $body) = embed_request($port, 'GET', '/d/file.txt');
is($status, 200, 'a declining handler: 200');
is($body, "static file\n", 'the static file answers instead');
($status, $head, $body) = embed_request($port, 'GET', '/lua?v=1');
is($body, "lua 1\n", 'the configuration file was read (relative to the prefix)');

# Lua from the other thread: its notice goes to the logs, not to the warn-level callback
kill 'USR1', $pid;
my $text = embed_wait_output($log, qr/^lua /m);
like($text, qr/^lua 0 $/m, 'moongate_server_lua from another thread: 0');
like($text, qr/^LOG 5 .*\[warn\] .*warn from C/m, 'the callback heard the warn line');
unlike($text, qr/^LOG .*notice from C/m, 'and not the notice (below its level)');
like(embed_wait_output("$run/logs/from-g.log", qr/notice from C/), qr/\[notice\] .*notice from C/,
     'the -g error_log got the notice');

# a broken file: the verdict and the error with FILE:LINE; the server goes on
conf("bogus_in_file;");
kill 'HUP', $pid;
$text = embed_wait_output($log, qr/^reload /m);
like($text, qr/^reload -1 \[emerg\] unknown directive "bogus_in_file" in \Q$run\E\/conf\/api\.conf:3$/m,
     'a failed reload: -1 and the first error line');
($status, $head, $body) = embed_request($port, 'GET', '/lua?v=2');
is($body, "lua 2\n", 'the running configuration still serves');

conf("worker_processes 1;");
Test::Moongate::spew("$run/logs/from-g.log", '');
kill 'HUP', $pid;
$text = embed_wait_output($log, qr/^reload 0 $/m);
like($text, qr/^reload 0 $/m, 'a good reload: 0, no error');
like(embed_wait_output("$run/logs/from-g.log", qr/reconfiguring/), qr/\[notice\] .*reconfiguring/,
     'the -g directive applies to the new generation too');
($status, $head, $body) = embed_request($port, 'GET', '/args?after');
is($body, "args=after own-server=yes\n", 'the handler after the reload');

kill 'TERM', $pid;
is(embed_wait_exit($pid, 10), 0, 'a stop from the other thread: the program exits with 0');
like(Test::Moongate::slurp($log), qr/^stop asked\n(?:LOG .*\n)*run 0\ndestroyed\n\z/m,
     'moongate_server_run returned 0, then the server was destroyed');
ok(!defined((embed_request($port, 'GET', '/args'))[0]), 'nothing listens any more');

# the same program on libmoongate.a (moongate.pc's Requires.private name every library)
$log = "$dir/out-static";
$pid = embed_start($log, "$dir/build/api-static", $run, '');
like(embed_wait_output($log, qr/^serving$/m), qr/^serving$/m, 'linked with libmoongate.a, it serves');
unlike(Test::Moongate::slurp("/proc/$pid/maps"), qr/libmoongate\.so/, 'without the shared library');
($status, $head, $body) = embed_request($port, 'GET', '/args?static');
is($body, "args=static own-server=yes\n", 'its handler answers');
kill 'TERM', $pid;
is(embed_wait_exit($pid, 10), 0, 'and it stops');

done_testing();
