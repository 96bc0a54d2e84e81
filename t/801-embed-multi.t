# Two servers in one process (t/embed/multi.c, built against the installed library): A runs
# on the program's own event_base, B on a thread of its own. Each has its own configuration,
# handler data, Lua VM and reload; handlers finish later from a timer of the program and from
# another thread; a body is read; a broken reload returns its error and keeps A serving; TERM
# stops both (A gracefully, B at once: a request it holds is cut). A lua_shared_dict of one name is
# a zone of each server. Its thread VMs (ngx.run_worker_thread) are its own; what its log has is its own: lua_capture_error_log's ring, and the rule
# that copies errors to stderr (B has a log callback: none; A has none: copies).
use strict;
use warnings;
use Test::More;
use Test::Moongate ();
use Test::MoongateEmbed;
use IO::Socket::INET;

plan skip_all => 'the embedding API is moongate\'s' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $dir = "$Test::Moongate::ServRoot/embed-multi";
my $prefix = embed_install($dir);
my ($code, $out) = embed_build($prefix, "$root/t/embed", "$dir/build");
is($code, 0, 'the test program builds with pkg-config') or diag($out);

my $run = "$dir/run";
mkdir $run;
mkdir "$run/logs";
mkdir "$run/html";
Test::Moongate::spew("$run/html/a.txt", "static text\n" x 1000);
for my $s ('A', 'B') {
    mkdir "$run/lua$s";
    Test::Moongate::spew("$run/lua$s/whoami.lua", "return { name = function() return '$s' end }\n");
}
my ($pa, $pb) = (Test::Moongate::find_free_port(), Test::Moongate::find_free_port());
$pb = Test::Moongate::find_free_port() while $pb == $pa;
my $log = "$dir/out";
my $pid = embed_start($log, "$dir/build/multi", $pa, $pb, $run);
my $text = embed_wait_output($log, qr/ready|failed/);
like($text, qr/^lua error: moongate_server_lua:1: boom$/m,
     'moongate_server_lua returns the error of a failing chunk');
like($text, qr/^ready 100$/m, 'both servers serve (version number 100)');

my ($status, $head, $body) = embed_request($pa, 'GET', '/who/x?q=1',
                                           headers => { 'X-Test' => 'hi' });
is($status, 201, 'A: the handler\'s status');
like($head, qr/^X-Server: A\r?$/m, 'A: the handler\'s header');
is($body, "A GET /who/x x-test=hi q=yes\n", 'A: method, URI, header and argument');
($status, $head, $body) = embed_request($pb, 'GET', '/who');
is($status, 202, 'B: its own handler data');
is($body, "B GET /who x-test= q=no\n", 'B: absent header and argument');

($status, $head, $body) = embed_request($pa, 'GET', '/timer');
is($body, "wait\ntick\n", 'A: streamed output, finished from a timer of the program\'s base');
($status, $head, $body) = embed_request($pb, 'GET', '/thread');
is($body, "from another thread\n", 'B: finished through moongate_server_post');
($status, $head, $body) = embed_request($pa, 'GET', '/thread');
is($body, "from another thread\n", 'A: the same from the attached server');

my $big = join '', map { chr(32 + $_ % 90) } 1 .. 20000;
($status, $head, $body) = embed_request($pb, 'POST', '/echo', body => $big);
is($body, "got:$big", 'B: a body spooled to a file is read back');
($status, $head, $body) = embed_request($pa, 'POST', '/echo', body => 'abc');
is($body, 'got:abc', 'A: a body in memory');
($status, $head, $body) = embed_request($pa, 'GET', '/teapot');
is($status, 418, 'a handler returning a status, named as a directive of its own');

($status, $head, $body) = embed_request($pa, 'GET', '/filtered/x');
is($status, 201, 'filtered: the handler\'s status');
like($head, qr/^X-Seen: 201 A\r?$/m, 'the header filter saw the status and a header');
is($body, "A GET /FILTERED/X X-TEST= Q=NO\n(END)\n", 'the body filter rewrote the body');
($status, $head, $body) = embed_request($pa, 'GET', '/static/a.txt');
like($head, qr/^X-Seen: 200 -\r?$/m, 'a static file through the filter');
unlike($head, qr/^Content-Length:/mi, 'without its length');
is($body, ("STATIC TEXT\n" x 1000) . "(END)\n", 'its bytes rewritten');
($status, $head, $body) = embed_request($pb, 'GET', '/static/a.txt');
is($body, "static text\n" x 1000, '"filter off": the file as it is');

