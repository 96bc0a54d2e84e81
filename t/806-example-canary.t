# examples/canary as it is, ports aside: about 10% of the requests reach the canary; the
# weight changed to 50% and `-s reload` under load moves about half there, with no failed
# request.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use Test::More;
use Test::Moongate ();
use Test::MoongateBackend;
use Test::MoongateProc qw(load_start);
use Test::MoongateEmbed qw(embed_start embed_request embed_wait_exit embed_wait_up);

plan skip_all => 'the example names moongate paths' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $bin = $Test::Moongate::Binary;
my $stable = backend(stable => 'echo', body => "stable\n");
my $canary = backend(canary => 'echo', body => "canary\n");
my $port = Test::Moongate::find_free_port();

my $prefix = "$Test::Moongate::ServRoot/example-canary";
remove_tree($prefix);
make_path("$prefix/logs", "$prefix/conf");
chmod 0755, $prefix, "$prefix/logs", "$prefix/conf";
my $conf = Test::Moongate::slurp("$root/examples/canary/moongate.conf");
ok($conf =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/ && $conf =~ s/127\.0\.0\.1:9101/127.0.0.1:$stable/ &&
   $conf =~ s/127\.0\.0\.1:9102/127.0.0.1:$canary/, 'the example\'s ports are where the test expects');
sub write_conf {
    open my $fh, '>', "$prefix/conf/moongate.conf" or die $!;
    print $fh shift;
    close $fh;
}
write_conf($conf);

my $pid = embed_start("$prefix/out", $bin, '-p', "$prefix/", '-c', 'conf/moongate.conf', '-g',
                      'daemon off;');
my ($up) = embed_wait_up($port, '/');
ok($up, 'the example serves');

sub share {
    my ($n, $canaries, $failed) = (200, 0, 0);
    for (1 .. $n) {
        my ($status, $head, $body) = embed_request($port, 'GET', '/');
        $failed++ unless defined $status && $status == 200;
        $canaries++ if defined $body && $body eq "canary\n";
    }
    return ($canaries / $n, $failed);
}
my ($share, $failed) = share();
is($failed, 0, '10%: every request answered');
ok($share > 0.02 && $share < 0.25, "10%: the canary got about a tenth ($share)");

my $load = load_start(port => $port, conns => 8);
$conf =~ s/10%  canary;/50%  canary;/ or die 'no weight to change';
write_conf($conf);
my ($code, $out, $err) = Test::Moongate::run_cmd($bin, '-p', "$prefix/", '-c',
                                                 'conf/moongate.conf', '-s', 'reload');
is($code, 0, '-s reload: the new weights are accepted') or diag("$out$err");
($share, $failed) = share();
my $res = $load->finish;
is($failed, 0, '50%: every request answered');
ok($share > 0.35 && $share < 0.65, "50%: the canary got about half ($share)");
ok($res->{requests} > 0, "the load ran ($res->{requests} requests)");
is($res->{failed}, 0, 'no request of the load failed across the reload')
    or diag(join ', ', map { "$_: $res->{errors}{$_}" } keys %{ $res->{errors} });

kill 'QUIT', $pid;
is(embed_wait_exit($pid, 15), 0, 'QUIT: the master exits');

done_testing();
