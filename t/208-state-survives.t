# State that survives (issue 14, item 2): shared memory zones are memfds that a USR2 hands to the
# new binary, which maps them where the old one had them, so lua_shared_dict contents, limit_req
# state and limit_conn counts outlive the binary (an upgrade whose configuration resizes a dict
# copies its entries too); a zone whose header names a layout the new binary cannot
# read refuses the upgrade (a clear [emerg], the new binary exits, the old master keeps serving
# with its data); a HUP that changes a lua_shared_dict's size copies the entries into the new
# zone (nginx refuses that reload).  Real processes and signals; waits on pid files and log lines.
#
# moongate only: nginx 1.22 starts every zone empty after USR2 and refuses a size change.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use IO::Socket::INET;

if (is_nginx) {
    Test::More::plan(skip_all => 'zones across USR2 and resizing HUPs: moongate only');
}

my $N = proc_name;

sub conf_parts {
    my ($size, $lim) = @_;
    $lim //= '1m';
    return (
        http => "    lua_shared_dict d $size;\n"
              . "    limit_req_zone \$binary_remote_addr zone=one:$lim rate=1r/m;\n"
              . "    limit_conn_zone \$binary_remote_addr zone=c:1m;\n",
        server => q{
        location /set { content_by_lua_block {
            local d = ngx.shared.d
            for i = 1, tonumber(ngx.var.arg_n) do
                assert(d:set("k" .. i, "v" .. i .. string.rep("x", 100)))
            end
            d:set("num", 42.5)
            d:set("flag", true, 0, 7)
            d:lpush("list", "a") d:lpush("list", "b")
            ngx.say("ok")
        } }
        location /get { content_by_lua_block {
            local d = ngx.shared.d
            local n, missing = tonumber(ngx.var.arg_n), 0
            for i = 1, n do
                if d:get("k" .. i) ~= "v" .. i .. string.rep("x", 100) then missing = missing + 1 end
            end
            local f, flags = d:get("flag")
            ngx.say("missing=", missing, " num=", d:get("num"), " flag=", tostring(f), "/", flags,
                    " list=", d:llen("list"), " cap=", d:capacity(), " pid=", ngx.worker.pid())
        } }
        location = /lim.txt { limit_req zone=one; }
        location = /held { limit_conn c 1; content_by_lua_block { ngx.sleep(30) ngx.say("done") } }
        });
}

my $s = Test::MoongateProc->new(name => 'state', workers => 2, error_level => 'notice');
$s->write_conf(conf_parts('1m'));
$s->use_binary_copy;
spew($s->html . '/lim.txt', "lim\n");
chmod 0644, $s->html . '/lim.txt';
my $m0 = $s->start;
ok($m0, 'started') or stop_here();

