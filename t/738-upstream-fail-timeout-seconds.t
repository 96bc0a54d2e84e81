# fail_timeout counts whole seconds of the wall clock, as nginx 1.22 does (ngx_time()): a peer
# that failed in second S is skipped while the clock shows S + fail_timeout, and tried again
# from the second after, so "fail_timeout=1s" keeps it out between 1 and 2 s.  (Before:
# exactly 1.000 s on the monotonic clock, so a request 1.6 s after a failure early in a second
# tried the failed peer again where nginx does not.)
#
# The failure is made just after a second begins (the wall clock is waited for), so the
# requests 1.6 s later fall in the next second (out still) and those 2.3 s later in the one
# after (tried again): 0.4 s of margin each way.
#
#   prove -I t/lib t/738-upstream-fail-timeout-seconds.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/738-upstream-fail-timeout-seconds.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Time::HiRes ();

backend(live => 'echo', body => "live\n");
backend(gone => 'refused');

# GET / on a connection of its own: the $upstream_addr it logged (the n-th line of ft.log)
sub addr_of {
    my ($n) = @_;
    my (undef, $line) = get_logged('/', 'ft.log', undef, $n);
    return $line;
}

run_tests();

__DATA__

=== TEST 1: max_fails=1 fail_timeout=1s: out 1.6 s after a failure early in a second, tried again 2.3 s after
--- http_config
    log_format ft '$upstream_addr';
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT max_fails=1 fail_timeout=1s;
        server 127.0.0.1:$TEST_NGINX_LIVE_PORT;
    }
--- config
    location / {
        access_log logs/ft.log ft;
        proxy_pass http://u;
    }
--- init
my $gone = backend_addr('gone');
my $t = Time::HiRes::time();
my $s0 = int($t) + 1;
Time::HiRes::sleep($s0 + 0.05 - $t);
Test::More::like(main::addr_of(1), qr/^$gone, /, 'TEST 1: the first try fails (early in a second)');
Time::HiRes::sleep($s0 + 1.6 - Time::HiRes::time());
my @in = map { main::addr_of($_) } 2 .. 4;
Test::More::is((grep { /$gone/ } @in), 0, 'TEST 1: 1.6 s later (the next second) it is not tried')
    or Test::More::diag(join "\n", @in);
Time::HiRes::sleep($s0 + 2.3 - Time::HiRes::time());
my @out = map { main::addr_of($_) } 5 .. 8;
Test::More::is((grep { /^$gone, / } @out), 1, 'TEST 1: 2.3 s later (the second after) it is tried once')
    or Test::More::diag(join "\n", @out);
--- request
GET /
--- error_code: 200
--- response_body
live
--- timeout: 10
