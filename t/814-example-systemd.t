# examples/systemd: the unit's own commands, run in the order systemd runs them, against an
# installed PREFIX (the unit's /usr/local/moongate replaced by it, the binary given -p PREFIX/
# for the prefix it was configured with): ExecStartPre's check, ExecStart's forking daemon and
# the PIDFile it waits for, ExecReload's verdict (0, then 1 with the error for a broken file,
# the old configuration serving on), the README's `-s upgrade` (a new master in PIDFile, as
# systemd follows it), and ExecStop's QUIT to $MAINPID (gone, its pid file with it).
use strict;
use warnings;
use Test::More;
use Test::Moongate ();
use Test::MoongateProc qw(wait_for proc_alive);
use Test::MoongateEmbed qw(embed_install embed_request);

plan skip_all => 'the example installs moongate' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $prefix = embed_install("$Test::Moongate::ServRoot/example-systemd");
chmod 0755, "$Test::Moongate::ServRoot/example-systemd", $prefix, "$prefix/logs";
my $port = Test::Moongate::find_free_port();
sub conf {
    my $body = shift;
    Test::Moongate::spew("$prefix/conf/moongate.conf", <<"CONF");
worker_processes 1;
events { }
http {
    access_log off;
    server { listen 127.0.0.1:$port; location / { return 200 "$body\\n"; } }
}
CONF
}
conf('first');

my %unit;
for (split /\n/, Test::Moongate::slurp("$root/examples/systemd/moongate.service")) {
    next unless /^(\w+)=(.*)$/;
    my ($k, $v) = ($1, $2);
    $v =~ s{/usr/local/moongate/sbin/moongate}{$prefix/sbin/moongate -p $prefix/}g;
    $v =~ s{/usr/local/moongate/}{$prefix/}g;
    $unit{$k} = $v;
}
is($unit{Type}, 'forking', 'Type=forking');
is($unit{PIDFile}, "$prefix/logs/moongate.pid", 'PIDFile is the installed prefix\'s');
my $pidf = $unit{PIDFile};
sub mainpid { my $p = Test::Moongate::slurp($pidf); chomp $p; $p }
sub run_line {
    my ($line, $pid) = @_;
    $line =~ s/\$MAINPID/$pid/g if defined $pid;
    return Test::Moongate::run_cmd({ timeout => 60 }, split / /, $line);
}

my ($code, $out, $err) = run_line($unit{ExecStartPre});
is($code, 0, 'ExecStartPre: the configuration passes -t -q') or diag("$out$err");
is("$out$err", '', '-q: nothing said');
($code, $out, $err) = run_line($unit{ExecStart});
is($code, 0, 'ExecStart returns once the daemon runs (Type=forking)') or diag("$out$err");
ok(wait_for(sub { mainpid() =~ /^\d+$/ && proc_alive(mainpid()) }, 5), 'PIDFile names a live master');
my $main = mainpid();
my ($status, $head, $body) = embed_request($port, 'GET', '/');
is($body, "first\n", 'it serves');

conf('second');
($code, $out, $err) = run_line($unit{ExecReload});
is($code, 0, 'ExecReload: 0 for a good configuration') or diag("$out$err");
ok(wait_for(sub { my (undef, undef, $b) = embed_request($port, 'GET', '/'); ($b // '') eq "second\n" }, 10),
   'the new configuration serves');
Test::Moongate::spew("$prefix/conf/moongate.conf",
                     Test::Moongate::slurp("$prefix/conf/moongate.conf") . "bogus;\n");
($code, $out, $err) = run_line($unit{ExecReload});
is($code, 1, 'ExecReload: 1 for a broken one (systemctl reload fails)');
like("$out$err", qr/unknown directive "bogus" in \Q$prefix\E\/conf\/moongate\.conf:7/,
     'with the error and its place');
($status, $head, $body) = embed_request($port, 'GET', '/');
is($body, "second\n", 'the running configuration serves on');
is(mainpid(), $main, 'the same master');

conf('third');
($code, $out, $err) = run_line("$prefix/sbin/moongate -p $prefix/ -s upgrade");
is($code, 0, 'the README\'s -s upgrade') or diag("$out$err");
ok(wait_for(sub { !proc_alive($main) }, 15), 'the old master is gone');
my $new = mainpid();
ok($new =~ /^\d+$/ && $new ne $main && proc_alive($new), 'PIDFile names the new master');
($status, $head, $body) = embed_request($port, 'GET', '/');
is($body, "third\n", 'the new binary serves (it read the configuration)');

($code, $out, $err) = run_line($unit{ExecStop}, $new);
is($code, 0, 'ExecStop: QUIT to $MAINPID') or diag("$out$err");
ok(wait_for(sub { !proc_alive($new) }, 15), 'the master exits');
ok(!-e $pidf, 'its pid file is gone');
ok(!defined((embed_request($port, 'GET', '/'))[0]), 'nothing listens any more');

done_testing();
