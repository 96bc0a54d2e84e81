# post_action (ngx_http_core_module, undocumented): once the response went out, the request
# goes on to a URI or a @named location (internal ones allowed) whose answer goes nowhere; the
# request is logged once, at the end, with the post_action's location; the connection stays
# alive for the next request; inherited. The upstream is an echo backend that logs what it
# got. A post_action's location that has a post_action too (inherited, say) goes on to it,
# until the internal redirects run out: t/956 has those chains, the client that goes away
# mid-response and the proxied post_action's unread body.
#
#   prove -I t/lib t/949-post-action.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/949-post-action.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(pa => 'echo');

sub backend_got {
    my ($what, $want) = @_;
    my $got = join ',', map { $_->[3] } Test::MoongateBackend::backend_log('pa');
    Test::More::like($got, $want, "the post_action's upstream got: $what");
    Test::MoongateBackend::backend_log_clear('pa');
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    log_format pa 'post-action-log $request_uri uri=$uri ups=$upstream_addr';
EOF
});

run_tests();

__DATA__

=== TEST 1: post_action to an internal URI: the client gets the response, the upstream the post_action's request, logged once at the end
--- init
Test::MoongateBackend::backend_log_clear('pa');
--- config
    location /t {
        post_action /track;
        return 200 "main\n";
    }
    location /track {
        internal;
        access_log $TEST_NGINX_SERVROOT/logs/error.log pa;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/tracked;
    }
--- request
GET /t?x=1
--- response_body
main
--- error_log eval
qr/post-action-log \/t\?x=1 uri=\/track ups=127\.0\.0\.1:\d+/
--- log_wait: 5



=== TEST 2: inherited by a nested location; two requests on one connection
--- init
::backend_got("TEST 1", qr{^/tracked$});
--- config
    location /t/ {
        post_action /track;
        location /t/a { return 200 "main $uri\n"; }
        return 200 "main $uri\n";
    }
    location /track {
        internal;
        access_log $TEST_NGINX_SERVROOT/logs/error.log pa;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/tracked;
    }
--- pipelined_requests eval
["GET /t/a", "GET /t/b"]
--- response_body eval
["main /t/a\n", "main /t/b\n"]
--- error_log eval
[qr/post-action-log \/t\/a uri=\/track ups=127/, qr/post-action-log \/t\/b uri=\/track ups=127/]
--- log_wait: 5



=== TEST 3: a named location: the request's URI goes on to it
--- init
::backend_got("TEST 2", qr{^/tracked,/tracked$});
--- config
    location /n {
        post_action @track;
        return 200 "main\n";
    }
    location @track {
        access_log $TEST_NGINX_SERVROOT/logs/error.log pa;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT;
    }
--- request
GET /n/x
--- response_body
main
--- error_log eval
qr/post-action-log \/n\/x uri=\/n\/x ups=127/
--- log_wait: 5



=== TEST 4: after an error page, and after a proxied response
--- init
::backend_got("TEST 3", qr{^/n/x$});
--- config
    location /p {
        post_action /track;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT;
    }
    location /nf { post_action /track; }
    location /track {
        internal;
        access_log $TEST_NGINX_SERVROOT/logs/error.log pa;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/tracked;
    }
--- request eval
["GET /p/x", "GET /nf/none"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^GET /p/x HTTP/1.0\n", "404 Not Found"]
--- error_log eval
[qr/post-action-log \/p\/x uri=\/track ups=127/, qr/post-action-log \/nf\/none uri=\/track ups=127/]
--- log_wait: 5



=== TEST 5: post_action twice
--- init
::backend_got("TEST 4", qr{^/p/x,/tracked,/tracked$});
--- config
    location / {
        post_action /a;
        post_action /b;
    }
--- must_die
--- error_log eval
qr/"post_action" directive is duplicate in \S+:\d+/
