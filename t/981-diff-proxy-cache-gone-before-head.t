# proxy_cache and a client that goes before the upstream's response head, as Debian's nginx
# 1.22 does it: a request the cache sent upstream (a miss) keeps waiting for the head
# ("client prematurely closed connection" at info, not ", so upstream connection is closed
# too"); the head's send then fails, so the request ends with the upstream's status (200 in the
# log, $upstream_status 200) and nothing is cached (the next request is a MISS too). One the
# cache would not store (proxy_cache_min_uses not reached) ends at once with 499, as without
# a cache. After the head: t/959.
#
#   prove -I t/lib t/981-diff-proxy-cache-gone-before-head.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/981-diff-proxy-cache-gone-before-head.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes ();

# the head 1 s after the request came: the client is gone by then
backend(up => 'echo', delay => 1, body => "cached?\n");

# sends a GET of $path, closes (a FIN, or an RST with reset) once the upstream has the request
sub gone_before_head {
    my ($path, %o) = @_;
    truncate("$ENV{TEST_NGINX_SERVROOT}/logs/g.log", 0); # the block's line only
    my $s = client_connect();
    client_send($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my $until = Time::HiRes::time() + 5;
    Time::HiRes::sleep(0.01) until grep({ $_->[3] eq $path } backend_log('up'))
                                   || Time::HiRes::time() > $until;
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if $o{reset};
    close $s;
}

# the X-Cache of a whole request of $path
sub cache_status {
    my $s = client_connect();
    client_send($s, "GET $_[0] HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my ($r) = client_read($s, undef, 10);
    return $r =~ /^X-Cache: (\S+)\r$/m ? $1 : "no X-Cache in \"$r\"";
}

# how many requests of $path the upstream got
sub upstream_got { scalar grep { $_->[3] eq $_[0] } backend_log('up') }

# every block's location, with its own lines (--- config) added
add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF');
    proxy_cache_path $TEST_NGINX_SERVROOT/cache keys_zone=gb:1m;
    log_format gb '$request_uri $status $upstream_cache_status $upstream_status $body_bytes_sent';
EOF
    $b->set_value('config', <<'EOF' . ($b->config // '') . "\n    }\n");
    location / {
        access_log logs/g.log gb;
        proxy_cache gb;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT;
EOF
    $b->set_value('request', 'GET /none');
    $b->set_value('error_code', 200);
});

run_tests();

__DATA__

=== TEST 1: the client closes before the head: the upstream is awaited, 200 logged, nothing cached
--- init
main::gone_before_head('/fin');
Test::More::is((logged_lines('g.log', 1))[0], '/fin 200 MISS 200 0', 'TEST 1: the upstream\'s status logged');
Test::More::is(main::cache_status('/fin'), 'MISS', 'TEST 1: then a MISS: nothing was cached');
Test::More::is(main::upstream_got('/fin'), 2, 'TEST 1: the upstream got both');
--- error_log
client prematurely closed connection
--- no_error_log
so upstream connection is closed too



=== TEST 2: the client resets before the head: the same
--- init
main::gone_before_head('/rst', reset => 1);
Test::More::is((logged_lines('g.log', 1))[0], '/rst 200 MISS 200 0', 'TEST 2: the upstream\'s status logged');
Test::More::is(main::cache_status('/rst'), 'MISS', 'TEST 2: then a MISS');
--- no_error_log
so upstream connection is closed too



=== TEST 3: proxy_cache_min_uses not reached: nothing to store, so 499 at once, the upstream connection closed
--- config
        proxy_cache_min_uses 2;
--- init
main::gone_before_head('/few');
Test::More::is((logged_lines('g.log', 1))[0], '/few 499 MISS - 0', 'TEST 3: 499 logged');
--- error_log
so upstream connection is closed too
