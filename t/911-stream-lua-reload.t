# stream{} Lua across reloads (issue 20): a session served by content_by_lua keeps its old
# worker and VM through a HUP and runs to its end, new sessions get the new code; a session
# whose Lua code waits is closed by worker_shutdown_timeout and the old worker exits cleanly.
# moongate only: Debian has no stream Lua module (libnginx-mod-stream-lua does not exist).
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

# read a line (timeout 5 s): the line, or undef at EOF or timeout
sub read_line {
    my $c = shift;
    my $sel = IO::Select->new($c);
    my $line = '';
    my $end = Time::HiRes::time() + 5;
    while ($line !~ /\n/) {
        my $left = $end - Time::HiRes::time();
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($c, my $ch, 1);
        return undef unless $n;
        $line .= $ch;
    }
    return $line;
}

sub conf_for {
    my ($tag, $port) = @_;
    return <<"EOF";
    server { listen 127.0.0.1:$port;
        content_by_lua_block {
            local sock = ngx.req.socket(true)
            ngx.say("$tag ", ngx.worker.pid())
            while true do
                local line, err = sock:receive()
                if not line then return end
                if line == "wait" then ngx.sleep(3600) end
                sock:send("$tag " .. line .. "\\n")
            end
        }
        log_by_lua_block { ngx.log(ngx.NOTICE, "session of $tag ends: ", ngx.var.status) }
    }
EOF
}

my $port = Test::Moongate::find_free_port();
my $s = Test::MoongateProc->new(name => 'stream_lua_reload', workers => 1,
                                main => 'worker_shutdown_timeout 1s;', error_level => 'notice');
$s->write_conf(stream => conf_for('v1', $port));
$s->start or stop_here('the server did not start');

my $a = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or die "connect: $!";
my ($tag, $old_pid) = split ' ', (read_line($a) // '');
is($tag, 'v1', 'a session of the first configuration');

$s->write_conf(stream => conf_for('v2', $port));
my ($code) = $s->reload;
is($code, 0, 'reload to new Lua code');
my $b = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or die "connect: $!";
my ($tag_b, $new_pid) = split ' ', (read_line($b) // '');
is($tag_b, 'v2', 'a new session runs the new code');
isnt($new_pid, $old_pid, '... in a new worker');

syswrite($a, "still\n");
is(read_line($a), "v1 still\n", 'the old session goes on in its old worker and VM after the reload');
ok(Test::MoongateProc::proc_alive($old_pid), 'the old worker waits for its session');
close $a;
ok(Test::MoongateProc::wait_gone(5, $old_pid), 'the old worker exits once its session ended');
ok($s->wait_log(qr/\[notice\] .*\[lua\] log_by_lua\(\w+\.conf:\d+\):\d+: session of v1 ends: 200/),
   'log_by_lua ran for the old session');

# a session whose code sleeps: worker_shutdown_timeout closes it
syswrite($b, "wait\n");
my $mark = $s->log_mark;
my $t0 = Time::HiRes::time();
($code) = $s->reload;
is($code, 0, 'another reload');
ok(Test::MoongateProc::wait_gone(8, $new_pid), 'the worker whose Lua code sleeps exits');
my $took = Time::HiRes::time() - $t0;
ok($took >= 0.8 && $took < 7, "... after worker_shutdown_timeout (${\ sprintf '%.2f', $took} s)");
my $sel = IO::Select->new($b);
ok($sel->can_read(5) && !sysread($b, my $x, 10), 'its client sees the connection closed');
unlike($s->log_since($mark), qr/exited on signal|exited with code [1-9]/, 'no worker crashed');

$s->stop;
done_testing();
