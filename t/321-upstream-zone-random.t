# Upstream extras: server max_conns= (per worker without a zone; a busy peer is skipped, a lone
# one answers 502 "no live upstreams"), random (weighted draws, never a down server), random two
# least_conn (the less busy of two), zone (round robin, fails and connection counts shared by
# the workers), server NAME resolve (re-resolved through the resolver, peers added and removed
# without a reload, with resolver/resolver_timeout inside upstream{}: nginx 1.27.3+, moongate_only
# here), and -t's verdicts on bad arguments.
#
#   prove -I t/lib t/321-upstream-zone-random.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/321-upstream-zone-random.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDNS;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();

backend($_ => 'echo') for qw(a b c);
backend(slow => 'echo', delay => 0.2);
backend(gone => 'refused');

# many.test (TEST 21) is there from the start: a server that asked before an init's dns_set got
# NXDOMAIN and asked again only seconds later
dns_start('pool.test' => { a => ['127.0.0.1'], ttl => 1 },
          'many.test' => { a => [(map { "127.0.0.$_" } 2 .. 30), '127.0.0.1'], ttl => 30 });

# the backend that answered GET $path on a connection of its own
sub who {
    my ($path) = @_;
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $x = Test::Moongate::exchange([$req], 0, ['GET'], 5);
    my ($r) = Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
    return 'none' unless $r;
    return Test::Moongate::header_value($r, 'X-Backend') // $r->{status};
}

sub who_seq { join ' ', map { who($_[0]) } 1 .. $_[1] }

# a request to $path left waiting at the slow backend for 4 s at most (a balancer may send it
# elsewhere: then it is read and sent again); its socket, to be read later with let_go()
sub hold {
    my ($path) = @_;
    for my $try (1 .. 20) {
        backend_log_clear($_) for qw(slow a b c);
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                      Proto => 'tcp', Timeout => 3) or die "connect: $!";
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                 . "X-Echo-Delay: 4\r\n\r\n";
        my $sel = IO::Select->new($s);
        for (1 .. 100) {
            return $s if backend_log('slow') >= 1;
            # it went elsewhere (and is held there as long: let it go)
            last if $sel->can_read(0.05) || grep { backend_log($_) } qw(a b c);
        }
        let_go($s, qw(a b c));
    }
    die "no request reached the slow backend\n";
}

# the upstream address (X-Up) GET /t went to on a connection of its own; 'none' without an answer
sub up_addr {
    my $req = "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $x = Test::Moongate::exchange([$req], 0, ['GET'], 5);
    my ($r) = Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
    return ($r && Test::Moongate::header_value($r, 'X-Up')) // 'none';
}

# the upstream address a request went to, once it is $want (5 s at most)
sub up_until {
    my $want = shift;
    my $got = '';
    for (1 .. 50) {
        $got = up_addr();
        return $got if $got eq $want;
        Time::HiRes::sleep(0.1);
    }
    return $got;
}

# $check->()'s results, got while a request to $path was held at the slow backend, and the
# held request's status: a check that ended after the held request was answered says nothing
# about a busy server (a loaded machine), so it runs again then, 5 times at most
sub while_held {
    my ($path, $check) = @_;
    my @r;
    for my $try (1 .. 5) {
        my $s = hold($path);
        @r = $check->();
        my $busy = !IO::Select->new($s)->can_read(0);
        push @r, let_go($s, 'slow');
        last if $busy;
        Test::More::diag("the held request was answered before the check ended: again");
    }
    return @r;
}

# finish() of a held request once the backends named let it go (a release sent before the
# backend began its delay is lost: it is sent again until the answer comes, 5 s at most)
sub let_go {
    my ($s, @names) = @_;
    my $sel = IO::Select->new($s);
    for (1 .. 100) {
        backend_release($_) for @names;
        last if $sel->can_read(0.05);
    }
    return finish($s);
}

