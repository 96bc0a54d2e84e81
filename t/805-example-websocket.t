# examples/websocket-proxy as it is, ports aside: a plain request reaches the app (with no
# "Connection: upgrade"), /ws/ upgrades to a tunnel that carries bytes both ways.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use Test::More;
use Test::Moongate ();
use Test::MoongateRaw;
use Test::MoongateBackend;
use Test::MoongateEmbed qw(embed_start embed_request embed_wait_exit embed_wait_up);

plan skip_all => 'the example names moongate paths' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $ws = backend(ws => 'websocket');
my $app = backend(app => 'echo');
my $port = Test::Moongate::find_free_port();

my $prefix = "$Test::Moongate::ServRoot/example-websocket";
remove_tree($prefix);
make_path("$prefix/logs", "$prefix/conf");
my $conf = Test::Moongate::slurp("$root/examples/websocket-proxy/moongate.conf");
ok($conf =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/ && $conf =~ s/127\.0\.0\.1:9001/127.0.0.1:$ws/ &&
   $conf =~ s/127\.0\.0\.1:9002/127.0.0.1:$app/, 'the example\'s ports are where the test expects');
open my $fh, '>', "$prefix/conf/moongate.conf" or die $!;
print $fh $conf;
close $fh;

my $pid = embed_start("$prefix/out", $Test::Moongate::Binary, '-p', "$prefix/", '-c',
                      'conf/moongate.conf', '-g', 'daemon off; master_process off;');
my ($up) = embed_wait_up($port);
ok($up, 'the example serves');

my ($status, $head, $body) = embed_request($port, 'GET', '/page');
is($status, 200, 'a plain request: 200 from the app');
like($head, qr/^X-Backend: app\r?$/m, 'the app answered');
like($body, qr{^GET /page HTTP/1\.1$}m, 'over HTTP/1.1');
unlike($body, qr/^Connection: upgrade$/mi, 'without Connection: upgrade');

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5);
print $s "GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
my $got = read_until($s, qr/\r\n\r\n.*hello\n/s, 5);
like($got, qr{\AHTTP/1\.1 101 Switching Protocols\r\n}, '/ws/: 101');
like($got, qr{\r\nUpgrade: websocket\r\n}i, 'Upgrade: websocket');
like($got, qr{\r\n\r\nhello\n\z}, 'the WebSocket server speaks first through the tunnel');
print $s "ping\n";
is(read_until($s, qr/ping\n/, 5), "ping\n", 'and echoes what the client sends');
close $s;

kill 'TERM', $pid;
is(embed_wait_exit($pid, 10), 0, 'TERM: the server exits');

done_testing();
