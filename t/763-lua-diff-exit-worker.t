# exit_worker_by_lua's refusals, found differing from OpenResty's in a side-by-side run with
# Debian's nginx and its Lua module (0.10.23): ngx.timer.at, allowed where OpenResty has a
# fake request but not in exit_worker_by_lua, names the phase there; the functions of
# request data say "API disabled in the current context".
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/763-lua-diff-exit-worker.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;

my $s = Test::MoongateProc->new(name => 'lua-exit-worker-api', workers => 1);
my $main = is_nginx() ? join('', map { "load_module /usr/lib/nginx/modules/$_.so;\n" }
                                  qw(ndk_http_module ngx_http_lua_module)) : '';
$s->write_conf(main => $main, http => <<'EOF', server => <<'EOF2');
    exit_worker_by_lua_block {
        local function try(f)
            local ok, err = pcall(f)
            return tostring(ok) .. " " .. tostring(err):gsub("^.-:%d+: ", "")
        end
        ngx.log(ngx.WARN, "exit_worker timer: ", try(function() return ngx.timer.at(0, function() end) end))
        ngx.log(ngx.WARN, "exit_worker method: ", try(ngx.req.get_method))
        ngx.log(ngx.WARN, "exit_worker say: ", try(function() ngx.say("x") end))
    }
EOF
        location /t { return 200 "ok\n"; }
EOF2

my $m = $s->start;
ok($m, 'started') or stop_here();
my ($w1) = $s->wait_workers(1);
ok($w1, "worker $w1");
is(http_get($s->port, '/t')->{body}, "ok\n", 'serving');
my $mark = $s->log_mark;
$s->signal('HUP');
ok($s->wait_log(qr/exit_worker timer: false API disabled in the context of exit_worker_by_lua\*/, $mark, 5),
   'ngx.timer.at names exit_worker_by_lua');
ok($s->wait_log(qr/exit_worker method: false API disabled in the current context/, $mark, 5),
   'ngx.req.get_method: the fake request\'s words');
ok($s->wait_log(qr/exit_worker say: false API disabled in the context of exit_worker_by_lua\*/, $mark, 5),
   'ngx.say names exit_worker_by_lua');
ok(wait_gone(5, $w1), 'the old worker exited');
$s->stop;
done_testing();
