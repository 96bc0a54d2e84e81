# examples/tls-site as it is, ports aside (and a self-signed pair made as its README says):
# plain HTTP is redirected to HTTPS with the path and arguments kept; HTTPS serves the site
# over HTTP/2 (ALPN) and HTTP/1.1 with HSTS, on error pages too.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use Test::More;
use Test::Moongate ();
use Test::MoongateEmbed qw(embed_start embed_request embed_wait_exit embed_wait_up);

plan skip_all => 'the example names moongate paths' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $http = Test::Moongate::find_free_port();
my $https;
do { $https = Test::Moongate::find_free_port() } while $https == $http;

my $prefix = "$Test::Moongate::ServRoot/example-tls-site";
remove_tree($prefix);
make_path("$prefix/logs", "$prefix/cert", "$prefix/html");
system("cp $root/examples/tls-site/html/* $prefix/html/ && cp $root/conf/mime.types $prefix/") == 0
    or die "cp: $?";
system("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout $prefix/cert/site.key"
       . " -out $prefix/cert/site.crt -subj /CN=localhost -addext subjectAltName=DNS:localhost"
       . " >/dev/null 2>&1") == 0 or die "openssl: $?";
my $conf = Test::Moongate::slurp("$root/examples/tls-site/moongate.conf");
ok($conf =~ s/127\.0\.0\.1:8080/127.0.0.1:$http/ && $conf =~ s/127\.0\.0\.1:8443/127.0.0.1:$https/
   && $conf =~ s/\$host:8443/\$host:$https/, 'the example\'s ports are where the test expects');
open my $fh, '>', "$prefix/moongate.conf" or die $!;
print $fh $conf;
close $fh;

my $pid = embed_start("$prefix/out", $Test::Moongate::Binary, '-p', "$prefix/", '-c',
                      'moongate.conf', '-g', 'daemon off; master_process off;');
my ($up) = embed_wait_up($https);
ok($up, 'the example serves') or diag(Test::Moongate::slurp("$prefix/logs/error.log") // '');

my ($status, $head) = embed_request($http, 'GET', '/docs/page?x=1');
is($status, 301, 'plain HTTP: 301');
like($head, qr{^Location: https://localhost:$https/docs/page\?x=1\r?$}m,
     'to the same path and arguments over HTTPS');

sub curl {
    my @args = @_;
    my $out = `curl -sk --max-time 10 -D - @args 2>&1`;
    return $out;
}
my $h2 = curl('--http2', "https://localhost:$https/", '--resolve', "localhost:$https:127.0.0.1");
like($h2, qr{\AHTTP/2 200 ?\r?\n}, 'HTTPS over HTTP/2: 200');
like($h2, qr{^strict-transport-security: max-age=31536000\r?$}mi, 'with HSTS');
like($h2, qr{Served over HTTPS\.}, 'the index page');
my $h1 = curl('--http1.1', "https://localhost:$https/", '--resolve', "localhost:$https:127.0.0.1");
like($h1, qr{\AHTTP/1\.1 200 OK\r?\n}, 'HTTP/1.1 still served');
my $nf = curl('--http2', "https://localhost:$https/missing", '--resolve',
              "localhost:$https:127.0.0.1");
like($nf, qr{\AHTTP/2 404 ?\r?\n}, 'a missing page: 404');
like($nf, qr{^strict-transport-security: max-age=31536000\r?$}mi, 'HSTS on the error page too');

kill 'TERM', $pid;
is(embed_wait_exit($pid, 10), 0, 'TERM: the server exits');

done_testing();
