# examples/static-site as it is, its port and paths aside: the index page with five minutes'
# expires, an asset with a week's and gzip'ed (Vary), a missing path answered with the custom
# 404 page (internal: not served by its own name), an access log line in JSON per request.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use JSON::PP ();
use Test::More;
use Test::Moongate ();
use Test::MoongateEmbed qw(embed_start embed_request embed_wait_exit embed_wait_up);

plan skip_all => 'the example names moongate paths' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $bin = $Test::Moongate::Binary;
my $port = Test::Moongate::find_free_port();

my $prefix = "$Test::Moongate::ServRoot/example-static-site";
remove_tree($prefix);
make_path("$prefix/logs", "$prefix/conf", "$prefix/html");
chmod 0755, $prefix, "$prefix/logs", "$prefix/conf", "$prefix/html";
my $conf = Test::Moongate::slurp("$root/examples/static-site/moongate.conf");
ok($conf =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/ && $conf =~ s{\.\./\.\./conf/mime\.types}{$root/conf/mime.types},
   'the example\'s port and mime.types are where the test expects');
Test::Moongate::spew("$prefix/conf/moongate.conf", $conf);
Test::Moongate::spew("$prefix/html/index.html", "<h1>home</h1>\n");
Test::Moongate::spew("$prefix/html/404.html", "<h1>not here</h1>\n");
my $css = join('', map { "p.c$_ { margin: ${_}px; }\n" } 1 .. 40);
Test::Moongate::spew("$prefix/html/site.css", $css);

my $pid = embed_start("$prefix/out", $bin, '-p', "$prefix/", '-c', 'conf/moongate.conf', '-g',
                      'daemon off;');
my ($st, $head, $body) = embed_wait_up($port, '/');
is($st, 200, 'the example serves the index');
is($body, "<h1>home</h1>\n", '... index.html');
like($head, qr/^Cache-Control: max-age=300\r?$/mi, 'a page: five minutes');
like($head, qr/^Expires: /mi, '... and Expires');

# HTTP/1.1: gzip_http_version's default leaves 1.0 requests alone
{
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
        or die "connect: $!";
    print $c "GET /site.css HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n"
        . "Connection: close\r\n\r\n";
    local $/;
    my $resp = <$c> // '';
    ($head, $body) = split /\r\n\r\n/, $resp, 2;
    ($st) = $head =~ m{^HTTP/1\.1 (\d+)};
}
is($st, 200, 'an asset');
like($head, qr/^Cache-Control: max-age=604800\r?$/mi, '... a week');
like($head, qr/^Content-Encoding: gzip\r?$/mi, '... gzip\'ed');
like($head, qr/^Vary: Accept-Encoding\r?$/mi, '... with Vary');
like($head, qr/^Content-Type: text\/css\r?$/mi, '... as text/css (the shipped mime.types)');

($st, $head, $body) = embed_request($port, 'GET', '/nowhere.html');
is($st, 404, 'a missing page: 404');
is($body, "<h1>not here</h1>\n", '... with the custom page');
($st) = embed_request($port, 'GET', '/404.html');
is($st, 404, 'the 404 page is internal');

kill 'QUIT', $pid;
is(embed_wait_exit($pid, 15), 0, 'QUIT: the server exits (the access log flushed)');
my @lines = grep { length } split /\n/, Test::Moongate::slurp("$prefix/logs/access.log");
my @logged = map { my $j = eval { JSON::PP::decode_json($_) }; $j ? "$j->{request} $j->{status}" : "bad: $_" } @lines;
# each worker flushes its own buffer: in no particular order
is(join("\n", sort @logged), join("\n", 'GET / HTTP/1.0 200', 'GET /404.html HTTP/1.0 404',
                                   'GET /nowhere.html HTTP/1.0 404', 'GET /site.css HTTP/1.1 200'),
   'one JSON access log line per request');
done_testing();
