# Timers and reload with a real master: pending timers of the old workers fire at once with
# premature = true when a HUP drains them (an hour-long timer does not keep a worker alive),
# ngx.timer.every stops re-arming, a timer that is running (sleeping) finishes before its
# worker exits, ngx.worker.exiting() is true in premature callbacks, new workers start their
# own timers, and exit_worker_by_lua runs last.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/415-lua-timer-reload.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;

my $s = Test::MoongateProc->new(name => 'lua-timer-reload', workers => 1);
my $main = is_nginx() ? join('', map { "load_module /usr/lib/nginx/modules/$_.so;\n" }
                                  qw(ndk_http_module ngx_http_lua_module)) : '';
$s->write_conf(main => $main, http => <<'EOF', server => <<'EOF2');
    init_worker_by_lua_block {
        local pid = ngx.worker.pid()
        ngx.timer.at(3600, function(premature)
            ngx.log(ngx.WARN, "hour timer of ", pid, ": premature=", premature,
                    " exiting=", ngx.worker.exiting())
        end)
        ngx.timer.every(0.05, function(premature)
            if premature then ngx.log(ngx.WARN, "every timer of ", pid, " premature") end
        end)
    }
    exit_worker_by_lua_block {
        ngx.log(ngx.WARN, "exit_worker of ", ngx.worker.pid())
    }
EOF
        location /long {
            content_by_lua_block {
                ngx.timer.at(0, function()
                    ngx.sleep(0.5)
                    ngx.log(ngx.WARN, "long timer of ", ngx.worker.pid(), " finished")
                end)
                ngx.say(ngx.worker.pid())
            }
        }
EOF2

my $m = $s->start;
ok($m, 'started') or stop_here();
my ($w1) = $s->wait_workers(1);
ok($w1, "worker $w1");
my $r = http_get($s->port, '/long');
is($r->{body}, "$w1\n", 'a timer that sleeps 0.5 s is running in the worker');

my $mark = $s->log_mark;
$s->signal('HUP');
ok($s->wait_log(qr/\[warn\] $w1#\d+: .*hour timer of $w1: premature=true exiting=true/, $mark, 5),
   'the pending hour timer fired at once with premature=true, ngx.worker.exiting() true');
ok($s->wait_log(qr/\[warn\] $w1#\d+: .*every timer of $w1 premature/, $mark, 5),
   'the every timer fired prematurely');
ok($s->wait_log(qr/long timer of $w1 finished/, $mark, 5), 'the running timer finished its sleep');
ok(wait_gone(5, $w1), 'then the old worker exited');
my $log = $s->log_since($mark);
my ($fin) = $log =~ /^(.*long timer of $w1 finished.*)$/m;
my ($exit) = $log =~ /^(.*exit_worker of $w1.*)$/m;
ok($exit, 'exit_worker_by_lua ran');
ok(index($log, $fin) < index($log, $exit), 'after the running timer finished') if $fin && $exit;
my @every = $log =~ /every timer of $w1 premature/g;
is(scalar @every, 1, 'the every timer stopped re-arming');

my ($w2) = $s->wait_workers(1);
ok($w2 && $w2 != $w1, "a new worker $w2");
is(http_get($s->port, '/long')->{body}, "$w2\n", 'serving');

$mark = $s->log_mark;
$s->signal('QUIT');
ok($s->wait_log(qr/hour timer of $w2: premature=true/, $mark, 5), 'QUIT also fires pending timers prematurely');
ok(wait_gone(5, $m), 'and the server exits');
$s->stop;
done_testing();