sub get { my $r = http_get($s->port, $_[0], timeout => 5); ($r->{status} // 0) . ' ' . ($r->{body} // '') }

is(get('/set?n=500'), "200 ok\n", 'filled the dict: 500 keys, a number, a flagged boolean, a list');
like(get('/get?n=500'), qr/^200 missing=0 num=42.5 flag=true\/7 list=2 cap=1048576 /, 'all there');
is(get('/lim.txt'), "200 lim\n", 'limit_req: the first request passes');
like(get('/lim.txt'), qr/^503 /, 'limit_req: the second within the minute is refused');

# USR2 and the whole dance: the new binary's workers see the same dict and the same limit state
my $mark = $s->log_mark;
my $m1 = $s->upgrade(2);
ok($m1, 'USR2, WINCH-less QUIT of the old master: the new binary serves') or stop_here();
like(get('/get?n=500'), qr/^200 missing=0 num=42.5 flag=true\/7 list=2 cap=1048576 /,
     'after the upgrade: every entry, flags and list survived');
like(get('/lim.txt'), qr/^503 /, 'after the upgrade: limit_req still remembers the client');
unlike($s->log_since($mark), qr/\[(emerg|alert|crit)\]/, 'no error logged');

# a HUP that grows the dict: the entries are copied into the new zone
$mark = $s->log_mark;
$s->write_conf(conf_parts('2m'));
my ($code, $out, $err) = $s->reload;
is($code, 0, 'reload with lua_shared_dict d 2m accepted') or diag("$out$err");
like(get('/get?n=500'), qr/^200 missing=0 num=42.5 flag=true\/7 list=2 cap=2097152 /,
     'the grown dict (2m) holds every entry');
like($s->log_since($mark), qr/\[notice\] $m1#\d+: lua_shared_dict "d": 503 entries copied into the zone of the new size$/m,
     'logged: the entries copied');

# and one that shrinks it below what it holds: what fits is copied, the most recent first
$s->write_conf(conf_parts('32k'));
($code, $out, $err) = $s->reload;
is($code, 0, 'reload with lua_shared_dict d 32k accepted') or diag("$out$err");
my $r = get('/get?n=500');
like($r, qr/^200 missing=(\d+) num=42.5 flag=true\/7 list=\d cap=32768 /,
     'the shrunk dict keeps the most recently used entries (the list, used least, may go)');
my ($missing) = $r =~ /missing=(\d+)/;
cmp_ok($missing // 500, '<', 500, 'some of the 500 keys fit');
cmp_ok($missing // 0, '>', 0, 'not all of them');

# an upgrade whose configuration resizes the dict: the new binary copies the old binary's entries
is(get('/set?n=20'), "200 ok\n", 'twenty fresh entries in the 32k dict');
$s->write_conf(conf_parts('1m'));
$mark = $s->log_mark;
my $m2 = $s->upgrade(2);
ok($m2, 'USR2 with lua_shared_dict d 1m: the new binary serves') or stop_here();
like(get('/get?n=20'), qr/^200 missing=0 num=42.5 flag=true\/7 list=\d cap=1048576 /,
     'the new binary\'s 1m dict holds the entries of the old binary\'s 32k one');
like($s->log_since($mark), qr/\[notice\] $m2#\d+: lua_shared_dict "d": \d+ entries copied into the zone of the new size$/m,
     'logged by the new master: the entries copied');

# a zone whose header says a layout this binary does not know: the upgrade is refused
is(get('/set?n=100'), "200 ok\n", 'filled again');
my $m = $s->pid;
my ($fd) = grep { (readlink("/proc/$m/fd/$_") // '') =~ m{^/memfd:moongate:d \(deleted\)$} }
           map { m{/(\d+)$} ? $1 : () } glob("/proc/$m/fd/*");
ok($fd, "the master holds the zone's memfd (fd $fd)");
open my $z, '+<', "/proc/$m/fd/$fd" or die "open memfd: $!";
sysseek($z, 8, 0);
sysread($z, my $layout, 4) == 4 or die "read: $!";
sysseek($z, 8, 0);
syswrite($z, pack('L', 999), 4) == 4 or die "write: $!";    # the layout field
$mark = $s->log_mark;
$s->signal('USR2', $m);
ok($s->wait_log(qr/\[emerg\] \d+#\d+: shared memory zone "d" from the old binary has layout 999, this binary reads layout \d+ only, upgrade refused in \S+:\d+$/m, $mark, 10),
   'the new binary refuses: [emerg] shared memory zone "d" ... has layout 999 ... upgrade refused');
ok($s->wait_log(qr/\[notice\] $m#\d+: new binary process \d+ exited with code 1$/m, $mark, 10),
   'the new binary exited with code 1');
ok(wait_for(sub { !-e $s->oldbin_file && ($s->pid // 0) == $m }, 5),
   "rolled back: $N.pid names the old master again");
like(get('/get?n=100'), qr/^200 missing=0 num=42.5 /, 'the old master serves, its data intact');
is(scalar($s->wait_workers(2, master => $m)), 2, 'its two workers still run');
sysseek($z, 8, 0);
syswrite($z, $layout, 4) == 4 or die "write: $!";    # readable again
close $z;

# limit_conn: a request in flight in the old binary's worker still counts in the new binary's
my $held = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, Timeout => 5);
print $held "GET /held HTTP/1.1\r\nHost: localhost\r\n\r\n";
ok(wait_for(sub { get('/held') =~ /^503 / }, 10), 'limit_conn: a second /held beside one in flight is refused');
my $old = $s->pid;
my $new = $s->usr2($old, 10);
ok($new && $s->wait_workers(2, master => $new), 'limit_conn: USR2, the new binary serves');
# the old workers, read before QUIT (an idle one may be gone right after it: the check below
# would then cover only the one that holds the request)
my @ow = $s->worker_pids($old);
is(scalar @ow, 2, 'limit_conn: the old binary runs its two workers');
$mark = $s->log_mark;
$s->signal('QUIT', $old);
ok($s->wait_log(qr/\[notice\] (?:@{[join '|', @ow]})#\d+: gracefully shutting down$/m, $mark, 10)
   && wait_for(sub { my $l = $s->log_since($mark); !grep { $l !~ /\[notice\] $_#\d+: gracefully shutting down$/m } @ow }, 10),
   'limit_conn: the old workers stopped accepting (one still serves the held request)');
like(get('/held'), qr/^503 /, 'limit_conn: the new binary\'s worker counts the old one\'s connection');
close $held;

# a HUP that resizes the limit_req zone: the client's state is copied into the new zone
# (nginx starts the resized zone empty: the client would pass again)
wait_for(sub { get('/lim.txt') =~ /^503 / }, 5);
like(get('/lim.txt'), qr/^503 /, 'limit_req: the client is refused before the resize');
$mark = $s->log_mark;
$s->write_conf(conf_parts('1m', '2m'));
($code, $out, $err) = $s->reload;
is($code, 0, 'reload with limit_req_zone one:2m accepted') or diag("$out$err");
like($s->log_since($mark), qr/\[notice\] \d+#\d+: limit_req zone "one": 1 entries copied into the zone of the new size$/m,
     'logged: the limit_req entry copied');
like(get('/lim.txt'), qr/^503 /, 'limit_req: after the resize the client is still refused');
unlike($s->log_since($mark), qr/\[(emerg|alert|crit)\]/, 'no error logged');

ok($s->stop, 'stopped');
Test::More::done_testing();
