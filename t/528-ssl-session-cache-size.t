# The shared session cache (ssl_session_cache shared:NAME:SIZE) keeps each session in a node of
# its own serialized length, up to nginx's 4096 bytes: a session that carries the client's
# certificate (ssl_verify_client; an RSA-4096 one makes the session over 1.5 KB) resumes
# through the cache as in nginx.
#
#   prove -I t/lib t/528-ssl-session-cache-size.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/528-ssl-session-cache-size.t
use Test::Moongate;
use Test::Moongate::Certs qw(issue);

my $dir = Test::Moongate::Certs::make();
$ENV{TEST_NGINX_CA} = "$dir/ca.crt";
# a client certificate with an RSA-4096 key, signed by the test CA
my $big = "$dir/client4096-$$";
END { unlink map { "$big.$_" } qw(key csr crt) if $big }
issue($big, 'big', "$dir/ca", '0x5281', key => '-newkey rsa:4096');
$ENV{TEST_NGINX_CLIENT} = $big;

sub s_client {
    my $args = shift;
    my $port = $Test::Moongate::ServerPort;
    return scalar `timeout 10 openssl s_client -connect 127.0.0.1:$port $args < /dev/null 2>&1`;
}

run_tests();

__DATA__

=== TEST 1: a session with the client's certificate resumes through the shared cache
--- ssl
--- http_config
    ssl_session_cache shared:SSL:1m;
    ssl_session_tickets off;
--- config
    ssl_protocols TLSv1.2;
    ssl_verify_client optional;
    ssl_client_certificate $TEST_NGINX_CA;
    location / { return 200 "$ssl_session_reused\n"; }
--- init
my $sess = "$Test::Moongate::ServRoot/sess528.pem";
my $cert = "-cert $ENV{TEST_NGINX_CLIENT}.crt -key $ENV{TEST_NGINX_CLIENT}.key";
my $first = main::s_client("-servername localhost $cert -sess_out $sess");
Test::More::like($first, qr/^New, TLSv1\.2/m, "a new session");
my $reused = 0;
for (1 .. 3) {
    $reused++ if main::s_client("-servername localhost $cert -sess_in $sess") =~ /^Reused, TLSv1\.2/m;
}
Test::More::is($reused, 3, "resumed 3 times out of 3");
--- request
GET /
--- response_body
.

