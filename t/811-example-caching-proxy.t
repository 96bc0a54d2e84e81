# examples/caching-proxy as it is, its ports and its 10 minutes' validity aside (1 s here): a
# MISS then a HIT from one upstream request; five clients at once for a new URL make one
# upstream request (proxy_cache_lock); once expired, the entry answers at once (STALE) while
# the background update fetches it again; a failing application (500) is covered by the last
# good answer; Pragma bypasses the cache.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use POSIX ();
use Test::More;
use Test::Moongate ();
use Test::MoongateBackend;
use Test::MoongateEmbed qw(embed_start embed_request embed_wait_exit embed_wait_up);

plan skip_all => 'the example names moongate paths' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $bin = $Test::Moongate::Binary;
my $app = backend(app => 'echo', body => "from the app\n");
my $port = Test::Moongate::find_free_port();

my $prefix = "$Test::Moongate::ServRoot/example-caching-proxy";
remove_tree($prefix);
make_path("$prefix/logs", "$prefix/conf");
chmod 0755, $prefix, "$prefix/logs", "$prefix/conf";
my $conf = Test::Moongate::slurp("$root/examples/caching-proxy/moongate.conf");
ok($conf =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/ && $conf =~ s/127\.0\.0\.1:9101/127.0.0.1:$app/g
   && $conf =~ s/200 301 302  10m/200 301 302  1s/, 'the example\'s ports and validity are where the test expects');
open my $fh, '>', "$prefix/conf/moongate.conf" or die $!;
print $fh $conf;
close $fh;

my $pid = embed_start("$prefix/out", $bin, '-p', "$prefix/", '-c', 'conf/moongate.conf', '-g',
                      'daemon off;');
my ($up) = embed_wait_up($port, '/up');
ok($up, 'the example serves');

sub get {
    my ($path, %h) = @_;
    my ($status, $head, $body) = embed_request($port, 'GET', $path, headers => \%h);
    my ($x) = ($head // '') =~ /^X-Cache-Status: (\S+)/mi;
    return (($status // 0) . ' ' . ($x // '-'), $body // '');
}
sub upstream_requests {
    my $path = shift;
    return scalar grep { $_->[2] eq "GET" && $_->[3] eq $path } backend_log("app");
}

is((get('/a'))[0], '200 MISS', 'first request: MISS');
is((get('/a'))[0], '200 HIT', 'second: HIT');
is(upstream_requests('/a'), 1, 'one request reached the application');

{
    my @kids;
    for my $i (1 .. 5) {
        my $k = fork // die "fork: $!";
        if ($k == 0) {
            embed_request($port, 'GET', '/slow', headers => { 'X-Echo-Delay' => 1 });
            POSIX::_exit(0);
        }
        push @kids, $k;
    }
    waitpid $_, 0 for @kids;
    is(upstream_requests('/slow'), 1, 'five clients at once for a new URL: one upstream request');
}

select(undef, undef, undef, 2.1); # /a expires (1 s)
is((get('/a'))[0], '200 STALE', 'expired: the stale entry at once, updated in the background');
my $n = 0;
for (1 .. 100) {
    last if ($n = upstream_requests('/a')) >= 2;
    select(undef, undef, undef, 0.05);
}
is($n, 2, 'the background update reached the application');

select(undef, undef, undef, 2.1);
my ($st, $body) = get('/a', 'X-Echo-Status' => 500);
like($st, qr/^200 (STALE|UPDATING)$/, 'the application fails (500): the last good answer ' . $st);
like($body, qr/from the app/, '... with its body');

is((get('/a', 'Pragma' => 'no-cache'))[0], '200 BYPASS', 'Pragma: BYPASS');

kill 'QUIT', $pid;
is(embed_wait_exit($pid, 15), 0, 'QUIT: the master exits');
done_testing();