sub finish { my $s = shift; local $/; my $r = <$s>; close $s; ($r // '') =~ m{^HTTP/1\.\d (\d+)} ? $1 : 'none' }

log_level('info');

run_tests();

__DATA__

=== TEST 1: max_conns=1 on a lone server: while one request is in flight, the next gets 502
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_SLOW_PORT max_conns=1;
    }
--- config
    location /t { proxy_pass http://u; }
    location /fast { return 200 "fast\n"; }
--- init
my ($second, $first) = main::while_held('/t', sub { main::who('/t') });
Test::More::is($second, 502, 'TEST 1: the second request is refused');
Test::More::is($first, 200, 'TEST 1: the first one is answered');
--- request
GET /t
--- response_headers
X-Backend: slow
--- error_log
no live upstreams while connecting to upstream



=== TEST 2: max_conns=1: a busy server is skipped while the other takes the requests
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_SLOW_PORT max_conns=1;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
my ($seq, $held) = main::while_held('/t', sub { main::who_seq('/t', 3) });
Test::More::is($seq, 'b b b', 'TEST 2: b while slow is busy');
Test::More::is($held, 200, 'TEST 2: the held request is answered');
--- request
GET /t
--- response_headers_like
X-Backend: slow|b



=== TEST 3: random: both servers get requests, a down one never does
--- http_config
    upstream u {
        random;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT down;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
my %n;
$n{ main::who('/t') }++ for 1 .. 40;
Test::More::ok($n{a} && $n{b}, "TEST 3: a and b both chosen (a=" . ($n{a} // 0) . " b=" . ($n{b} // 0) . ")");
Test::More::ok(!$n{c}, 'TEST 3: c (down) never');
--- request
GET /t
--- response_headers_like
X-Backend: a|b



=== TEST 4: random with a weight: the heavy server gets most requests
--- http_config
    upstream u {
        random;
        server 127.0.0.1:$TEST_NGINX_A_PORT weight=20;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
my %n;
$n{ main::who('/t') }++ for 1 .. 40;
Test::More::cmp_ok($n{a} // 0, '>=', 28, "TEST 4: a chosen most often (a=" . ($n{a} // 0) . ")");
--- request
GET /t
--- response_headers_like
X-Backend: a|b



=== TEST 5: random two least_conn: the less busy of the two
--- http_config
    upstream u {
        random two least_conn;
        server 127.0.0.1:$TEST_NGINX_SLOW_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
my ($seq) = main::while_held('/t', sub { main::who_seq('/t', 4) });
Test::More::is($seq, 'b b b b', 'TEST 5: b while slow is busy');
--- request
GET /t
--- response_headers_like
X-Backend: slow|b



=== TEST 6: random with a failed server: the request goes to the other, which then takes all
--- http_config
    upstream u {
        random two;
        server 127.0.0.1:$TEST_NGINX_GONE_PORT max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
Test::More::is(main::who_seq('/t', 6), 'a a a a a a', 'TEST 6: a every time');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 7: zone: round robin over two workers alternates as one
--- main_config
    worker_processes 2;
    master_process on;
--- http_config
    upstream u {
        zone u_zone 64k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- init
my $first = main::who('/t');
my $seq = main::who_seq('/t', 8);
my $want = $first eq 'a' ? 'b a b a b a b a' : 'a b a b a b a b';
Test::More::is($seq, $want, 'TEST 7: strict alternation across the workers');
--- request
GET /t
--- response_headers_like
X-Backend: a|b



=== TEST 8: zone: a server marked failed in one worker is skipped by every worker
--- main_config
    worker_processes 2;
    master_process on;
--- http_config
    log_format up '$upstream_addr';
    upstream u {
        zone u_zone 64k;
        server 127.0.0.1:$TEST_NGINX_GONE_PORT max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { access_log logs/up.log up; proxy_pass http://u; }
--- init
Test::More::is(main::who_seq('/t', 10), join(' ', ('a') x 10), 'TEST 8: answered by a');
my @l = logged_lines('up.log', 10);
my $gone = grep { /127\.0\.0\.1:$Test::MoongateBackend::Port{gone}/ } @l;
Test::More::is($gone, 1, 'TEST 8: the refused server tried once in all');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 9: two upstreams in one zone, the size given once
--- http_config
    upstream u {
        zone shared 64k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
    upstream v {
        zone shared;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
    location /v { proxy_pass http://v; }
--- request eval
["GET /t", "GET /v"]
--- response_headers eval
["X-Backend: a", "X-Backend: b"]



=== TEST 10: a zone named without a size anywhere
--- http_config
    upstream u {
        zone nosize;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t { proxy_pass http://u; }
--- must_die
--- error_log
zero size shared memory zone "nosize"



=== TEST 11: a bad zone size
--- http_config
    upstream u {
        zone z abc;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- must_die
--- error_log eval
qr/invalid zone size "abc" in \S+\.conf:\d+/



=== TEST 12: a zone too small
--- http_config
    upstream u {
        zone z 1k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- must_die
--- error_log eval
qr/zone "z" is too small in \S+\.conf:\d+/



=== TEST 13: random with a bad parameter
--- http_config
    upstream u {
        random three;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- must_die
--- error_log eval
qr/invalid parameter "three" in \S+\.conf:\d+/



=== TEST 14: random does not take backup servers
--- http_config
    upstream u {
        random;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT backup;
    }
--- must_die
--- error_log eval
qr/balancing method does not support parameter "backup" in \S+\.conf:\d+/



=== TEST 15: a bad max_conns
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT max_conns=abc;
    }
--- must_die
--- error_log eval
qr/invalid parameter "max_conns=abc" in \S+\.conf:\d+/



=== TEST 16: server NAME resolve: the name's addresses follow the DNS without a reload
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
    upstream u {
        zone dyn 64k;
        server pool.test:$TEST_NGINX_A_PORT resolve;
    }
--- config
    location /t {
        add_header X-Up $upstream_addr always;
        proxy_pass http://u;
    }
--- init
dns_set('pool.test' => { a => ['127.0.0.1'], ttl => 1 });
my $a = "127.0.0.1:$Test::MoongateBackend::Port{a}";
my $moved = "127.0.0.2:$Test::MoongateBackend::Port{a}";
Test::More::is(main::up_until($a), $a, 'TEST 16: first the address the DNS gave');
dns_set('pool.test' => { a => ['127.0.0.2'], ttl => 1 });
Test::More::is(main::up_until($moved), $moved, 'TEST 16: then the new one, the old one gone');
dns_set('pool.test' => { a => ['127.0.0.1'], ttl => 1 });
Test::More::is(main::up_until($a), $a, 'TEST 16: and back');
--- request
GET /t
--- response_headers
X-Backend: a
--- moongate_only



=== TEST 17: resolve needs the group in a zone
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
    upstream u {
        server pool.test:$TEST_NGINX_A_PORT resolve;
    }
--- config
    location /t { proxy_pass http://u; }
--- must_die
--- error_log eval
qr/resolving names at run time requires upstream "u" in \S+\.conf:\d+ to be in shared memory/
--- moongate_only



=== TEST 18: resolve needs a resolver
--- http_config
    upstream u {
        zone dyn 64k;
        server pool.test:$TEST_NGINX_A_PORT resolve;
    }
--- config
    location /t { proxy_pass http://u; }
--- must_die
--- error_log eval
qr/no resolver defined to resolve pool\.test in \S+\.conf:\d+/
--- moongate_only



=== TEST 19: resolver inside upstream{} (nginx 1.27.3+) wins over http{}'s
--- http_config
    resolver 127.0.0.1:1 ipv6=off;
    upstream u {
        zone dyn 64k;
        resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
        resolver_timeout 2s;
        server pool.test:$TEST_NGINX_A_PORT resolve;
    }
--- config
    location /t {
        add_header X-Up $upstream_addr always;
        proxy_pass http://u;
    }
--- init
dns_set('pool.test' => { a => ['127.0.0.1'], ttl => 1 });
my $a = "127.0.0.1:$Test::MoongateBackend::Port{a}";
Test::More::is(main::up_until($a), $a, 'TEST 19: resolved through the upstream{} resolver');
--- request
GET /t
--- response_headers
X-Backend: a
--- moongate_only



=== TEST 20: hash consistent: a resolve server has its share of the ring from the start
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
    upstream u {
        zone dyn 64k;
        hash $arg_k consistent;
        server pool.test:$TEST_NGINX_B_PORT resolve;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t {
        add_header X-Up $upstream_addr always;
        proxy_pass http://u;
    }
--- init
dns_set('pool.test' => { a => ['127.0.0.1'], ttl => 1 });
my $b = "127.0.0.1:$Test::MoongateBackend::Port{b}";
# wait for the name's address (a key that lands on it may fall back to a until then)
for (1 .. 50) {
    last if grep { main::who("/t?k=$_") eq 'b' } 1 .. 20;
    Time::HiRes::sleep(0.1);
}
my %by = map { $_ => main::who("/t?k=$_") } 1 .. 40;
my %n;
$n{$_}++ for values %by;
Test::More::ok(($n{a} // 0) >= 5 && ($n{b} // 0) >= 5,
               "TEST 20: keys spread over both servers (a: " . ($n{a} // 0) . ", b: " . ($n{b} // 0) . ")");
my @moved = grep { main::who("/t?k=$_") ne $by{$_} } 1 .. 40;
Test::More::is("@moved", '', 'TEST 20: each key stays on its server');
--- request
GET /t?k=1
--- error_code: 200
--- moongate_only



=== TEST 21: a resolve name with 30 addresses (a full UDP answer): every one is a peer, the last too
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    upstream u {
        zone dyn 64k;
        server many.test:$TEST_NGINX_A_PORT resolve;
    }
--- config
    location /t {
        add_header X-Up $upstream_addr always;
        proxy_pass http://u;
    }
--- init
# nothing listens on 127.0.0.2-30 (many.test's addresses, see dns_start): a request moves
# through them to the last address
# the worker's first answer may come late (ASan): up to 20 s
my ($a, $got) = ("127.0.0.1:$Test::MoongateBackend::Port{a}", '');
for (1 .. 200) {
    $got = main::who('/t');
    last if $got eq 'a';
    Time::HiRes::sleep(0.1);
}
Test::More::is($got, 'a', 'TEST 21: the 30th address serves');
--- request
GET /t
--- response_headers
X-Backend: a
--- moongate_only



=== TEST 22: four workers: one of them asks the DNS for the name, all use the answer at once
--- main_config
    worker_processes 4;
    master_process on;
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    upstream u {
        zone dyn 64k;
        server pool.test:$TEST_NGINX_A_PORT resolve;
    }
--- config
    location /t {
        add_header X-Up $upstream_addr always;
        proxy_pass http://u;
    }
--- init
dns_set('pool.test' => { a => ['127.0.0.1'], ttl => 1 });
my $a = "127.0.0.1:$Test::MoongateBackend::Port{a}";
my $moved = "127.0.0.2:$Test::MoongateBackend::Port{a}";
my $got = '';
for (1 .. 4) { $got = main::up_until($a); last if $got eq $a }
Test::More::is($got, $a, 'TEST 22: the address the DNS gave');
# a TTL of 1 s: one question a second for the whole server, not one per worker (8 or more in
# 2 s). The most in a fixed 2 s (a stalled server asks less, never more); then the least, waited
# for: 7 within 12 s of the clear (about 7 s; a stalled server's questions come late, so the
# bound is wide), where asking every other TTL, as the worker did when it read its loop's stale
# clock and found the answer still fresh, takes 12 s or more
dns_queries_clear();
my $t0 = Time::HiRes::time();
Time::HiRes::sleep(2);
my $queries = sub { scalar grep { /^pool\.test A$/i } dns_queries() };
my $n = $queries->();
Test::More::ok($n <= 5, "TEST 22: $n questions in 2 s from 4 workers");
Time::HiRes::sleep(0.05) while $queries->() < 7 && Time::HiRes::time() < $t0 + 12;
my $ok = $queries->() >= 7;
Test::More::ok($ok, sprintf('TEST 22: one question a TTL: %d in %.1f s', $queries->(),
                            Time::HiRes::time() - $t0));
# once one request saw the new address, every worker uses it
dns_set('pool.test' => { a => ['127.0.0.2'], ttl => 1 });
Test::More::is(main::up_until($moved), $moved, 'TEST 22: the new address');
my @ups = map { main::up_addr() } 1 .. 12;
# (the new address refuses connections: then the group has no live peer, "u")
Test::More::is(join(' ', grep { $_ ne $moved && $_ ne 'u' } @ups), '',
               'TEST 22: no worker goes back to the old one');
--- request
GET /t
--- error_code: 502
--- moongate_only
