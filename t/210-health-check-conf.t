# health_check and match at -t (issue 14, item 3): what is refused names FILE:LINE; what is
# accepted runs (t/211 has the checks against real backends and reloads).
#
# moongate only: nginx open source has no health_check nor match (its -t says "unknown
# directive").
#
#   prove -I t/lib t/210-health-check-conf.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');

run_tests();

__DATA__

=== TEST 1: a health_check whose upstream has no zone is refused with its FILE:LINE
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t {
        proxy_pass http://u;
        health_check;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"health_check" requires upstream "u" to be in shared memory in \S+\.conf:\d+/
--- moongate_only



=== TEST 2: proxy_pass to host:port is an implicit group without a zone
--- config
    location /t {
        health_check interval=2s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"health_check" requires upstream "127\.0\.0\.1:\d+" to be in shared memory in \S+\.conf:\d+/
--- moongate_only



=== TEST 3: health_check without proxy_pass
--- config
    location /t {
        health_check;
        return 200;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"health_check" requires "proxy_pass" to an upstream group in \S+\.conf:\d+/
--- moongate_only



=== TEST 4: a match block with a bad regex
--- http_config
    match m {
        status 200;
        body ~ "(unclosed";
    }
--- config
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*pcre2_compile\(\) failed: missing closing parenthesis in "\(unclosed" in \S+\.conf:\d+/
--- moongate_only



=== TEST 5: a bad regex in a header test
--- http_config
    match m {
        header Content-Type ~ "[a-";
    }
--- config
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*pcre2_compile\(\) failed: .* in "\[a-" in \S+\.conf:\d+/
--- moongate_only



=== TEST 6: a match nobody defines
--- http_config
    upstream u {
        zone u 64k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t {
        proxy_pass http://u;
        health_check match=nope;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*match "nope" not found in \S+\.conf:\d+/
--- moongate_only



=== TEST 7: bad parameters
--- http_config
    upstream u {
        zone u 64k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t {
        proxy_pass http://u;
        health_check interval=0 fails=2;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "interval=0" in \S+\.conf:\d+/
--- moongate_only



=== TEST 8: persistent needs mandatory
--- http_config
    upstream u {
        zone u 64k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t {
        proxy_pass http://u;
        health_check persistent;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"persistent" requires "mandatory" in \S+\.conf:\d+/
--- moongate_only



=== TEST 9: match lines that are not tests
--- http_config
    match m {
        status 200 abc;
    }
--- config
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid status "abc" in \S+\.conf:\d+/
--- moongate_only



=== TEST 10: an unknown test in a match block
--- http_config
    match m {
        cookie x;
    }
--- config
    location /t { return 200; }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown directive "cookie" in \S+\.conf:\d+/
--- moongate_only



=== TEST 11: all parameters accepted; the peer is served once its check passes
--- http_config
    upstream u {
        zone u 64k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
    match ok {
        status 200 204 300-399;
        status ! 500;
        header X-Backend;
        header ! X-Nope;
        header X-Backend = a;
        header X-Backend != b;
        header X-Backend ~ "^a$";
        header X-Backend !~ "^b";
        body ~ "GET /hc";
        body !~ "nothing like this";
    }
--- config
    location /t {
        proxy_pass http://u;
        health_check interval=1s jitter=100ms fails=2 passes=2 uri=/hc port=$TEST_NGINX_A_PORT match=ok mandatory persistent;
    }
--- init
    my $ok = 0;
    for (1 .. 50) {
        my $x = Test::Moongate::exchange(["GET /t HTTP/1.0\r\n\r\n"], 0, ['GET'], 5);
        if ($x->{raw} =~ m{^HTTP/1\.1 200 }) { $ok = 1; last }
        select(undef, undef, undef, 0.1);
    }
--- request
GET /t
--- response_body_like: ^GET /t HTTP/1.0
--- error_log
peer is healthy, health check "ok" of peer 127.0.0.1:
--- moongate_only
