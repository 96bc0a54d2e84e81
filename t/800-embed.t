# examples/embed against the installed library: `make install` into a scratch PREFIX puts the
# header, the libraries and moongate.pc there; the example's Makefile builds with pkg-config
# alone; the program answers /hello from C and /lua from Lua, reloads on HUP through the API
# and exits cleanly on TERM. `make uninstall` removes what install put there.
use strict;
use warnings;
use Test::More;
use Test::Moongate ();
use Test::MoongateEmbed;

plan skip_all => 'the embedding API is moongate\'s' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $dir = "$Test::Moongate::ServRoot/embed";
my $prefix = embed_install($dir);

for my $f ('include/moongate.h', 'lib/libmoongate.a', 'lib/libmoongate.so',
           'lib/pkgconfig/moongate.pc', 'sbin/moongate') {
    ok(-e "$prefix/$f", "make install put $f there");
}
my @headers = glob "$prefix/include/*";
is(scalar @headers, 1, 'only the public header is installed');
like(Test::Moongate::slurp("$prefix/lib/pkgconfig/moongate.pc"), qr/^prefix=\Q$prefix\E$/m,
     'moongate.pc names the PREFIX');

my ($code, $out) = embed_build($prefix, "$root/examples/embed", "$dir/build");
is($code, 0, 'the example builds with pkg-config') or diag($out);

my $run = "$dir/run";
mkdir $run;
mkdir "$run/logs";
my $port = Test::Moongate::find_free_port();
my $log = "$dir/out";
my $pid = embed_start($log, "$dir/build/embed", $port, $run);
like(embed_wait_output($log, qr/serving on port/), qr/embed: moongate 0\.1\.0 serving on port $port/,
     'the program started its server');

my ($status, $head, $body) = embed_request($port, 'GET', '/hello');
is($status, 200, '/hello: 200');
is($body, "hello from C\n", '/hello: the C handler answers');
like($head, qr/^Content-Type: text\/plain\r?$/mi, '/hello: the handler\'s Content-Type');
($status, $head, $body) = embed_request($port, 'GET', '/lua');
is($status, 200, '/lua: 200');
is($body, "hello from Lua\n", '/lua: the Lua module registered from C answers');
($status, $head, $body) = embed_request($port, 'GET', '/version');
is($body, "0.1.0\n", 'a C function registered as a Lua module is callable from Lua');

kill 'HUP', $pid;
like(embed_wait_output($log, qr/reloaded|reload failed/), qr/embed: reloaded/,
     'HUP: the reload through the API succeeded');
like(Test::Moongate::slurp("$run/logs/error.log"), qr/\[notice\] \d+#\d+: reconfiguring/,
     'the reload is in the error log');
($status, $head, $body) = embed_request($port, 'GET', '/hello');
is($body, "hello from C\n", '/hello after the reload');
($status, $head, $body) = embed_request($port, 'GET', '/lua');
is($body, "hello from Lua\n", '/lua after the reload (a new VM has the module too)');

kill 'TERM', $pid;
is(embed_wait_exit($pid, 10), 0, 'TERM: the program exits with 0');
like(Test::Moongate::slurp($log), qr/embed: stopped\n\z/, 'it stopped through the API');
ok(!defined((embed_request($port, 'GET', '/hello'))[0]), 'nothing listens any more');

my ($ucode, $uout, $uerr) = Test::Moongate::run_cmd('make', '-s', '-C', $root, 'uninstall',
                                                    "PREFIX=$prefix");
is($ucode, 0, 'make uninstall') or diag("$uout$uerr");
ok(!-e "$prefix/$_", "make uninstall removed $_")
    for 'include/moongate.h', 'lib/libmoongate.a', 'lib/libmoongate.so', 'lib/libmoongate.so.0',
        'lib/pkgconfig/moongate.pc', 'sbin/moongate';

done_testing();
