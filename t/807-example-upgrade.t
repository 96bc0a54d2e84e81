# examples/upgrade: an installed PREFIX serving the example, `make upgrade` under load, then a
# USR2 rolled back (HUP to the old master, QUIT to the new one), with no failed request.
use strict;
use warnings;
use File::Path qw(make_path);
use Test::More;
use Test::Moongate ();
use Test::MoongateProc qw(load_start wait_for proc_alive);
use Test::MoongateEmbed qw(embed_install embed_request);

plan skip_all => 'the example installs moongate' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $prefix = embed_install("$Test::Moongate::ServRoot/example-upgrade");
chmod 0755, "$Test::Moongate::ServRoot/example-upgrade", $prefix, "$prefix/logs";
my $port = Test::Moongate::find_free_port();
my $conf = Test::Moongate::slurp("$root/examples/upgrade/moongate.conf");
ok($conf =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/, 'the example listens where the test expects');
Test::Moongate::spew("$prefix/conf/moongate.conf", $conf);
my $bin = "$prefix/sbin/moongate";
my $pidf = "$prefix/logs/moongate.pid";
sub pid_in { my $p = Test::Moongate::slurp(shift); chomp $p; $p }

my ($code, $out, $err) = Test::Moongate::run_cmd($bin, '-p', "$prefix/");
is($code, 0, 'the installed binary starts (daemon)') or diag("$out$err");
ok(wait_for(sub { my ($s) = embed_request($port, 'GET', '/'); defined $s && $s == 200 }, 10),
   'it serves');
my $old = pid_in($pidf);

my $load = load_start(port => $port, conns => 8);
($code, $out, $err) = Test::Moongate::run_cmd({ timeout => 60 }, 'make', '-s', '-C', $root,
                                              'upgrade', "PREFIX=$prefix");
is($code, 0, 'make upgrade') or diag("$out$err");
my $new;
wait_for(sub { ($new = pid_in($pidf)) =~ /^\d+$/ }, 5);
isnt($new, $old, 'a new master wrote the pid file');
ok(wait_for(sub { !proc_alive($old) }, 15), 'the old master drained and exited');
ok(!-e "$pidf.oldbin", 'no .oldbin left');

# rollback: USR2, then back to the running master
kill 'USR2', $new;
ok(wait_for(sub { -e "$pidf.oldbin" && pid_in($pidf) =~ /^\d+$/ && pid_in($pidf) ne $new }, 10),
   'USR2: a newer master');
my $newer = pid_in($pidf);
ok(wait_for(sub { `pgrep -P $newer` ne '' }, 10), 'its workers run');
kill 'HUP', $new;
kill 'QUIT', $newer;
ok(wait_for(sub { !proc_alive($newer) }, 15), 'QUIT: the newer master exits');
ok(wait_for(sub { -e $pidf && !-e "$pidf.oldbin" && pid_in($pidf) eq $new }, 10),
   'the previous master has its pid file back');
my $res = $load->finish;
ok($res->{requests} > 0, "the load ran ($res->{requests} requests)");
is($res->{failed}, 0, 'no request failed across the upgrade and the rollback')
    or diag(join ', ', map { "$_: $res->{errors}{$_}" } keys %{ $res->{errors} });
my ($status, $head, $body) = embed_request($port, 'GET', '/');
is($status, 200, 'the rolled-back master serves');

kill 'QUIT', $new;
ok(wait_for(sub { !proc_alive($new) }, 15), 'QUIT: it exits');

done_testing();

# a failed check must not leave daemonized masters behind
END {
    for my $f ($pidf, "$pidf.oldbin") {
        my $p = -e $f ? pid_in($f) : '';
        kill 'KILL', $p if $p =~ /^\d+$/ && proc_alive($p);
    }
}