($status, $head, $body) = embed_request($pa, 'GET', '/lua');
is($body, "set from C\n", 'A: moongate_server_lua ran in A\'s VM');
($status, $head, $body) = embed_request($pb, 'GET', '/lua');
is($body, "unset\n", 'B: its VM is another one');

# each server's thread VMs (ngx.run_worker_thread) load its own modules
($status, $head, $body) = embed_request($pa, 'GET', '/vm');
is($body, "A\n", 'A\'s thread VM runs A\'s module');
($status, $head, $body) = embed_request($pb, 'GET', '/vm');
is($body, "B\n", 'B\'s is another VM: B\'s module, not the one A\'s call loaded');

# each server's shared dictionary of the same name is its own zone
($status, $head, $body) = embed_request($pa, 'GET', '/dict?set=A');
is($body, "A\n", 'A sets its lua_shared_dict');
($status, $head, $body) = embed_request($pb, 'GET', '/dict');
is($body, "empty\n", 'B\'s dictionary of that name is another zone');
embed_request($pb, 'GET', '/dict?set=B');
($status, $head, $body) = embed_request($pa, 'GET', '/dict');
is($body, "A\n", 'B\'s write leaves A\'s');

# each server's ring holds its own error log lines
embed_request($pa, 'GET', '/note');
embed_request($pb, 'GET', '/note');
($status, $head, $body) = embed_request($pb, 'GET', '/errlog');
is($body, "B\n", 'B\'s captured error log has only its own line');
($status, $head, $body) = embed_request($pa, 'GET', '/errlog');
is($body, "A\n", 'A\'s only its own');

# each server counts its own connections and requests (stub_status)
sub accepts { my (undef, undef, $b) = embed_request($_[0], 'GET', '/status'); $b =~ /^ (\d+) \d+ (\d+) $/m ? "$1 $2" : $b }
my ($b1, $r1) = split / /, accepts($pb);
embed_request($pa, 'GET', '/who') for 1 .. 3;
my ($b2, $r2) = split / /, accepts($pb);
is($b2 - $b1, 1, 'B counts only its own connections (stub_status accepts)');
is($r2 - $r1, 1, 'and only its own requests');
my ($a1) = split / /, accepts($pa);
ok($a1 >= 12, "A counts its own ($a1 connections)");

kill 'HUP', $pid;
$text = embed_wait_output($log, qr/reload B/);
like($text, qr/^reload A args: -1 \[emerg\] handler "teapot" takes no arguments and ends with ";" in \S+:1$/m,
     'a handler named as a directive takes no arguments');
like($text, qr/^reload A server: -1 \[emerg\] unknown directive "teapot" in \S+:1$/m,
     'a handler\'s name is a directive in locations only');
like($text, qr/^reload A: -1 \[emerg\] unknown directive "bogus" in \S+:1$/m,
     'a broken reload returns -1 and the error line');
like($text, qr/^reload B: 0 $/m, 'B reloads from its thread\'s loop, called from another thread');
($status, $head, $body) = embed_request($pa, 'GET', '/who');
is($body, "A GET /who x-test= q=no\n", 'A still serves its configuration');
($status, $head, $body) = embed_request($pb, 'GET', '/who');
is($body, "B GET /who x-test= q=no\n", 'B serves its new generation');

# a request B holds for a minute: B's stop is the fast one, so it does not wait for it
my $hang = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $pb, Proto => 'tcp',
                                 Timeout => 5) or die "connect: $!";
print $hang "GET /hang HTTP/1.0\r\nHost: localhost\r\n\r\n";
embed_wait_output("$run/logs/B.log", qr/lua sleep|GET \/hang/, 2);
select(undef, undef, undef, 0.3);
kill 'TERM', $pid;
is(embed_wait_exit($pid, 10), 0, 'TERM: A stops gracefully, B at once; the program exits with 0');
{
    local $/;
    my $got = <$hang>;
    is($got // '', '', 'the request B held was cut by the fast stop, unanswered');
}
like(Test::Moongate::slurp($log), qr/^stopped 0$/m, 'the threaded server returned 0');
my $printed = Test::Moongate::slurp($log);
like($printed, qr/^moongate: \[error\] .*note from A/m, 'A (no log callback): its error copied to stderr');
unlike($printed, qr/^moongate: .*note from B/m, 'B (a log callback): no copy on stderr');
like($printed, qr/^B log: .*\[error\] .*note from B/m, 'B\'s callback heard its line');
unlike($printed, qr/^B log: .*note from A/m, 'and not A\'s');
unlike(Test::Moongate::slurp("$run/logs/A.log") . Test::Moongate::slurp("$run/logs/B.log"),
       qr/\[(alert|crit)\]/, 'no alert in either error log (the emerg is the broken reload)');

done_testing();
