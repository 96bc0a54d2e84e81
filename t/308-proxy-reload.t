# The proxy across a reload (HUP) with a real master and worker: the draining worker closes
# its idle upstream keepalive connections at once, not at keepalive_timeout (the upstream
# sees them closed while the worker still serves a response in flight); a WebSocket tunnel
# opened before the reload keeps carrying bytes both ways while its worker drains, and
# worker_shutdown_timeout ends it after about that time.
#
#   prove -I t/lib t/308-proxy-reload.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/308-proxy-reload.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::MoongateBackend;

backend(k => 'counting');
backend(slow => 'drip', interval => 0.1, count => 300, mode => 'chunked');
backend(ws => 'websocket');

my $Server = <<"EOF";
        location /k {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://k;
        }
        location /slow {
            proxy_buffering off;
            proxy_pass http://127.0.0.1:$Port{slow};
        }
        location /ws {
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_pass http://127.0.0.1:$Port{ws};
        }
EOF
my $Http = <<"EOF";
    upstream k {
        server 127.0.0.1:$Port{k};
        keepalive 4;
        keepalive_timeout 60s;
    }
EOF

my $s = Test::MoongateProc->new(name => 'proxyreload', workers => 1, http => $Http,
                                server => $Server);
my $m = $s->start;
ok($m, 'started') or stop_here();

# the old worker is told to drain once the new one is ready: wait for its log line
sub reload {
    my ($old) = @_;
    my $mark = $s->log_mark;
    $s->signal('HUP');
    my $ok = $s->wait_log(qr/\[notice\] $old#\d+: gracefully shutting down$/m, $mark);
    $s->wait_workers(1, all => 0);
    return $ok;
}

# a tunnel through the proxy: (socket, bytes after the 101 head)
sub tunnel {
    my $c = client_connect($s->port);
    client_send($c, "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                    . "Connection: Upgrade\r\n\r\n");
    my $got = client_read($c, qr/\r\n\r\n.*hello\n/s, 5);
    my $i = index($got, "\r\n\r\n");
    return ($c, $got =~ m{\AHTTP/1\.1 101 } && $i >= 0 ? substr($got, $i + 4) : '');
}

sub echoes {
    my ($c, $msg) = @_;
    client_send($c, $msg) or return 0;
    return scalar(client_read($c, length $msg, 5)) eq $msg;
}

# ---------------------------------------------------------------------------
# idle upstream keepalive connections close when the worker starts draining

my ($w1) = $s->worker_pids($m);
like(http_get($s->port, '/k')->{body}, qr/^k conn=1 req=1$/m, 'a first request opens upstream connection 1');
like(http_get($s->port, '/k')->{body}, qr/^k conn=1 req=2$/m, 'the second one reuses it: it is kept idle');
is_deeply([backend_closed('k')], [], 'the upstream sees it open');

my $slow = slow_get($s->port, '/slow');
ok($slow && $slow->status == 200, 'a slow response in flight keeps the old worker draining')
    or stop_here('no slow response');
ok(reload($w1), "HUP: worker $w1 drains");
ok(wait_for(sub { grep { $_ == 1 } backend_closed('k') }, 5),
   'the upstream sees the idle keepalive connection closed soon after the HUP');
ok(proc_alive($w1), 'while the old worker still drains (not at its exit)');
like(http_get($s->port, '/k')->{body}, qr/^k conn=2 req=1$/m, 'the new worker opens its own');
$slow->close;
ok(wait_gone(10, $w1), 'the old worker exits once its response is gone');

# ---------------------------------------------------------------------------
# a tunnel is kept through a reload

my ($w2) = $s->worker_pids($m);
my ($c, $hello) = tunnel();
is($hello, "hello\n", 'a tunnel: the upstream greets');
ok(echoes($c, "before\n"), 'and echoes');
ok(reload($w2), "HUP: worker $w2 drains");
ok(echoes($c, "after the reload\n"), 'the tunnel still carries bytes both ways after the reload');
ok(echoes($c, "x" x 100000), 'a 100 KB message too');
ok(proc_alive($w2), 'the old worker keeps it');
close $c;
ok(wait_gone(10, $w2), 'the old worker exits once the client closes');

# ---------------------------------------------------------------------------
# ... until worker_shutdown_timeout

$s->write_conf(main => 'worker_shutdown_timeout 1s;');
my ($w3) = $s->worker_pids($m);
ok(reload($w3), 'reload with worker_shutdown_timeout 1s');
ok(wait_gone(10, $w3), 'its old worker goes');
my ($w4) = $s->worker_pids($m);
($c, $hello) = tunnel();
is($hello, "hello\n", 'a new tunnel');
my $mark = $s->log_mark;
# timed from the HUP: the drain begins after it, so the close comes at least 1 s later. Timed
# from when the test saw "gracefully shutting down", a test process that saw it late under load
# measured less than the 1 s
my $t0 = Time::HiRes::time();
$s->signal('HUP');
ok($s->wait_log(qr/\[notice\] $w4#\d+: gracefully shutting down$/m, $mark), "HUP: worker $w4 drains");
my ($data, $eof) = client_read($c, undef, 10);
my $t = Time::HiRes::time() - $t0;
ok($eof, 'the tunnel is closed by worker_shutdown_timeout');
ok($t > 0.8 && $t < 8, sprintf('after about 1s (%.2fs after the HUP)', $t));
ok(wait_gone(10, $w4), 'and the old worker exits');

$s->stop;
Test::More::done_testing();
