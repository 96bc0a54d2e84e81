# examples/api-gateway as it is, ports and the Lua path aside: signed requests reach the two
# services with the client's key, unsigned or badly signed ones get JSON 401/403, a key past
# its rate gets JSON 429 while another key goes on, an unknown path a JSON 404.
use strict;
use warnings;
use Digest::SHA qw(hmac_sha1_base64);
use File::Path qw(make_path remove_tree);
use Test::More;
use Test::Moongate ();
use Test::MoongateBackend;
use Test::MoongateEmbed qw(embed_start embed_request embed_wait_exit embed_wait_up);

plan skip_all => 'the example names moongate paths' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my $users = backend(users => 'echo');
my $orders = backend(orders => 'echo');
my $port = Test::Moongate::find_free_port();

my $prefix = "$Test::Moongate::ServRoot/example-api-gateway";
remove_tree($prefix);
make_path("$prefix/logs", "$prefix/conf");
my $conf = Test::Moongate::slurp("$root/examples/api-gateway/moongate.conf");
ok($conf =~ s/127\.0\.0\.1:8080/127.0.0.1:$port/ && $conf =~ s/127\.0\.0\.1:9201/127.0.0.1:$users/ &&
   $conf =~ s/127\.0\.0\.1:9202/127.0.0.1:$orders/ &&
   $conf =~ s{"\$prefix/examples/api-gateway/}{"$root/examples/api-gateway/},
   'the example\'s ports and Lua path are where the test expects');
Test::Moongate::spew("$prefix/conf/moongate.conf", $conf);

my $pid = embed_start("$prefix/out", $Test::Moongate::Binary, '-p', "$prefix/", '-c',
                      'conf/moongate.conf', '-g', 'daemon off; master_process off;');
my ($up) = embed_wait_up($port, '/');
ok($up, 'the example serves');

sub signed {
    my ($key, $secret, $path) = @_;
    my $sig = hmac_sha1_base64("GET $path", $secret);
    $sig .= '=' while length($sig) % 4;
    return embed_request($port, 'GET', $path, headers => { Authorization => "HMAC $key:$sig" });
}

my ($status, $head, $body) = embed_request($port, 'GET', '/users/1');
is($status, 401, 'no signature: 401');
is($body, qq({"error":"unauthorized","status":401}\n), 'as JSON');
like($head, qr{^Content-Type: application/json\r?$}m, 'with its type');
($status, $head, $body) = embed_request($port, 'GET', '/users/1',
                                        headers => { Authorization => 'HMAC alice:AAAA' });
is($status, 403, 'a wrong signature: 403');
is($body, qq({"error":"forbidden","status":403}\n), 'as JSON');

($status, $head, $body) = signed('alice', 'alice-secret', '/users/1');
is($status, 200, 'signed: 200');
like($head, qr/^X-Backend: users\r?$/m, '/users/ reaches the users service');
like($body, qr/^X-Api-Key: alice$/m, 'with the client\'s key');
($status, $head, $body) = signed('bob', 'bob-secret', '/orders/7?full=1');
like($head, qr/^X-Backend: orders\r?$/m, '/orders/ reaches the orders service');
($status, $head, $body) = signed('bob', 'bob-secret', '/nothing');
is($status, 404, 'an unknown path: 404');
is($body, qq({"error":"not found","status":404}\n), 'as JSON');

my %seen;
for (1 .. 30) {
    ($status, $head, $body) = signed('alice', 'alice-secret', '/users/2');
    $seen{$status}++;
    last if $status == 429;
}
ok($seen{429}, 'past its rate and burst, a key gets 429');
is($body, qq({"error":"too many requests","status":429}\n), 'as JSON');
($status) = signed('bob', 'bob-secret', '/users/3');
is($status, 200, 'another key is not limited by it');

kill 'TERM', $pid;
is(embed_wait_exit($pid, 10), 0, 'TERM: the server exits');

done_testing();
