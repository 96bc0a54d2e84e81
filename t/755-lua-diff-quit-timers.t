# Pending Lua timers when the server gets QUIT, found differing from OpenResty's in a
# side-by-side run with Debian's nginx and its Lua module (0.10.23): a single process
# (master_process off, Test::Nginx's default) exits without running them, a worker under a
# master runs each once with premature = true. exit_worker_by_lua runs in both (its failure
# logged as "exit_worker_by_lua error:").
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/755-lua-diff-quit-timers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;

my $main = is_nginx() ? join('', map { "load_module /usr/lib/nginx/modules/$_.so;\n" }
                                  qw(ndk_http_module ngx_http_lua_module)) : '';
my $http = <<'EOF';
    init_worker_by_lua_block {
        ngx.timer.at(3600, function(premature)
            ngx.log(ngx.WARN, "hour timer ran: premature=", premature)
        end)
        ngx.timer.every(3600, function(premature)
            ngx.log(ngx.WARN, "every timer ran: premature=", premature)
        end)
    }
    exit_worker_by_lua_block {
        ngx.log(ngx.WARN, "exit_worker ran")
        error("exit hook failed")
    }
EOF

# the same server with a master and one worker, or as a single process
sub quit_log {
    my ($name, $master) = @_;
    my $s = Test::MoongateProc->new(name => $name, workers => 1);
    my $text = $s->conf_text(main => $main, http => $http,
                             server => "        location /t { return 200 \"ok\\n\"; }\n");
    $text =~ s/^master_process on;$/master_process off;/m or die 'no master_process line'
        unless $master;
    $s->write_conf(text => $text);
    my $pid = $s->start(workers => $master ? 1 : 0);
    ok($pid, "$name: started") or return '';
    my @procs = ($pid, $master ? $s->worker_pids($pid) : ());
    is(http_get($s->port, '/t')->{body}, "ok\n", "$name: serving");
    my $mark = $s->log_mark;
    $s->signal('QUIT');
    ok(wait_gone(10, @procs), "$name: gone after QUIT") or $s->stop;
    return $s->log_since($mark);
}

my $log = quit_log('lua-quit-timers-single', 0);
like($log, qr/exit_worker ran/, 'single process: exit_worker_by_lua ran');
like($log, qr/\[error\] .*: exit_worker_by_lua error: exit_worker_by_lua\(\w+\.conf:\d+\):3: exit hook failed\n/,
     'its error: "exit_worker_by_lua error:"');
unlike($log, qr/timer ran/, 'single process: no pending timer ran, premature or not');

$log = quit_log('lua-quit-timers-master', 1);
like($log, qr/hour timer ran: premature=true/, 'worker: the pending timer ran with premature=true');
like($log, qr/every timer ran: premature=true/, 'worker: the every timer too');
like($log, qr/exit_worker ran/, 'worker: exit_worker_by_lua ran');
done_testing();
