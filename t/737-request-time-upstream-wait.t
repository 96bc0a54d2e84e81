# $request_time and $upstream_response_time of a request that waited on its upstream: the
# clock is read when the upstream's answer wakes the server, so both cover the upstream's
# delay.  (Before: an upstream socket's event left the worker's cached clock where the last
# client or timer event put it, and a proxy_cache_lock fetch 2 s long logged 0.193.)
#
# Only lower bounds, from delays the backend keeps (it sleeps before its head): a loaded machine
# makes the times longer, never shorter.  The request that waits on proxy_cache_lock is checked
# by when it ended against when the fetch it waited for began (the log's $msec less
# $request_time is a request's start, however the clock went), not by its own duration.
#
#   prove -I t/lib t/737-request-time-upstream-wait.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/737-request-time-upstream-wait.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Time::HiRes ();

backend(slow => 'echo', delay => 1);
backend(lock => 'echo', delay => 2);

# at least 0.9 s, written with three decimals
our $AtLeast09 = qr/(?:0\.9\d\d|[1-9]\d*\.\d{3})/;

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    proxy_cache_path $TEST_NGINX_SERVROOT/cache keys_zone=rt:1m;
    log_format rt 'rt=$request_time urt=$upstream_response_time $request_uri';
    log_format lock '$msec $request_time $upstream_cache_status $request_uri';
EOF
});

# the fields of the lock.log line of the request whose cache status is $status
sub lock_line {
    my ($status, @lines) = @_;
    my ($l) = grep { (split / /)[2] eq $status } @lines;
    return $l ? split / /, $l : ();
}

run_tests();

__DATA__

=== TEST 1: an upstream 1 s late: $request_time and $upstream_response_time are 0.9 s or more
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rt;
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT; }
--- request
GET /late
--- error_code: 200
--- timeout: 10
--- error_log eval
qr/rt=$main::AtLeast09 urt=$main::AtLeast09 \/late$/



=== TEST 2: proxy_cache_lock: the fetch (2 s upstream) logs 1.9 s or more; the request that waited ends after it
--- config
    location /c/ {
        access_log logs/lock.log lock;
        proxy_cache rt;
        proxy_cache_valid 200 1m;
        proxy_cache_lock on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_LOCK_PORT;
    }
--- init
my $kid = fork // die "fork: $!";
if ($kid == 0) {
    get_logged('/c/x', 'lock.log');
    POSIX::_exit(0);
}
# the fetch reached the backend (it answers 2 s later): now a second request waits on the lock
my $deadline = Time::HiRes::time() + 5;
Time::HiRes::sleep(0.02) until backend_log('lock') || Time::HiRes::time() > $deadline;
my ($resp) = get_logged('/c/x', 'lock.log', undef, 2);
waitpid $kid, 0;
Test::More::like($resp, qr/^HTTP\/1\.1 200 /, 'TEST 2: the waiting request got 200');
my @lines = logged_lines('lock.log', 2);
my ($f_msec, $f_rt) = main::lock_line('MISS', @lines);
my ($w_msec, $w_rt) = main::lock_line('HIT', @lines);
Test::More::ok(defined $f_rt && $f_rt >= 1.9, "TEST 2: the fetch's \$request_time >= 1.9")
    or Test::More::diag(join "\n", @lines);
Test::More::ok(defined $w_rt && $w_msec >= $f_msec - $f_rt + 1.9,
               'TEST 2: the waiting request ended 1.9 s or more after the fetch began')
    or Test::More::diag(join "\n", @lines);
--- request
GET /none
--- error_code: 404
