# The metrics handler scraped by a real Prometheus (Debian's `prometheus`, issue 14 item 5):
# the test starts one on a free port with a storage directory of its own and a scrape config
# pointing at a moongate master every second, keeps requests going, and reads back through
# Prometheus' HTTP API that the target is up with no scrape error, that rate() of
# moongate_http_requests_total is above zero, and that a reload shows in
# moongate_reloads_total.  Every wait is for a condition, with a generous bound; Prometheus is
# stopped at the end (and by the END block if the test dies).
#
# moongate only: nginx has no metrics handler.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use JSON::PP;
use POSIX ();
use File::Temp ();

if (is_nginx) {
    Test::More::plan(skip_all => 'the metrics handler is moongate\'s');
}
my ($prom) = grep { -x } '/usr/bin/prometheus', '/usr/local/bin/prometheus';
unless ($prom) {
    Test::More::plan(skip_all => 'no prometheus binary (apt-get install prometheus; '
                               . './configure --install-deps lists it)');
}

my $s = Test::MoongateProc->new(name => 'scraped', workers => 2, server => q{
        server_name scraped.test;
        location = /metrics { metrics; }
        location / { return 200 "hi\n"; }
    });
ok($s->start, 'moongate started') or stop_here();

my $pport = Test::Moongate::find_free_port();
my $pdir = File::Temp::tempdir('prometheus-XXXXXX', DIR => $s->dir, CLEANUP => 1);
my $port = $s->port;
spew("$pdir/prometheus.yml", <<"EOF");
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: moongate
    scrape_interval: 1s
    scrape_timeout: 1s
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF

my $ppid = fork // die "fork: $!";
if ($ppid == 0) {
    open STDOUT, '>', "$pdir/prometheus.log";
    open STDERR, '>&', \*STDOUT;
    { exec $prom, "--config.file=$pdir/prometheus.yml", "--storage.tsdb.path=$pdir/data",
           "--web.listen-address=127.0.0.1:$pport", '--log.level=warn'; }
    POSIX::_exit(127);
}
END { stop_prometheus() if $ppid }

sub stop_prometheus {
    return unless $ppid && kill 0, $ppid;
    kill 'TERM', $ppid;
    my $gone = wait_for(sub { waitpid($ppid, POSIX::WNOHANG()) == $ppid }, 30);
    unless ($gone) { kill 'KILL', $ppid; waitpid($ppid, 0) }
    $ppid = 0;
    return $gone;
}

sub uri_escape { my $q = shift; $q =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $q }

# the API's answer to an instant query: [ [labels, value], ... ] or undef
sub query {
    my $r = http_get($pport, '/api/v1/query?query=' . uri_escape($_[0]), timeout => 10);
    my $j = eval { decode_json($r->{body} // '') } or return;
    return unless ($j->{status} // '') eq 'success';
    return [ map { [ $_->{metric}, $_->{value}[1] ] } @{ $j->{data}{result} } ];
}

ok(wait_for(sub { (http_get($pport, '/-/ready', timeout => 2)->{status} // 0) == 200 }, 90),
   'prometheus is ready') or diag(slurp("$pdir/prometheus.log"));

# requests meanwhile, so that the counter grows between scrapes
sub busy_wait {
    my ($cond, $timeout) = @_;
    return wait_for(sub { http_get($port, '/', timeout => 5) for 1 .. 5; $cond->() }, $timeout);
}

my $rate = busy_wait(sub {
    my $res = query('sum(rate(moongate_http_requests_total{server="scraped.test",code="200"}[10s]))');
    $res && @$res && $res->[0][1] > 0 ? $res->[0][1] : 0;
}, 120);
ok($rate, "rate(moongate_http_requests_total[10s]) through Prometheus: $rate/s")
    or diag(slurp("$pdir/prometheus.log"));

my $t = http_get($pport, '/api/v1/targets', timeout => 10);
my $tj = eval { decode_json($t->{body} // '') } // {};
my ($target) = @{ $tj->{data}{activeTargets} // [] };
is($target->{health}, 'up', 'the target is up');
is($target->{lastError}, '', 'its last scrape had no error (the text parsed)');

my ($code, $out, $err) = $s->reload;
is($code, 0, 'reload') or diag("$out$err");
ok(busy_wait(sub {
    my $res = query('moongate_reloads_total{result="ok"}');
    $res && @$res && $res->[0][1] == 1;
}, 60), 'Prometheus sees moongate_reloads_total{result="ok"} 1 after the reload');
ok(busy_wait(sub {
    my $res = query('moongate_generation');
    $res && @$res && $res->[0][1] == 2;
}, 60), 'and moongate_generation 2');

ok(stop_prometheus(), 'prometheus stopped');
ok($s->stop, 'moongate stopped');
Test::More::done_testing();
