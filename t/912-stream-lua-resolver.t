# stream{} Lua and the stream `resolver` (issue 20): a cosocket's connect("name", port) asks
# the session's server{} resolver (a timer's: the stream{} level's), and balancer_by_lua's
# set_current_peer with a name waits for the same resolver before the stream proxy connects,
# as stream-lua-nginx-module does; names come from the test's DNS server
# (t/lib/Test/MoongateDNS.pm). moongate only: Debian has no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateDNS;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my $dns = dns_start('echo.test' => { a => ['127.0.0.1'] }, 'slow.test' => { drop => 1 });
my $echo = tcp_server(\&echo_serve);
my @p = map { Test::Moongate::find_free_port() } 1 .. 4;
my $s = Test::MoongateProc->new(name => 'stream_lua_resolver', workers => 1,
                                error_level => 'info', main => 'worker_shutdown_timeout 500ms;');
$s->write_conf(stream => <<"EOF");
    lua_shared_dict r 1m;
    resolver 127.0.0.1:$dns valid=30s;
    resolver_timeout 1s;
    init_worker_by_lua_block {
        ngx.timer.at(0, function()
            local c = ngx.socket.tcp()
            local ok, err = c:connect("echo.test", $echo)
            if not ok then ngx.shared.r:set("timer", "failed: " .. err) return end
            c:send("from the timer")
            ngx.shared.r:set("timer", c:receive(14))
            c:close()
        end)
    }

    # a cosocket to names: known, unknown, never answered
    server { listen 127.0.0.1:$p[0];
        content_by_lua_block {
            local c = ngx.socket.tcp()
            local ok, err = c:connect("echo.test", $echo)
            ngx.say("connect: ", ok, " ", err)
            if ok then
                c:send("ping")
                ngx.say("echo: ", c:receive(4))
                c:setkeepalive()
            end
            ok, err = ngx.socket.tcp():connect("nope.test", $echo)
            ngx.say("nope: ", ok, " ", err)
            ok, err = ngx.socket.tcp():connect("slow.test", $echo)
            ngx.say("slow: ", ok, " ", err)
            for i = 1, 50 do
                if ngx.shared.r:get("timer") then break end
                ngx.sleep(0.1)
            end
            ngx.say("timer: ", ngx.shared.r:get("timer"))
        }
    }

    # set_current_peer with "name", port and with "name:port"
    upstream by_name {
        server 0.0.0.1:1234;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local ok, err
            if ngx.var.server_port == "$p[1]" then
                ok, err = b.set_current_peer("echo.test", $echo)
            elseif ngx.var.server_port == "$p[3]" then
                ok, err = b.set_current_peer("slow.test", $echo)
            else
                ok, err = b.set_current_peer("nope.test:$echo")
            end
            if not ok then
                ngx.log(ngx.ERR, "set_current_peer: ", err)
                return ngx.exit(ngx.ERROR)
            end
        }
    }
    log_format up '\$server_port \$status "\$upstream_addr"';
    access_log ${\ $s->dir}/logs/stream.log up;
    server { listen 127.0.0.1:$p[1]; proxy_pass by_name; }
    server { listen 127.0.0.1:$p[2]; proxy_pass by_name; }
    # a name never answered: the balancer still waits when the worker shuts down
    server { listen 127.0.0.1:$p[3]; proxy_pass by_name; resolver_timeout 30s; }
EOF
$s->start or stop_here('the server did not start');

my $alog = $s->dir . '/logs/stream.log';
sub last_log_of {
    my $port = shift;
    my $line;
    wait_for(sub { ($line) = grep { /^$port / } (-f $alog ? split /\n/, slurp($alog) : ()); defined $line }, 10);
    return $line // '';
}

my $mark = $s->log_mark;
my ($got) = exchange($p[0], undef, timeout => 15);
is($got, "connect: 1 nil\necho: ping\n"
       . "nope: nil nope.test could not be resolved (3: Host not found)\n"
       . "slow: nil slow.test could not be resolved (110: Operation timed out)\n"
       . "timer: from the timer\n",
   'cosockets resolve through the server\'s resolver; a timer\'s through stream{}\'s');
ok(scalar(grep { /^echo\.test A$/i } dns_queries()), 'the DNS server was asked for echo.test');

is((exchange($p[1], "through a name", want => 14))[0], 'through a name',
   'balancer_by_lua: set_current_peer("echo.test", port) waits for the resolver, then proxies');
is(last_log_of($p[1]), qq{$p[1] 200 "127.0.0.1:$echo"}, 'access_log: the resolved peer');

is((exchange($p[2], "x"))[0], '', 'set_current_peer with an unknown name: closed');
is(last_log_of($p[2]), qq{$p[2] 500 "-"}, 'an unknown name: 500, no upstream');
ok($s->wait_log(qr/\[error\] .*set_current_peer: nope\.test could not be resolved \(3: Host not found\)/, $mark),
   'error_log: the resolver\'s message');
# the session ends while balancer_by_lua waits for the resolver (worker_shutdown_timeout)
{
    dns_queries_clear();
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p[3]", Timeout => 5) or die;
    # the reload once its balancer asked the resolver (a fixed 0.3 s let a loaded machine
    # reload first: the new worker then took the session, and the test saw nothing of it)
    ok(wait_for(sub { grep { /^slow\.test /i } dns_queries() }, 10), 'the balancer asks the resolver');
    $s->reload;
    my $sel = IO::Select->new($c);
    my $t0 = Time::HiRes::time();
    my $closed = $sel->can_read(10) && !sysread($c, my $b, 10);
    ok($closed, 'worker_shutdown_timeout closes the session that waited in balancer_by_lua');
    ok(Time::HiRes::time() - $t0 < 8, 'then, not after resolver_timeout');
}
unlike($s->log_since($mark), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');

$s->stop;
done_testing();
