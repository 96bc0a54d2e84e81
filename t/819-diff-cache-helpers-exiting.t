# A differential audit with a reverse proxy's proxy_cache config: on a graceful stop (QUIT),
# the cache manager process and the cache loader process (still waiting to start loading) each
# log "exiting" at notice level before they go, as Debian's nginx 1.22's do.
#
#   prove -I t/lib t/819-diff-cache-helpers-exiting.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/819-diff-cache-helpers-exiting.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Test::Moongate ();
use Test::MoongateProc;

my $s = Test::MoongateProc->new(name => 'cachehelpers', workers => 1, error_level => 'notice');
$s->write_conf(http => "proxy_cache_path " . $s->dir . "/cache levels=1:2 keys_zone=one:1m;\n",
               server => "location / { proxy_cache one; return 200 \"ok\\n\"; }\n");
my $el = $s->error_log;
my $m = $s->start;
ok($m, 'started') or stop_here();

my ($mgr, $ldr);
ok(wait_for(sub {
    my $l = slurp($el);
    ($mgr) = $l =~ /\[notice\] $m#\d+: start cache manager process (\d+)$/m;
    ($ldr) = $l =~ /\[notice\] $m#\d+: start cache loader process (\d+)$/m;
    $mgr && $ldr;
}), 'the master started a cache manager and a cache loader');

$s->signal('QUIT', $m);
ok(wait_gone(10, $m), 'QUIT: the master is gone');
my $log = slurp($el);
like($log, qr/\[notice\] $mgr#\d+: exiting$/m, 'the cache manager logged "exiting"');
like($log, qr/\[notice\] $ldr#\d+: exiting$/m, 'the cache loader (not loading yet) logged "exiting"');
like($log, qr/\[notice\] $m#\d+: cache manager process $mgr exited with code 0$/m,
     'the master saw the cache manager exit with code 0');

$s->stop;
done_testing();
