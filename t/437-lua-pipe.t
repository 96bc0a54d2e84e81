# require "ngx.pipe": spawn (argv table or a shell string, opts), reads of stdout and stderr
# (line, all, bytes, any), write, shutdown, wait, pid, kill, set_timeouts, merge_stderr,
# environ; a missing program is nil, err; the worker serves others while a read waits.
# Debian's nginx has no ngx.pipe (lua-nginx-module needs OpenResty's nginx patches for it):
# every block is moongate_only.
#
#   prove -I t/lib t/437-lua-pipe.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: spawn an argv table: its line, then EOF; wait gives the exit status
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            local proc = assert(pipe.spawn({"echo", "hello", "world"}))
            ngx.say("pid ", type(proc:pid()), " ", proc:pid() > 0)
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:wait())
            ngx.say(proc:wait())
        }
    }
--- request
GET /t
--- response_body
pid number true
hello world
nilclosed
trueexit0
nilexited
--- no_error_log
[error]
--- moongate_only



=== TEST 2: a shell string: stdout and stderr apart, a non-zero exit
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            local proc = assert(pipe.spawn("echo out; echo err >&2; exit 3"))
            ngx.say("stdout: ", proc:stdout_read_all())
            ngx.say("stderr: ", proc:stderr_read_all())
            ngx.say(proc:wait())
        }
    }
--- request
GET /t
--- response_body
stdout: out

stderr: err

falseexit3
--- moongate_only



=== TEST 3: write to stdin, shutdown, read what came back
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            local proc = assert(pipe.spawn({"cat"}))
            ngx.say("wrote ", proc:write({"a\n", "b"}))
            ngx.say("wrote ", proc:write(42))
            ngx.say(proc:shutdown("stdin"))
            ngx.say(proc:shutdown("stdin"))
            ngx.say(proc:write("x"))
            ngx.say("[", proc:stdout_read_all(), "]")
            ngx.say(proc:wait())
        }
    }
--- request
GET /t
--- response_body
wrote 3
wrote 2
true
nilclosed
nilclosed
[a
b42]
trueexit0
--- moongate_only



=== TEST 4: a missing program: nil and the exec's error
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            ngx.say(pipe.spawn({"/nonexistent/program"}))
            ngx.say(pipe.spawn({"nonexistent-program-xyz"}, { environ = { "A=1" } }))
        }
    }
--- request
GET /t
--- response_body
nilexecvp failed: No such file or directory
nilexecvpe failed: No such file or directory
--- moongate_only



=== TEST 5: a read timeout, kill, and the signal in wait's answer
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            local proc = assert(pipe.spawn({"sleep", "30"}))
            proc:set_timeouts(nil, 100)
            ngx.say(proc:stdout_read_line())
            ngx.say(proc:kill(9))
            ngx.say(proc:wait())
            ngx.say(proc:kill(9))
        }
    }
--- request
GET /t
--- response_body
niltimeout
true
falsesignal9
nilexited
--- moongate_only



=== TEST 6: the worker is not blocked: a light thread's read waits while the entry thread runs
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            -- the child answers once told to (not after a while: a loaded machine could let
            -- the answer come before the entry thread's sleep ends)
            local proc = assert(pipe.spawn("read x; echo done"))
            local t = ngx.thread.spawn(function()
                ngx.say("read: ", proc:stdout_read_line())
            end)
            ngx.sleep(0.05)
            ngx.say("entry thread runs")
            assert(proc:write("go\n"))
            ngx.thread.wait(t)
            ngx.say(proc:wait())
        }
    }
--- request
GET /t
--- response_body
entry thread runs
read: done
trueexit0
--- moongate_only



=== TEST 7: read_bytes and read_any; merge_stderr; environ
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            local proc = assert(pipe.spawn("printf abcdef; echo E >&2",
                                           { merge_stderr = true }))
            ngx.say(proc:stdout_read_bytes(4))
            ngx.say(proc:stdout_read_any(100))
            ngx.say(proc:stderr_read_all())
            ngx.say(proc:stdout_read_bytes(10))
            proc:wait()
            proc = assert(pipe.spawn({"sh", "-c", "echo $GREETING"},
                                     { environ = { "GREETING=hi there" } }))
            ngx.say(proc:stdout_read_line())
        }
    }
--- request
GET /t
--- response_body_like chomp
\Aabcd
ef(E\n)?
nilmerged to stdout
(nilclosed|nilclosedE\n?)
hi there
\z
--- moongate_only



=== TEST 8: argument errors, and no waiting where code cannot yield
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            local proc = assert(pipe.spawn({"true"}))
            ngx.ctx.proc = proc
            ngx.say(select(2, pcall(pipe.spawn, {})))
            ngx.say(select(2, pcall(pipe.spawn, 1)))
            ngx.say(select(2, pcall(pipe.spawn, {"true"}, { environ = { "NOEQUALS" } })))
            ngx.say(select(2, pcall(proc.shutdown, proc, "stdfoo")))
            ngx.say(select(2, pcall(proc.wait, {})))
        }
        header_filter_by_lua_block {
            ngx.ctx.err = select(2, pcall(ngx.ctx.proc.wait, ngx.ctx.proc))
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "header_filter: ", ngx.ctx.err)
        }
    }
--- request
GET /t
--- response_body_like chomp
\A.*bad args arg: non-empty table expected
.*bad args arg: table expected, got number
.*bad value at index 1 of environ option: 'name=\[value\]' format expected, got 'NOEQUALS'
.*bad shutdown arg: stdfoo
.*not a process instance
\z
--- error_log
header_filter: API disabled in the context of header_filter_by_lua*
--- moongate_only



=== TEST 9: a worker that exits kills the processes it still holds and frees their watchers while its event loop exists
--- config
    location /t {
        content_by_lua_block {
            local pipe = require "ngx.pipe"
            -- one kept by a global (alive at the exit), one left to the collector
            _G.kept = assert(pipe.spawn({"sleep", "60"}))
            local dropped = assert(pipe.spawn({"sleep", "61"}))
            local f = assert(io.open(ngx.config.prefix():gsub("/*$", "") .. "/t437.pids", "w"))
            f:write(_G.kept:pid(), " ", dropped:pid(), "\n")
            f:close()
            dropped = nil
            ngx.say("spawned")
        }
    }
--- request
GET /t
--- response_body
spawned
--- moongate_only



=== TEST 10: (after TEST 9's server stopped) both of its processes were killed
--- init
my $file = "$Test::Moongate::ServRoot/t437.pids"; # the servroot outlives a block, html/ does not
my $read = sub { open(my $fh, '<', $_[0]) or return undef; local $/; return <$fh> };
my @pids = split ' ', ($read->($file) // '');
Test::More::is(scalar @pids, 2, "TEST 9 wrote two pids");
# killed and reaped, or left a zombie for init: either way no longer a running sleep
my $alive = sub { my $st = $read->("/proc/$_[0]/stat") // return 0; $st !~ /^\d+ \(\S+\) Z/ };
for my $pid (@pids) {
    my $deadline = time + 10;
    select(undef, undef, undef, 0.1) while $alive->($pid) && time < $deadline;
    Test::More::ok(!$alive->($pid), "process $pid ended with the worker");
}
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- moongate_only
