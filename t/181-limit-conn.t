# limit_conn (ngx_http_limit_conn_module): requests in progress per key, counted in the
# preaccess phase and uncounted when the request ends however it ends (a client that leaves
# included); several limits, dry_run, limit_conn_status and limit_conn_log_level, inheritance,
# $limit_conn_status, subrequests not counted, keys too long, a full zone, and nginx's
# configuration errors.
#
# A request is held in progress by a POST whose body never comes, to a location that reads the
# body (proxy_pass): its "100 Continue" says that it went through the preaccess phase, so the
# next request sees it counted. Closing the connection ends it.
#
#   prove -I t/lib t/181-limit-conn.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/181-limit-conn.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateRaw;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();

plan 'no_plan';
worker_connections(1024);

our @Held;

sub connect_one {
    my $s = IO::Socket::INET->new(PeerAddr => $Test::Moongate::ServerAddr,
                                  PeerPort => $Test::Moongate::ServerPort, Timeout => 3);
    return $s || die "connect: $!\n";
}

# A request to $path held in progress: 100 when it is (the socket joins @Held), else the
# status it was answered with.
sub hold {
    my ($path) = @_;
    my $s = connect_one();
    syswrite($s, "POST $path HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n"
                 . "Expect: 100-continue\r\n\r\n");
    my $got = read_until($s, qr/\r\n\r\n/);
    my ($status) = $got =~ m{^HTTP/1\.1 (\d+)};
    push @Held, $s if ($status // 0) == 100;
    return $status // '';
}

# A GET on a new connection: (status, head).
sub get {
    my ($path) = @_;
    my $s = connect_one();
    syswrite($s, "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my $got = read_until($s, qr/\r\n\r\n/);
    close $s;
    my ($status) = $got =~ m{^HTTP/1\.1 (\d+)};
    return ($status // '', $got);
}

# Let the held requests go (a moongate told to quit would wait for them).
sub release {
    close $_ for @Held;
    @Held = ();
}

# Status of a held request once the server has ended it because its client left... seen from
# the outside as the key being free again: holding it succeeds within 5 s.
sub wait_free {
    my ($path) = @_;
    my $deadline = Time::HiRes::time() + 5;
    while (Time::HiRes::time() < $deadline) {
        my $st = hold($path);
        return 1 if $st == 100;
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

run_tests();

__DATA__

=== TEST 1: one request per key: the second is refused while the first is in progress, passes once it ended
--- http_config
    limit_conn_zone $arg_k zone=addr:1m;
--- config
    add_header X-LC "[$limit_conn_status]" always;
    location /p { limit_conn addr 1; proxy_pass http://127.0.0.1:9; }
--- init
@main::Held = ();
Test::More::is(main::hold("/p?k=a"), 100, "a request of key a is in progress");
Test::More::is(main::hold("/p?k=a"), 503, "a second one is refused");
Test::More::is(main::hold("/p?k=b"), 100, "key b is not limited by it");
main::release();
Test::More::ok(main::wait_free("/p?k=a"), "once the client left, key a is free again");
Test::More::is(main::hold("/p?k=a"), 503, "and counted again");
main::release();
--- request
GET /p?k=c
--- error_code: 502
--- response_headers
X-LC: [PASSED]
--- error_log eval
qr/\[error\] .*limiting connections by zone "addr", client: 127\.0\.0\.1, server: localhost, request: "POST \/p\?k=a HTTP\/1\.1"/



=== TEST 2: $limit_conn_status of a refused request; limit_conn_status and limit_conn_log_level
--- http_config
    limit_conn_zone $arg_k zone=addr:1m;
--- config
    add_header X-LC "[$limit_conn_status]" always;
    limit_conn_status 429;
    limit_conn_log_level warn;
    location /p { limit_conn addr 1; proxy_pass http://127.0.0.1:9; }
--- init
@main::Held = ();
Test::More::is(main::hold("/p?k=a"), 100, "a request of key a is in progress");
my ($st, $head) = main::get("/p?k=a");
Test::More::is($st, 429, "the next one is refused with limit_conn_status");
Test::More::like($head, qr/X-LC: \[REJECTED\]/, "\$limit_conn_status is REJECTED");
main::release();
--- request
GET /p?k=a
--- error_code: 502
--- response_headers
X-LC: [PASSED]
--- error_log eval
qr/\[warn\] .*limiting connections by zone "addr"/



=== TEST 3: several limits: each counts; the first that is full names its zone
--- http_config
    limit_conn_zone $arg_k zone=perkey:1m;
    limit_conn_zone $server_name zone=perserver:1m;
--- config
    location /p { limit_conn perkey 1; limit_conn perserver 2; proxy_pass http://127.0.0.1:9; }
--- init
@main::Held = ();
Test::More::is(main::hold("/p?k=a"), 100, "key a");
Test::More::is(main::hold("/p?k=a"), 503, "key a again: perkey");
Test::More::is(main::hold("/p?k=b"), 100, "key b");
Test::More::is(main::hold("/p?k=c"), 503, "key c: perserver is full");
Test::More::is((main::get("/p?k=d"))[0], 503, "key d too");
main::release();
--- request
GET /p?k=d
--- error_code: 502
--- grep_error_log eval: qr/by zone "\w+"/
--- grep_error_log_out
by zone "perkey"
by zone "perserver"
by zone "perserver"



=== TEST 4: a refused request gives back what the limits before it counted
--- http_config
    limit_conn_zone $arg_k zone=perkey:1m;
    limit_conn_zone $arg_j zone=other:1m;
--- config
    location /p { limit_conn perkey 2; limit_conn other 1; proxy_pass http://127.0.0.1:9; }
--- init
@main::Held = ();
Test::More::is(main::hold("/p?k=a&j=x"), 100, "a and x");
Test::More::is(main::hold("/p?k=a&j=x"), 503, "a again, x is full");
# had the refused request kept its count of a, a would be full now
Test::More::is(main::hold("/p?k=a&j=y"), 100, "a still has room");
Test::More::is((main::get("/p?k=a&j=z"))[0], 503, "and is full now");
main::release();
--- request
GET /p?k=a&j=z
--- error_code: 502
--- error_log
limiting connections by zone "perkey"



=== TEST 5: dry run: nothing is refused, the verdict is logged and in $limit_conn_status
--- http_config
    limit_conn_zone $arg_k zone=addr:1m;
--- config
    add_header X-LC "[$limit_conn_status]" always;
    location /p { limit_conn addr 1; limit_conn_dry_run on; proxy_pass http://127.0.0.1:9; }
--- init
@main::Held = ();
Test::More::is(main::hold("/p?k=a"), 100, "key a");
Test::More::is(main::hold("/p?k=a"), 100, "key a again, not refused");
my ($st, $head) = main::get("/p?k=a");
Test::More::is($st, 502, "nor a third one");
Test::More::like($head, qr/X-LC: \[REJECTED_DRY_RUN\]/, "\$limit_conn_status is REJECTED_DRY_RUN");
main::release();
--- request
GET /p?k=a
--- error_code: 502
--- response_headers
X-LC: [PASSED]
--- error_log eval
qr/\[error\] .*limiting connections, dry run, by zone "addr"/



=== TEST 6: a level with its own limit_conn replaces its parent's; one without inherits
--- http_config
    limit_conn_zone $arg_k zone=outer:1m;
    limit_conn_zone $arg_k zone=inner:1m;
--- config
    limit_conn outer 1;
    location /own { limit_conn inner 2; proxy_pass http://127.0.0.1:9; }
    location /inherit { proxy_pass http://127.0.0.1:9; }
--- init
@main::Held = ();
Test::More::is(main::hold("/own?k=a"), 100, "own 1");
Test::More::is(main::hold("/own?k=a"), 100, "own 2");
Test::More::is(main::hold("/own?k=a"), 503, "own 3");
Test::More::is(main::hold("/inherit?k=b"), 100, "inherit 1");
Test::More::is(main::hold("/inherit?k=b"), 503, "inherit 2");
main::release();
--- request
GET /inherit?k=b
--- error_code: 502
--- error_log
limiting connections by zone "inner"
limiting connections by zone "outer"



=== TEST 7: an empty key is not counted; a key longer than 255 bytes is logged and not counted
--- http_config
    limit_conn_zone $arg_k zone=addr:1m;
--- config
    add_header X-LC "[$limit_conn_status]" always;
    location /p { limit_conn addr 1; proxy_pass http://127.0.0.1:9; }
--- init
@main::Held = ();
my $long = 'x' x 300;
Test::More::is(main::hold("/p"), 100, "no key");
Test::More::is(main::hold("/p?k="), 100, "an empty key");
Test::More::is(main::hold("/p?k=$long"), 100, "a long key");
Test::More::is(main::hold("/p?k=$long"), 100, "the long key again");
main::release();
--- request
GET /p
--- error_code: 502
--- response_headers
X-LC: []
--- error_log eval
qr/\[error\] .*the value of the "\$arg_k" key is more than 255 bytes: "x{300}"/



=== TEST 8: a subrequest is not counted again (auth_request to a limited location)
--- http_config
    limit_conn_zone $arg_k zone=addr:1m;
--- config
    location /t { limit_conn addr 1; auth_request /auth; return 200 "ok\n"; }
    location = /auth { limit_conn addr 1; return 204; }
--- request
GET /t?k=a
--- response_body
ok
--- no_error_log
limiting connections



=== TEST 9: a zone that cannot hold one more key: nginx's allocator line and 503
--- http_config
    limit_conn_zone $arg_k zone=small:32k;
--- config
    location /p { limit_conn small 1; proxy_pass http://127.0.0.1:9; }
--- init
@main::Held = ();
my $pad = 'k' x 200;
my ($i, $st) = (0, 100);
while ($st == 100 && $i < 600) {
    $st = main::hold("/p?k=$pad" . ++$i);
}
Test::More::is($st, 503, "a new key was refused after $i keys held");
Test::More::ok($i > 20, "not before the zone held a fair number of keys ($i)");
main::release();
Test::More::ok(main::wait_free("/p?k=${pad}new"), "keys are freed with their requests");
main::release();
--- request
GET /p?k=x
--- error_code: 502
--- error_log eval
qr/\[crit\] \d+#\d+: ngx_slab_alloc\(\) failed: no memory in limit_conn_zone "small"$/



=== TEST 10: a zone named by limit_conn but never defined
--- http_config
    limit_conn_zone $binary_remote_addr zone=one:1m;
--- config
    location /t { limit_conn two 1; }
--- must_die
--- error_log
zero size shared memory zone "two"



=== TEST 11: zone smaller than eight pages
--- http_config
    limit_conn_zone $binary_remote_addr zone=one:8k;
--- must_die
--- error_log eval
qr/zone "zone=one:8k" is too small in .*:\d+/



=== TEST 12: limit_conn_zone's second argument must be zone=
--- http_config
    limit_conn_zone $binary_remote_addr size=1m;
--- must_die
--- error_log eval
qr/invalid parameter "size=1m" in .*:\d+/



=== TEST 13: the number of connections
--- http_config
    limit_conn_zone $binary_remote_addr zone=one:1m;
--- config
    location /t { limit_conn one 0; }
--- must_die
--- error_log eval
qr/invalid number of connections "0" in .*:\d+/



=== TEST 14: at most 65535
--- http_config
    limit_conn_zone $binary_remote_addr zone=one:1m;
--- config
    location /t { limit_conn one 65536; }
--- must_die
--- error_log eval
qr/connection limit must be less 65536 in .*:\d+/



=== TEST 15: a zone twice on one level
--- http_config
    limit_conn_zone $binary_remote_addr zone=one:1m;
--- config
    location /t { limit_conn one 1; limit_conn one 2; }
--- must_die
--- error_log eval
qr/"limit_conn" directive is duplicate in .*:\d+/



=== TEST 16: one zone name bound to two keys
--- http_config
    limit_conn_zone $binary_remote_addr zone=one:1m;
    limit_conn_zone $remote_addr zone=one:1m;
--- must_die
--- error_log eval
qr/limit_conn_zone "one" is already bound to key "\$binary_remote_addr" in .*:\d+/



=== TEST 17: limit_conn on a zone limit_req_zone owns
--- http_config
    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/s;
--- config
    location /t { limit_conn one 1; }
--- must_die
--- error_log eval
qr/the shared memory zone "one" is already declared for a different use in .*:\d+/



=== TEST 18: limit_conn_status outside 400..599
--- config
    location /t { limit_conn_status 600; }
--- must_die
--- error_log eval
qr/value must be between 400 and 599 in .*:\d+/
