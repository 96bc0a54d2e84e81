# examples/php-fpm as it is, ports aside, against Debian's php8.2-fpm started here: the front
# controller for routes, PATH_INFO, POST bodies, static files without PHP, a missing script
# is a 404 (never run), dot files refused.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use Test::More;
use Test::Moongate ();
use Test::MoongateDaemon;
use Test::MoongateEmbed qw(embed_start embed_request embed_wait_exit embed_wait_up);

plan skip_all => 'the example names moongate paths' if $Test::Moongate::Binary =~ /nginx/;
daemon_skip_unless('php-fpm8.2');

my $root = $Test::Moongate::RepoRoot;
my $fpm = daemon(fpm => php_fpm());
my $port = Test::Moongate::find_free_port();

my $prefix = "$Test::Moongate::ServRoot/example-php";
remove_tree($prefix);
make_path("$prefix/logs");
system("cp -r $root/examples/php-fpm/html $prefix/ && cp $root/conf/mime.types"
       . " $root/conf/fastcgi_params $prefix/") == 0 or die "cp: $?";
my $conf = Test::Moongate::slurp("$root/examples/php-fpm/moongate.conf");
ok($conf =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/ && $conf =~ s/server 127\.0\.0\.1:9000;/server 127.0.0.1:$fpm;/,
   'the example\'s ports are where the test expects');
open my $fh, '>', "$prefix/moongate.conf" or die $!;
print $fh $conf;
close $fh;

my $pid = embed_start("$prefix/out", $Test::Moongate::Binary, '-p', "$prefix/", '-c',
                      'moongate.conf', '-g', 'daemon off; master_process off;');
my ($up) = embed_wait_up($port);
ok($up, 'the example serves') or diag(Test::Moongate::slurp("$prefix/logs/error.log") // '');

my ($status, $head, $body) = embed_request($port, 'GET', '/');
is($status, 200, '/: the index is index.php');
like($body // '', qr/^hello from PHP\nscript: \/index\.php\n/, 'run by php-fpm');

($status, $head, $body) = embed_request($port, 'GET', '/blog/2026/hello?page=2');
is($status, 200, 'a route: 200');
like($body // '', qr{^script: /index\.php\nuri: /blog/2026/hello\?page=2\n}m,
     'the front controller sees the original URI and arguments');

($status, $head, $body) = embed_request($port, 'GET', '/index.php/extra/path');
is($status, 200, '/index.php/extra/path: 200');
like($body // '', qr{^path_info: /extra/path$}m, 'PATH_INFO split off');

($status, $head, $body) = embed_request($port, 'POST', '/index.php', body => 'x' x 100000);
is($status, 200, 'a POST of 100000 bytes');
like($body // '', qr/^method: POST\nbody: 100000 bytes$/m, 'reaches PHP whole');

($status, $head, $body) = embed_request($port, 'GET', '/style.css');
is($status, 200, 'a static file');
like($head, qr{^Content-Type: text/css\r?$}m, 'served directly, with its type');
is($body, "body { font-family: sans-serif; }\n", 'as it is on disk');

($status) = embed_request($port, 'GET', '/style.css/x.php');
is($status, 404, 'a script that is not on disk: 404 (the CSS is not run as PHP)');
($status) = embed_request($port, 'GET', '/missing.php');
is($status, 404, 'a missing script: 404');
($status) = embed_request($port, 'GET', '/.htaccess');
is($status, 403, 'dot files: 403');

kill 'TERM', $pid;
is(embed_wait_exit($pid, 10), 0, 'TERM: the server exits');

done_testing();
