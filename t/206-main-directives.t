# Main-context directives of the workers (issue 12): env (a worker's environment is emptied
# but for TZ and the names listed, NAME=value set; Lua's os.getenv sees that, the master keeps
# its own: init_by_lua, run there, still sees everything, also after a reload),
# worker_priority (the workers' nice value in /proc/PID/stat, the master's untouched),
# worker_rlimit_core (RLIMIT_CORE in /proc/PID/limits), and timer_resolution (the cached clock
# moves only at that interval: $msec of two requests a second apart is the same, and
# ngx.update_time() still refreshes it), debug_points (taken; a worker leaking nothing exits as
# usual), worker_connections against the listening sockets, events { use }, debug_connection
# (its debug lines with a --with-debug build, nginx's warning without).  The -t verdicts
# of each are at the end.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/206-main-directives.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Time::HiRes ();

plan 'no_plan';

my $lua = is_nginx() ? join('', map { "load_module /usr/lib/nginx/modules/$_.so;\n" }
                                 qw(ndk_http_module ngx_http_lua_module)) : '';

# the nice value (field 19) of /proc/PID/stat, and the "Max core file size" limits
sub nice_of { my @f = split ' ', (slurp("/proc/$_[0]/stat") =~ /\) (.*)/)[0]; $f[16] }
sub core_limit_of { (slurp("/proc/$_[0]/limits") =~ /^Max core file size\s+(\S+)\s+(\S+)/m)[0, 1] }

local $ENV{MG_TEST_KEPT} = 'kept';
local $ENV{MG_TEST_DROPPED} = 'dropped';
local $ENV{TZ} = 'UTC';

my $s = Test::MoongateProc->new(name => 'main', workers => 1,
    main => "$lua env MG_TEST_KEPT;\nenv MG_TEST_SET=set;\nworker_priority 7;\n"
          . "worker_rlimit_core 1m;\ntimer_resolution 60s;\ndebug_points abort;\n",
    http => 'init_by_lua_block { master_sees = os.getenv("MG_TEST_DROPPED") }',
    server => <<'EOC');
        location /env {
            content_by_lua_block {
                ngx.say(os.getenv("MG_TEST_KEPT"), " ", os.getenv("MG_TEST_DROPPED"), " ",
                        os.getenv("MG_TEST_SET"), " ", os.getenv("TZ"), " ", os.getenv("PATH"),
                        " ", master_sees)
            }
        }
        location /msec { return 200 "$msec\n"; }
        location /update {
            content_by_lua_block {
                local a = ngx.now()
                ngx.update_time()
                ngx.say(ngx.now() > a)
            }
        }
EOC
my $m = $s->start;
ok($m, 'a master with env, worker_priority, worker_rlimit_core, timer_resolution starts') or exit;
my ($w) = $s->worker_pids($m);

is(http_get($s->port, '/env')->{body}, "kept nil set UTC nil dropped\n",
   "env: the worker has TZ, the name kept and the one set, nothing else; the master's init_by_lua saw all");

is(nice_of($w), 7, 'worker_priority 7: the worker is niced');
is(nice_of($m), 0, '... the master is not');
is_deeply([core_limit_of($w)], [1048576, 1048576], 'worker_rlimit_core 1m: soft and hard limits of the worker');
isnt((core_limit_of($m))[1], 1048576, "... not the master's");

my $t1 = http_get($s->port, '/msec')->{body};
Time::HiRes::sleep(1.1);
my $t2 = http_get($s->port, '/msec')->{body};
like($t1, qr/^\d+\.\d{3}\n\z/, '$msec');
is($t2, $t1, 'timer_resolution 60s: a second later the cached clock has not moved');
is(http_get($s->port, '/update')->{body}, "true\n", 'ngx.update_time() moves it');

# a reload: the new workers get the environment from the master's, which kept everything
$s->write_conf(main => "$lua env MG_TEST_DROPPED;\nworker_priority 3;\n");
my ($code, $out, $err) = $s->reload;
is($code, 0, 'reload with other env and worker_priority lines') or diag("$out$err");
is(http_get($s->port, '/env')->{body}, "nil dropped nil UTC nil dropped\n",
   'the new workers: the newly listed name is there (the master had kept it), the others gone');
($w) = $s->wait_workers(1);
is(nice_of($w), 3, 'the new worker has the new priority');
my $t3 = http_get($s->port, '/msec')->{body};
Time::HiRes::sleep(0.2);
isnt(http_get($s->port, '/msec')->{body}, $t3, 'without timer_resolution the clock moves with every event');
$s->stop;
unlike(slurp($s->error_log), qr/open socket|aborting|exited on signal/,
       'debug_points abort: workers that leave nothing open exit as usual');

# ---------------------------------------------------------------------------
# the configuration's verdicts

my $t = Test::MoongateProc->new(name => 'main-t', workers => 1);
for my $c (['worker_priority x;', qr/"worker_priority" directive invalid number in /],
           ['worker_priority 5; worker_priority -2;', qr/"worker_priority" directive is duplicate in /],
           ['worker_rlimit_core 1x;', qr/"worker_rlimit_core" directive invalid value in /],
           ['worker_rlimit_core 1m; worker_rlimit_core 2m;', qr/"worker_rlimit_core" directive is duplicate in /],
           ['timer_resolution soon;', qr/"timer_resolution" directive invalid value in /],
           ['env;', qr/invalid number of arguments in "env" directive in /],
           ['debug_points core;', qr/invalid value "core" in /],
           ['debug_points stop; debug_points abort;', qr/"debug_points" directive is duplicate in /],
           ['worker_priority 0; worker_priority -5; worker_rlimit_core 2g; env A; env A; env B=; debug_points stop;', undef]) {
    $t->write_conf(main => $c->[0]);
    my ($code, $out, $err) = $t->cmd('-t');
    if ($c->[1]) {
        isnt($code, 0, "-t refuses \"$c->[0]\"");
        like($err, qr/\[emerg\] .*$c->[1].*\.conf:\d+$/m, '... in nginx\'s words');
    } else {
        is($code, 0, "-t takes \"$c->[0]\"") or diag($err);
    }
}

