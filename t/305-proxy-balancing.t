# Balancing among the servers of an upstream{} block: round robin (even,
# smooth weighted), backup, least_conn with a busy peer, hash KEY and hash
# KEY consistent (stable, and only a removed peer's keys move), ip_hash.
# Backends name themselves in X-Backend; one worker, so the order is nginx's
# exactly.
#
#   prove -I t/lib t/305-proxy-balancing.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/305-proxy-balancing.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend($_ => 'echo') for qw(a b c);
backend(gone  => 'refused');
backend(gone2 => 'refused');

# the backend that answered GET $path on a connection of its own
sub who {
    my ($path, $headers) = @_;
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" . ($headers // '') . "\r\n";
    my $x = Test::Moongate::exchange([$req], 0, ['GET'], 3);
    my ($r) = Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
    return ($r && Test::Moongate::header_value($r, 'X-Backend')) // 'none';
}

sub who_seq { join ' ', map { who($_[0]) } 1 .. $_[1] }

our @Keys = map { "k$_" } 1 .. 30;

log_level('info');

run_tests();

__DATA__

=== TEST 1: round robin, equal weights: strict alternation, first server first
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
Test::More::is(main::who_seq('/t', 6), 'a b a b a b', 'TEST 1: a b a b a b');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 2: three servers, equal weights
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
Test::More::is(main::who_seq('/t', 9), 'a b c a b c a b c', 'TEST 2: a b c, three times');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 3: weight=3 and 1: smooth weighted round robin
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT weight=3;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
Test::More::is(main::who_seq('/t', 8), 'a a b a a a b a', 'TEST 3: a a b a, twice');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 4: weights 5, 1, 1: nginx's documented smooth order
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT weight=5;
        server 127.0.0.1:$TEST_NGINX_B_PORT weight=1;
        server 127.0.0.1:$TEST_NGINX_C_PORT weight=1;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
Test::More::is(main::who_seq('/t', 14), 'a a b a c a a a a b a c a a', 'TEST 4: a a b a c a a, twice');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 5: backup servers are not used while a primary works
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT backup;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
Test::More::is(main::who_seq('/t', 6), 'a b a b a b', 'TEST 5: no c');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 6: backup takes over when every primary fails
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_GONE2_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT backup;
    }
--- config
    location /t { proxy_pass http://u; }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_headers eval
[("X-Backend: c") x 3]
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 7: least_conn: while one peer holds a slow request the others get the new ones
--- http_config
    upstream u {
        least_conn;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
    upstream rr {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
    location /rr { proxy_pass http://rr; }
--- init
for my $loc ('/t', '/rr') {
    backend_log_clear($_) for qw(a b);
    my $s = client_connect();
    client_send($s, "GET $loc HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Echo-Delay: 20\r\n\r\n");
    # the others only once a backend has the slow one (its peer chosen and busy): a fixed
    # 0.2 s let a loaded machine send them before the server had read it; and the slow one
    # stays busy until they are answered (released then): a 1 s delay could end before a
    # loaded machine had answered the four
    my $deadline = Time::HiRes::time() + 10;
    Time::HiRes::sleep(0.01)
        until grep({ $_->[3] eq $loc } map { backend_log($_) } qw(a b)) || Time::HiRes::time() > $deadline;
    my $quick = main::who_seq($loc, 4);
    backend_release($_) for qw(a b);
    my ($slow) = client_read($s, undef, 10) =~ /\r\nX-Backend: (\w+)\r\n/;
    if ($loc eq '/t') {
        Test::More::is($slow, 'a', 'TEST 7: least_conn: the slow request went to the first');
        Test::More::is($quick, 'b b b b', 'TEST 7: least_conn: the others to the idle one');
    } else {
        Test::More::is($quick, 'b a b a', 'TEST 7: round robin alternates regardless');
    }
}
--- request
GET /t
--- response_headers_like
X-Backend: [ab]



=== TEST 8: least_conn with equal load is round robin
--- http_config
    upstream u {
        least_conn;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
Test::More::is(main::who_seq('/t', 6), 'a b c a b c', 'TEST 8: a b c a b c');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 9: hash $arg_x: a key always goes to the same peer, the keys spread over all
--- http_config
    upstream u {
        hash $arg_x;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
my %first = map { $_ => main::who("/t?x=$_") } @main::Keys;
my @moved = grep { main::who("/t?x=$_") ne $first{$_} } reverse @main::Keys;
Test::More::is("@moved", '', 'TEST 9: every key stays on its peer');
my %n;
$n{$_}++ for values %first;
Test::More::is(join(' ', sort keys %n), 'a b c', 'TEST 9: every peer gets keys');
--- request
GET /t?x=k1
--- response_headers_like
X-Backend: [abc]



=== TEST 10: hash $arg_x consistent: stable; a peer marked down moves only its own keys
--- http_config
    upstream u {
        hash $arg_x consistent;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT;
    }
    upstream less {
        hash $arg_x consistent;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT down;
    }
--- config
    location /t { proxy_pass http://u; }
    location /less { proxy_pass http://less; }
--- init
my %all = map { $_ => main::who("/t?x=$_") } @main::Keys;
my @moved = grep { main::who("/t?x=$_") ne $all{$_} } @main::Keys;
Test::More::is("@moved", '', 'TEST 10: every key stays on its peer');
my %n;
$n{$_}++ for values %all;
Test::More::is(join(' ', sort keys %n), 'a b c', 'TEST 10: every peer gets keys');
my %less = map { $_ => main::who("/less?x=$_") } @main::Keys;
my @bad = grep { $all{$_} ne 'c' && $less{$_} ne $all{$_} } @main::Keys;
Test::More::is("@bad", '', "TEST 10: the keys of a and b stay where they were");
my @to = grep { $all{$_} eq 'c' && $less{$_} !~ /^[ab]\z/ } @main::Keys;
Test::More::is("@to", '', "TEST 10: c's keys go to a or b");
--- request
GET /t?x=k1
--- response_headers_like
X-Backend: [abc]



=== TEST 11: hash: a key whose peer is refused goes on to another peer
--- http_config
    upstream u {
        hash $arg_x;
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
my @bad = grep { main::who("/t?x=$_") ne 'a' } @main::Keys[0 .. 9];
Test::More::is("@bad", '', 'TEST 11: every key answered by a');
--- request
GET /t?x=k1
--- response_headers
X-Backend: a



=== TEST 12: ip_hash: every request from 127.0.0.1 goes to the same peer
--- http_config
    upstream u {
        ip_hash;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
my %n;
$n{ main::who("/t?x=$_") }++ for 1 .. 8;
Test::More::is(scalar(keys %n), 1, 'TEST 12: one peer for all: ' . join(' ', %n));
--- request
GET /t
--- response_headers_like
X-Backend: [abc]



=== TEST 13: ip_hash: when the client's peer is down, another one serves it
--- http_config
    upstream u {
        ip_hash;
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_GONE2_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_headers eval
[("X-Backend: a") x 3]
