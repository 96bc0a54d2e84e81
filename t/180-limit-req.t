# limit_req (ngx_http_limit_req_module): the leaky bucket in milli-requests (burst, nodelay,
# delay=, the excess in the log lines), $limit_req_status, several limits on one level,
# inheritance, keys that are empty or too long, dry_run, limit_req_status and
# limit_req_log_level, delays served by a timer (other requests go on meanwhile, a client that
# leaves is noticed), once per client request, LRU eviction and a zone too small for a key
# ("could not allocate node" and 503), and nginx's configuration errors. Rates of 1r/m keep
# the buckets from draining noticeably while a block runs (16 milli-requests a second).
#
#   prove -I t/lib t/180-limit-req.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/180-limit-req.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();

plan 'no_plan';

sub connect_one {
    my $s = IO::Socket::INET->new(PeerAddr => $Test::Moongate::ServerAddr,
                                  PeerPort => $Test::Moongate::ServerPort, Timeout => 3);
    return $s || die "connect: $!\n";
}

# One request on a new connection: (status, headers text, seconds it took).
sub get {
    my ($path, $timeout) = @_;
    my $t0 = Time::HiRes::time();
    my $s = connect_one();
    syswrite($s, "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my $got = read_all($s, $timeout // 5);
    my ($status) = $got =~ m{^HTTP/1\.1 (\d+)};
    return ($status // '', $got, Time::HiRes::time() - $t0);
}

sub read_all {
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $got = '';
    my $deadline = Time::HiRes::time() + $timeout;
    for (;;) {
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $got .= $buf;
    }
    return $got;
}

run_tests();

__DATA__

=== TEST 1: burst=2 nodelay: three requests pass at once, the fourth is rejected with 503 and nginx's line
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    add_header X-LR "[$limit_req_status]" always;
    location /t { limit_req zone=one burst=2 nodelay; }
--- user_files
>>> t
ok
--- request eval
["GET /t?k=a", "GET /t?k=a", "GET /t?k=a", "GET /t?k=a", "GET /t?k=b"]
--- error_code eval
[200, 200, 200, 503, 200]
--- response_headers eval
["X-LR: [PASSED]", "X-LR: [PASSED]", "X-LR: [PASSED]", "X-LR: [REJECTED]", "X-LR: [PASSED]"]
--- error_log eval
qr/\[error\] .*limiting requests, excess: [23]\.\d{3} by zone "one", client: 127\.0\.0\.1, server: localhost, request: "GET \/t\?k=a HTTP\/1\.1"/



=== TEST 2: no burst: the second request of a key is rejected; other keys are not
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t { limit_req zone=one; }
--- user_files
>>> t
ok
--- request eval
["GET /t?k=a", "GET /t?k=b", "GET /t?k=a", "GET /t?k=c", "GET /t?k=b"]
--- error_code eval
[200, 200, 503, 200, 503]
--- error_log eval
qr/limiting requests, excess: (1\.000|0\.9\d\d) by zone "one"/



=== TEST 3: an empty key is not limited, and $limit_req_status stays empty
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    add_header X-LR "[$limit_req_status]" always;
    location /t { limit_req zone=one; }
--- user_files
>>> t
ok
--- request eval
["GET /t", "GET /t", "GET /t?k=", "GET /t?x=1"]
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-LR: []", "X-LR: []", "X-LR: []", "X-LR: []"]
--- no_error_log
limiting requests



=== TEST 4: delayed: the second request waits for its excess to drain (a timer), [warn] one level below error
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/s;
--- config
    root $TEST_NGINX_HTML_DIR;
    add_header X-LR "[$limit_req_status]" always;
    location /t { limit_req zone=one burst=5; }
--- user_files
>>> t
ok
--- init
my ($s1) = main::get("/t?k=a");
my ($s2, $h2, $took) = main::get("/t?k=a");
Test::More::is($s2, 200, "the delayed request is answered");
Test::More::like($h2, qr/X-LR: \[DELAYED\]/, "as DELAYED");
# an excess just under one request at 1r/s: up to 1 s (not 10r/s, nor 2r/s: a loaded machine
# can take 100 ms, or a few hundred, between two requests, and the second would not wait long
# enough); the excess is 1.000 when both come within one millisecond
Test::More::ok($took >= 0.05, "it waited ($took s)");
--- request
GET /t?k=b
--- response_headers
X-LR: [PASSED]
--- error_log eval
qr/\[warn\] .*delaying request, excess: [01]\.\d{3}, by zone "one", client: 127\.0\.0\.1, server: localhost, request: "GET \/t\?k=a HTTP\/1\.1"/



=== TEST 5: while a request is delayed the worker serves others; a client that leaves is noticed (499)
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/m;
    log_format st "$uri $status $limit_req_status";
--- config
    root $TEST_NGINX_HTML_DIR;
    access_log logs/st.log st;
    location /t { limit_req zone=one burst=5; }
--- user_files
>>> t
ok
--- init
my ($s1) = main::get("/t?k=a");
Test::More::is($s1, 200, "the first request passes");
# the second one waits a minute's drain (about 62 s at 1r/m)
my $held = main::connect_one();
syswrite($held, "GET /t?k=a HTTP/1.1\r\nHost: localhost\r\n\r\n");
for my $i (1 .. 3) {
    my ($s) = main::get("/t?k=other$i");
    Test::More::is($s, 200, "another request ($i) is served meanwhile");
}
my $sel = IO::Select->new($held);
Test::More::ok(!$sel->can_read(0.2), "the delayed request is still waiting");
close $held;
my $log = "$Test::Moongate::ServRoot/logs/st.log";
my $deadline = Time::HiRes::time() + 5;
my $line = '';
while (Time::HiRes::time() < $deadline) {
    ($line) = grep { /^\/t 499 / } split /\n/, (-e $log ? Test::Moongate::slurp($log) : '');
    last if $line;
    Time::HiRes::sleep(0.05);
}
Test::More::is($line, "/t 499 DELAYED", "the delayed request ended with 499 when its client left");
--- request
GET /t?k=b
--- error_log eval
[qr/delaying request, excess: (1\.000|0\.9\d\d), by zone "one"/,
 "client prematurely closed connection"]



=== TEST 6: delay=1: the first excess request passes at once, the next ones wait
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/s;
--- config
    root $TEST_NGINX_HTML_DIR;
    add_header X-LR "[$limit_req_status]" always;
    location /t { limit_req zone=one burst=3 delay=1; }
--- user_files
>>> t
ok
--- request eval
["GET /t?k=a", "GET /t?k=a", "GET /t?k=a"]
--- response_headers eval
["X-LR: [PASSED]", "X-LR: [PASSED]", "X-LR: [DELAYED]"]
--- error_log eval
qr/delaying request, excess: 1\.\d{3}, by zone "one"/



=== TEST 7: several limit_req on one level: each counts, the first to refuse names its zone
--- http_config
    limit_req_zone $arg_k zone=perkey:1m rate=1r/m;
    limit_req_zone $server_name zone=perserver:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t {
        limit_req zone=perkey burst=1 nodelay;
        limit_req zone=perserver burst=2 nodelay;
    }
--- user_files
>>> t
ok
--- request eval
["GET /t?k=a", "GET /t?k=b", "GET /t?k=a", "GET /t?k=a", "GET /t?k=c", "GET /t?k=d"]
--- error_code eval
[200, 200, 200, 503, 503, 503]
--- grep_error_log eval: qr/by zone "\w+"/
--- grep_error_log_out
by zone "perkey"
by zone "perserver"
by zone "perserver"



=== TEST 8: a level with its own limit_req replaces its parent's; one without inherits
--- http_config
    limit_req_zone $arg_k zone=outer:1m rate=1r/m;
    limit_req_zone $arg_k zone=inner:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    limit_req zone=outer;
    location /own { limit_req zone=inner burst=2 nodelay; }
    location /inherit { }
--- user_files
>>> own
ok
>>> inherit
ok
--- request eval
["GET /own?k=a", "GET /own?k=a", "GET /own?k=a", "GET /inherit?k=b", "GET /inherit?k=b"]
--- error_code eval
[200, 200, 200, 200, 503]
--- error_log
by zone "outer"
--- no_error_log
by zone "inner"



=== TEST 9: dry_run: nothing is delayed or rejected, the verdicts are logged and in $limit_req_status
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    add_header X-LR "[$limit_req_status]" always;
    location /t { limit_req zone=one burst=1; limit_req_dry_run on; }
--- user_files
>>> t
ok
--- request eval
["GET /t?k=a", "GET /t?k=a", "GET /t?k=a"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-LR: [PASSED]", "X-LR: [DELAYED_DRY_RUN]", "X-LR: [REJECTED_DRY_RUN]"]
--- error_log eval
[qr/\[warn\] .*delaying request, dry run, excess: (1\.000|0\.9\d\d), by zone "one"/,
 qr/\[error\] .*limiting requests, dry run, excess: [12]\.\d{3} by zone "one"/]



=== TEST 10: limit_req_status and limit_req_log_level (the delay one level lower, info stays info)
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    limit_req_status 429;
    limit_req_log_level warn;
    location /t { limit_req zone=one nodelay; }
    location /i { limit_req zone=one burst=1; limit_req_log_level info; limit_req_dry_run on; }
--- user_files
>>> t
ok
>>> i
ok
--- log_level: info
--- request eval
["GET /t?k=a", "GET /t?k=a", "GET /i?k=b", "GET /i?k=b"]
--- error_code eval
[200, 429, 200, 200]
--- error_log eval
[qr/\[warn\] .*limiting requests, excess: (1\.000|0\.9\d\d) by zone "one"/,
 qr/\[info\] .*delaying request, dry run, excess: (1\.000|0\.9\d\d), by zone "one"/]



=== TEST 11: once per client request: an internal redirect to a limited location is not limited again
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    add_header X-LR "[$limit_req_status]" always;
    location /x { limit_req zone=one; try_files /nothing-here /y; }
    location /y { limit_req zone=one; }
--- user_files
>>> y
ok
--- request eval
["GET /x?k=a", "GET /y?k=a"]
--- error_code eval
[200, 503]
--- response_headers eval
["X-LR: [PASSED]", "X-LR: [REJECTED]"]



=== TEST 12: a key longer than 65535 bytes is logged and not limited
--- http_config
    limit_req_zone $arg_k$arg_k$arg_k$arg_k$arg_k$arg_k$arg_k$arg_k$arg_k$arg_k zone=one:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t { limit_req zone=one; }
--- user_files
>>> t
ok
--- request eval
my $k = 'x' x 7000;
["GET /t?k=$k", "GET /t?k=$k"]
--- error_code eval
[200, 200]
--- error_log eval
qr/\[error\] .*the value of the "\$arg_k\$arg_k\$arg_k\$arg_k\$arg_k\$arg_k\$arg_k\$arg_k\$arg_k\$arg_k" key is more than 65535 bytes: "xxxx/



=== TEST 13: a key the zone cannot hold: "could not allocate node" and the limit's status
--- http_config
    limit_req_zone $arg_k$arg_k$arg_k$arg_k$arg_k$arg_k zone=small:32k rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    add_header X-LR "[$limit_req_status]" always;
    location /t { limit_req zone=small; }
--- user_files
>>> t
ok
--- request eval
my $k = 'x' x 7000;
["GET /t?k=ok", "GET /t?k=$k"]
--- error_code eval
[200, 503]
--- response_headers eval
["X-LR: [PASSED]", "X-LR: [REJECTED]"]
--- error_log eval
qr/\[alert\] \d+#\d+: could not allocate node in limit_req zone "small"$/



=== TEST 14: a full zone forgets its least recently used keys: after 2000 other keys the first one passes again
--- http_config
    limit_req_zone $arg_k zone=small:32k rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    keepalive_requests 10000;
    location /t { limit_req zone=small; }
--- user_files
>>> t
ok
--- init
my ($a1) = main::get("/t?k=first");
my ($a2) = main::get("/t?k=first");
Test::More::is("$a1 $a2", "200 503", "the key is limited");
my $s = main::connect_one();
my %seen;
for my $i (1 .. 2000) {
    syswrite($s, "GET /t?k=key$i HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my $got = '';
    my $sel = IO::Select->new($s);
    while ($got !~ /\r\n\r\n.*ok\n/s && $sel->can_read(3)) {
        sysread($s, my $buf, 4096) or last;
        $got .= $buf;
    }
    my ($st) = $got =~ m{^HTTP/1\.1 (\d+)};
    $seen{$st // 'none'}++;
}
Test::More::is(join(',', map { "$_=$seen{$_}" } sort keys %seen), "200=2000", "2000 new keys all passed");
--- request
GET /t?k=first
--- error_code: 200
--- no_error_log
could not allocate node



=== TEST 15: a subrequest of a limited request is not limited again (auth_request)
--- http_config
    limit_req_zone $arg_k zone=one:1m rate=1r/m;
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t { limit_req zone=one; auth_request /auth; }
    location = /auth { limit_req zone=one; return 204; }
--- user_files
>>> t
ok
--- request eval
["GET /t?k=a", "GET /t?k=a"]
--- error_code eval
[200, 503]



=== TEST 16: a zone named by limit_req but never defined
--- http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
--- config
    location /t { limit_req zone=two; }
--- must_die
--- error_log
zero size shared memory zone "two"



=== TEST 17: zone smaller than eight pages
--- http_config
    limit_req_zone $binary_remote_addr zone=one:16k rate=1r/s;
--- config
--- must_die
--- error_log eval
qr/zone "zone=one:16k" is too small in .*:\d+/



=== TEST 18: bad rates and parameters
--- http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/h;
--- config
--- must_die
--- error_log eval
qr/invalid rate "rate=1r\/h" in .*:\d+/



=== TEST 19: limit_req_zone without zone=
--- http_config
    limit_req_zone $binary_remote_addr rate=1r/s zone=:1m;
--- config
--- must_die
--- error_log eval
qr/"limit_req_zone" must have "zone" parameter in .*:\d+/



=== TEST 20: burst must be a positive number
--- http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
--- config
    location /t { limit_req zone=one burst=0; }
--- must_die
--- error_log eval
qr/invalid burst value "burst=0" in .*:\d+/



=== TEST 21: one zone name bound to two keys
--- http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
    limit_req_zone $remote_addr zone=one:1m rate=1r/s;
--- config
--- must_die
--- error_log eval
qr/limit_req_zone "one" is already bound to key "\$binary_remote_addr" in .*:\d+/



=== TEST 22: limit_req on a zone limit_conn_zone owns
--- http_config
    limit_conn_zone $binary_remote_addr zone=one:1m;
--- config
    location /t { limit_req zone=one; }
--- must_die
--- error_log eval
qr/the shared memory zone "one" is already declared for a different use in .*:\d+/



=== TEST 23: limit_req_status outside 400..599, an unknown log level, limit_req in "if"
--- http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
--- config
    location /t { limit_req_status 302; }
--- must_die
--- error_log eval
qr/value must be between 400 and 599 in .*:\d+/



=== TEST 24: an unknown log level
--- config
    location /t { limit_req_log_level crit; }
--- must_die
--- error_log eval
qr/invalid value "crit" in .*:\d+/



=== TEST 25: limit_req is not allowed inside "if"
--- http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
--- config
    location /t { if ($arg_x) { limit_req zone=one; } }
--- must_die
--- error_log eval
qr/"limit_req" directive is not allowed here in .*:\d+/
