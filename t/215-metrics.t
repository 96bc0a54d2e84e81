# The metrics handler (issue 14, item 5): `metrics [prometheus|json]` shows counters kept in
# shared memory, checked here against a real master: requests per server and status, upstream
# tries, their response-time histogram and the peers' state, Lua errors, lua_shared_dict sizes,
# reloads (ok and failed), the generation, worker restarts, draining workers and connections
# during a reload that an idle keepalive connection holds up, and all of it across a USR2
# (upgrades ok and failed), stub_status's counters included.  The text passes
# `promtool check metrics`; the JSON says the same.  A format that does not exist fails -t
# with FILE:LINE.
#
# moongate only: nginx has no metrics handler (and restarts stub_status at zero on USR2).

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use IO::Socket::INET;
use JSON::PP;

if (is_nginx) {
    Test::More::plan(skip_all => 'the metrics handler is moongate\'s');
}

my @dead = map { Test::Moongate::find_free_port() } 1 .. 2;    # nothing listens there

my %parts = (
    http => "    lua_shared_dict d 1m;\n"
          . "    upstream dead { server 127.0.0.1:$dead[0] fail_timeout=60s;\n"
          . "                    server 127.0.0.1:$dead[1] fail_timeout=60s; }\n",
    server => q{
        server_name metrics.test;
        location = /metrics { metrics; }
        location = /metrics.json { metrics json; }
        location = /st { stub_status; }
        location = /dead { proxy_pass http://dead; }
        location = /boom { content_by_lua_block { error("boom") } }
        location = /set { content_by_lua_block { ngx.shared.d:set("k", string.rep("x", 1000)) ngx.say("ok") } }
        location / { return 200 "hi\n"; }
    });

my $s = Test::MoongateProc->new(name => 'metrics', workers => 2, error_level => 'notice', %parts);
$s->use_binary_copy;

# -t: a format that does not exist, and the directive where it is not allowed
$s->write_conf(%parts, server => "$parts{server}\n        location = /x { metrics xml; }\n");
my @lines = split /\n/, slurp($s->conf_file);
my ($line) = grep { $lines[$_ - 1] =~ /metrics xml/ } 1 .. @lines;
my ($code, $out, $err) = $s->cmd('-t');
is($code, 1, '-t with "metrics xml" fails');
like($err, qr/\[emerg\] invalid value "xml" in "metrics" directive, it must be "prometheus" or "json" in \Q${\ $s->conf_file}\E:$line$/m,
     'the error names the value, the choices and FILE:LINE');
$s->write_conf(%parts, server => "$parts{server}\n        metrics;\n");
($code, $out, $err) = $s->cmd('-t');
like($err, qr/\[emerg\] "metrics" directive is not allowed here in \S+:\d+$/m, 'not in server{}');
$s->write_conf(%parts);
($code, $out, $err) = $s->cmd('-t');
is($code, 0, '-t accepts metrics and metrics json') or diag($err);

my $m0 = $s->start;
ok($m0, 'started') or stop_here();

sub get { my $r = http_get($s->port, $_[0], timeout => 10); $r }

# "name{labels}" => value
sub scrape {
    my $r = get('/metrics');
    my %v;
    for (split /\n/, $r->{body} // '') {
        next if /^#/;
        $v{$1} = $2 + 0 if /^(\S+) (\S+)$/;
    }
    return \%v;
}

sub promtool_ok {
    my $r = get('/metrics');
    my ($c, $o, $e) = Test::Moongate::run_cmd({ stdin => $r->{body} // '', timeout => 30 },
                                               'promtool', 'check', 'metrics');
    is($c, 0, "promtool check metrics: $_[0]") or diag("$o$e");
}

is(get('/')->{status}, 200, 'a request') for 1 .. 3;
is(get('/missing/')->{status}, 200, 'another');
is(get('/boom')->{status}, 500, 'a Lua error: 500');
is(get('/dead')->{status}, 502, 'the dead upstream: 502');
is(get('/set')->{status}, 200, 'a shared dict entry');

my $r = get('/metrics');
is($r->{status}, 200, 'metrics: 200');
like($r->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4}, "Prometheus' content type");
my $v = scrape();
is($v->{'moongate_http_requests_total{server="metrics.test",code="200"}'}, 7,
   'requests by server and code: 7 answered 200 (start\'s probe, 5 here, the scrape before)');
is($v->{'moongate_http_requests_total{server="metrics.test",code="500"}'}, 1, '1 answered 500');
is($v->{'moongate_http_requests_total{server="metrics.test",code="502"}'}, 1, '1 answered 502');
is($v->{'moongate_lua_errors_total'}, 1, 'one Lua error');
is($v->{qq{moongate_upstream_peer_up{upstream="dead",peer="127.0.0.1:$dead[$_]"}}}, 0,
   "dead peer $_ is down (max_fails=1 failure within fail_timeout=60s)") for 0 .. 1;
is($v->{'moongate_upstream_requests_total{upstream="dead"}'}, 2, 'two tries sent to the group');
is($v->{'moongate_upstream_response_seconds_count{upstream="dead"}'}, 2, 'their times observed');
is($v->{'moongate_upstream_response_seconds_bucket{upstream="dead",le="+Inf"}'}, 2, '+Inf bucket');
# both tries failed at once (refused): cumulative buckets, each counting what the ones below
# it count; from 2.5 s on both (how many fall under 5 ms depends on the machine's load: under
# ASan on a busy machine one refused connect took longer)
my @buckets = grep { /^moongate_upstream_response_seconds_bucket\{upstream="dead",le=/ } keys %$v;
is(scalar @buckets, 12, 'eleven bounds and +Inf');
my $le = sub { my ($b) = $_[0] =~ /le="([^"]+)"/; $b eq '+Inf' ? 9**9**9 : $b };
my @by_bound = sort { $le->($a) <=> $le->($b) } @buckets;
my @counts = map { $v->{$_} } @by_bound;
ok(!grep({ $counts[$_] < $counts[$_ - 1] } 1 .. $#counts), 'the buckets are cumulative')
    or diag(join ', ', map { "$_=$v->{$_}" } @by_bound);
is(scalar(grep { $le->($_) >= 2.5 && $v->{$_} == 2 } @buckets), 4,
   'the buckets from 2.5 s on count both')
    or diag(join ', ', map { "$_=$v->{$_}" } @by_bound);
is($v->{'moongate_shdict_bytes{zone="d",kind="capacity"}'}, 1048576, 'the dict\'s capacity');
cmp_ok($v->{'moongate_shdict_bytes{zone="d",kind="used"}'} // 0, '>', 1000, 'and what it uses');
is($v->{'moongate_generation'}, 1, 'generation 1');
is($v->{'moongate_reloads_total{result="ok"}'}, 0, 'no reload yet');
is($v->{'moongate_connections{state="writing"}'}, 1, 'one connection writing: the scrape');
promtool_ok('after requests');

my $ok200 = scrape()->{'moongate_http_requests_total{server="metrics.test",code="200"}'};
my $j = eval { decode_json(get('/metrics.json')->{body}) };
ok($j, 'metrics json parses') or diag($@);
my ($js) = grep { $_->{labels}{code} eq '200' } @{ $j->{moongate_http_requests_total}{samples} // [] };
is($js->{value}, $ok200 + 1, 'the JSON says the same (and counts the scrape before it)');
is($j->{moongate_http_requests_total}{type}, 'counter', 'with its type');
is($j->{moongate_upstream_response_seconds}{samples}[0]{buckets}{'+Inf'}, 2, 'and the histogram');

# a reload held up by an idle keepalive connection of an old worker
my $ka = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, Timeout => 5)
    or die "connect: $!";
print $ka "GET / HTTP/1.1\r\nHost: metrics.test\r\n\r\n";
my $resp = '';
while ($resp !~ /\r\n\r\nhi\n/) { sysread($ka, $resp, 4096, length $resp) or last }
like($resp, qr/^HTTP\/1\.1 200/, 'a keepalive connection, now idle');
($code, $out, $err) = $s->reload;
is($code, 0, 'reload') or diag("$out$err");
$v = scrape();
is($v->{'moongate_generation'}, 2, 'generation 2');
is($v->{'moongate_reloads_total{result="ok"}'}, 1, 'reloads ok: 1');
ok(wait_for(sub { scrape()->{'moongate_draining_workers'} == 1 }, 10),
   'one worker drains: the one holding the connection (the other old one exits)');
is(scrape()->{'moongate_draining_connections'}, 1, 'one draining connection');
close $ka;
ok(wait_for(sub { my $x = scrape(); !$x->{'moongate_draining_workers'}
                                    && !$x->{'moongate_draining_connections'} }, 10),
   'the connection closed: nothing drains');

# a reload the master refuses (HUP itself: -s reload would stop at its own parse)
my $mk = $s->log_mark;
$s->write_conf(%parts, server => "$parts{server}\n        bogus_directive;\n");
$s->signal('HUP');
ok($s->wait_log(qr/\[emerg\] ${\ $s->pid}#\d+: unknown directive "bogus_directive"/, $mk, 10),
   'the master refuses a broken configuration');
$s->write_conf(%parts);
# the master counts it right after logging the error: wait for it, bounded
ok(wait_for(sub { (scrape()->{'moongate_reloads_total{result="failed"}'} // 0) == 1 }, 10),
   'reloads failed: 1');
$v = scrape();
is($v->{'moongate_generation'}, 2, 'still generation 2');

# a worker killed: the master starts another
my @w = $s->worker_pids;
kill 'KILL', $w[0];
# (the killed one can still be listed until the master reaps it: wait for the whole condition)
ok(wait_for(sub { my @p = $s->worker_pids; @p == 2 && !grep { $_ == $w[0] } @p }, 10),
   'the killed worker was replaced');
ok(wait_for(sub { (scrape()->{'moongate_worker_restarts_total'} // 0) == 1 }, 10),
   'worker restarts: 1');

# USR2: the new binary's workers count into the same numbers
my $st0 = get('/st')->{body} // '';
my ($acc0) = $st0 =~ /^ (\d+) \d+ \d+ $/m;
my $before = scrape();
my $m1 = $s->upgrade(2);
ok($m1, 'USR2, QUIT of the old master: the new binary serves') or stop_here();
$v = scrape();
cmp_ok($v->{'moongate_http_requests_total{server="metrics.test",code="200"}'}, '>',
       $before->{'moongate_http_requests_total{server="metrics.test",code="200"}'},
       'requests counted before the upgrade are still there');
is($v->{'moongate_reloads_total{result="ok"}'}, 1, 'reloads ok: still 1');
is($v->{'moongate_reloads_total{result="failed"}'}, 1, 'reloads failed: still 1');
is($v->{'moongate_worker_restarts_total'}, 1, 'worker restarts: still 1');
is($v->{'moongate_lua_errors_total'}, 1, 'Lua errors: still 1');
is($v->{'moongate_upgrades_total{result="ok"}'}, 1, 'upgrades ok: 1');
is($v->{'moongate_generation'}, 3, 'the new binary goes on from generation 2 to 3');
my ($acc1) = (get('/st')->{body} // '') =~ /^ (\d+) \d+ \d+ $/m;
cmp_ok($acc1 // 0, '>', $acc0 // 1e9, "stub_status's accepted count went on across the upgrade ($acc0 -> $acc1)");

# an upgrade the new binary refuses (its configuration): counted as failed, the old one serves
my $mark = $s->log_mark;
$s->write_conf(%parts, server => "$parts{server}\n        bogus_directive;\n");
$s->signal('USR2', $m1);
ok($s->wait_log(qr/\[notice\] $m1#\d+: new binary process \d+ exited with code 1$/m, $mark, 10),
   'the new binary exited with code 1');
$s->write_conf(%parts);
ok(wait_for(sub { ($s->pid // 0) == $m1 && !-e $s->oldbin_file }, 10), 'the pid file is back');
$v = scrape();
is($v->{'moongate_upgrades_total{result="failed"}'}, 1, 'upgrades failed: 1');
is($v->{'moongate_upgrades_total{result="ok"}'}, 1, 'upgrades ok: still 1');
promtool_ok('at the end');

ok($s->stop, 'stopped');
Test::More::done_testing();