# worker_connections: each listening socket takes one; too few for them is an error at -t
# (without FILE:LINE, as nginx), 0 included
my $port = $t->port;
for my $c ([0, '', '0 worker_connections are not enough for 0 listening sockets'],
           [2, "listen 127.0.0.1:$port; listen 127.0.0.1:" . ($port + 1) . ';',
            '2 worker_connections are not enough for 2 listening sockets'],
           [3, "listen 127.0.0.1:$port; listen 127.0.0.1:" . ($port + 1) . ';', undef]) {
    my ($n, $listen) = @$c;
    $t->write_conf(text => "error_log logs/error.log;\npid logs/nginx.pid;\n"
                         . "events { worker_connections $n; }\n"
                         . ($listen ? "http { server { $listen } }\n" : ''));
    my ($code, $out, $err) = $t->cmd('-t');
    if ($c->[2]) {
        isnt($code, 0, "-t refuses worker_connections $n with this many listening sockets");
        like($err, qr/\[emerg\] .*\Q$c->[2]\E$/m, '... in nginx\'s words, without FILE:LINE');
    } else {
        is($code, 0, "-t takes worker_connections $n for 2 listening sockets") or diag($err);
    }
}

# events { use NAME; }: the workers wait with that backend; epoll keeps an eventpoll descriptor
sub eventpoll_fds {
    my $pid = shift;
    opendir(my $d, "/proc/$pid/fd") or return -1;
    return scalar grep { (readlink("/proc/$pid/fd/$_") // '') eq 'anon_inode:[eventpoll]' } readdir $d;
}
for my $use (is_nginx() ? ('epoll') : ('epoll', 'poll')) {
    my $u = Test::MoongateProc->new(name => "use-$use", workers => 1, events => "use $use;",
                                    server => 'location / { return 200 "up\n"; }');
    my $um = $u->start;
    ok($um, "use $use: starts") or next;
    my ($uw) = $u->worker_pids($um);
    is(http_get($u->port, '/')->{body}, "up\n", "use $use: serves");
    is(eventpoll_fds($uw) > 0 ? 'epoll' : 'other', $use eq 'epoll' ? 'epoll' : 'other',
       "use $use: the worker " . ($use eq 'epoll' ? 'has' : 'has no') . ' epoll descriptor');
    $u->stop;
}
$t->write_conf(text => "error_log logs/error.log;\npid logs/nginx.pid;\nevents { use kqueue; }\n");
($code, $out, $err) = $t->cmd('-t');
like($err, qr/\[emerg\] .*invalid event type "kqueue" in .*\.conf:3$/m, 'use kqueue: refused on Linux');

# debug_connection: a client it names gets debug lines whatever error_log's level (a build with
# --with-debug: Debian's nginx, moongate's ./configure --with-debug); the PROXY protocol
# header's debug line shows it.  Without --with-debug: nginx's warning at -t.
my (undef, undef, $v) = run_cmd($Binary, '-V');
if ($v =~ /--with-debug/) {
    for my $c (['127.0.0.1', 1], ['127.0.0.0/8', 1], ['10.0.0.0/8', 0]) {
        my $d = Test::MoongateProc->new(name => 'debug-conn', workers => 1, error_level => 'error',
                                        events => "debug_connection $c->[0];",
                                        listen => 'proxy_protocol',
                                        server => 'location / { return 200 "up\n"; }');
        ok($d->start, "debug_connection $c->[0]: starts") or next;
        my $r = http_request($d->port, "PROXY TCP4 10.1.2.3 10.4.5.6 5555 80\r\n"
                                       . "GET / HTTP/1.0\r\n\r\n");
        like($r->{raw}, qr/\r\n\r\nup\n\z/, "debug_connection $c->[0]: serves");
        $d->stop;
        my $line = qr/\[debug\] .*PROXY protocol src: 10\.1\.2\.3 5555, dst: 10\.4\.5\.6 80$/m;
        if ($c->[1]) {
            like(slurp($d->error_log), $line, '... the client is named: its debug lines are logged');
        } else {
            unlike(slurp($d->error_log), $line, '... another client: no debug lines');
        }
    }
} elsif (!is_nginx()) {
    $t->write_conf(text => "error_log logs/error.log;\npid logs/nginx.pid;\n"
                         . "events { debug_connection 127.0.0.1; }\n");
    ($code, $out, $err) = $t->cmd('-t');
    is($code, 0, 'debug_connection without --with-debug: -t takes it');
    like($err, qr/\[warn\] "debug_connection" is ignored, you need to rebuild moongate using --with-debug option to enable it in .*\.conf:3$/m,
         "... with nginx's warning");
}
$t->write_conf(text => "error_log logs/error.log;\npid logs/nginx.pid;\n"
                     . "events { debug_connection no-such-host.invalid; }\n");
($code, $out, $err) = $t->cmd('-t');
like($err, qr/\[emerg\] .*host not found in debug_connection "no-such-host\.invalid" in .*\.conf:3$/m,
     'debug_connection: an unknown host is refused');
