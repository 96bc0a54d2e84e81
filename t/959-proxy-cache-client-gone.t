# proxy_cache and a client that goes before the response's end, as nginx 1.22 does it (checked
# against Debian's nginx): a response being cached is read to its end all the same and the
# entry is complete (the next request is a HIT), whether the client's close is seen (a FIN,
# proxy_ignore_client_abort off: "client prematurely closed connection" at info, without
# ", so upstream connection is closed too") or a write fails (a reset; also one that waited on
# a full socket); the log says 200.
# Only a buffered response is cached: proxy_buffering off or the upstream's
# X-Accel-Buffering: no leave nothing in the cache.
#
# A client that goes before the response's head: t/981 (the head is awaited, 200 logged,
# nothing cached).
#
#   prove -I t/lib t/959-proxy-cache-client-gone.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/959-proxy-cache-client-gone.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

# the head and 8000 bytes at once (past postpone_output: the client gets the head), then three
# more pieces 0.5 s apart
our @Parts = map { $_ x 8000 } qw(a b c d);
our $Body = join '', @Parts;
# (read => 1, here and for big: the backend reads the request before it answers, so its close
# after the last piece is a FIN. Closed with the request unread it was a RST, which drops what
# the backend's socket had not sent yet: a proxy slow to read under load got a truncated body)
backend(slow => 'script', read => 1, script => [
    "HTTP/1.1 200 OK\r\nContent-Length: 32000\r\nConnection: close\r\n\r\n" . $Parts[0],
    0.5, $Parts[1], 0.5, $Parts[2], 0.5, $Parts[3]]);
backend(up => 'echo');
# a head, 8000 bytes, then 2 MB at once (more than the sockets hold: the writer waits on the
# client) and, 1 s later, the end
our $BigBody = ('a' x 8000) . ('b' x 2_000_000) . ('c' x 8000);
backend(big => 'script', read => 1, script => [
    "HTTP/1.1 200 OK\r\nContent-Length: " . length($BigBody) . "\r\nConnection: close\r\n\r\n"
        . ('a' x 8000), 0.1, 'b' x 2_000_000, 1, 'c' x 8000]);
backend(nobuf => 'echo', headers => ['X-Accel-Buffering: no']);

# a whole request on a connection of its own: (response head, body)
sub fetch {
    my ($path) = @_;
    my $s = client_connect();
    client_send($s, "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my ($r) = client_read($s, undef, 10);
    return split /\r\n\r\n/, $r, 2;
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    proxy_cache_path $TEST_NGINX_SERVROOT/cache keys_zone=gz:1m;
    log_format gone '$request_uri $status $upstream_cache_status';
EOF
});

run_tests();

__DATA__

=== TEST 1: the client closes after the head (proxy_ignore_client_abort off): the entry is complete, the next request a HIT
--- config
    location / {
        access_log logs/c1.log gone;
        proxy_cache gz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
--- init
my $h = client_gone_after_head('/fin');
Test::More::like($h, qr/^HTTP\/1\.1 200 .*X-Cache: MISS/s, 'TEST 1: the head came');
Test::More::is((logged_lines('c1.log', 1))[0], '/fin 200 MISS', 'TEST 1: 200 logged at its end');
my ($head, $body) = main::fetch('/fin');
Test::More::like($head, qr/X-Cache: HIT/, 'TEST 1: then a HIT');
Test::More::ok($body eq $main::Body, 'TEST 1: of the whole body');
--- request
GET /none
--- error_code: 200
--- error_log
client prematurely closed connection
--- no_error_log
so upstream connection is closed too



=== TEST 2: the client resets after the head: the write fails, the entry is complete all the same
--- config
    location / {
        access_log logs/c2.log gone;
        proxy_cache gz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
--- init
my $h = client_gone_after_head('/rst', reset => 1);
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 2: the head came');
Test::More::is((logged_lines('c2.log', 1))[0], '/rst 200 MISS', 'TEST 2: 200 logged at its end');
my ($head, $body) = main::fetch('/rst');
Test::More::like($head, qr/X-Cache: HIT/, 'TEST 2: then a HIT');
Test::More::ok($body eq $main::Body, 'TEST 2: of the whole body');
--- request
GET /none
--- error_code: 200



=== TEST 3: proxy_buffering off: nothing cached
--- config
    location / {
        proxy_cache gz;
        proxy_cache_valid 200 1m;
        proxy_buffering off;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT;
    }
--- request eval
["GET /nb", "GET /nb"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS"]
--- response_body_like eval
["^GET /nb ", "^GET /nb "]



=== TEST 4: the upstream's X-Accel-Buffering: no: nothing cached
--- config
    location / {
        proxy_cache gz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_NOBUF_PORT;
    }
--- request eval
["GET /xa", "GET /xa"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS"]



=== TEST 5: the write that fails was waiting on a full socket: the entry is complete all the same
--- listen_options: sndbuf=16k
--- config
    location / {
        access_log logs/c5.log gone;
        proxy_cache gz;
        proxy_cache_valid 200 1m;
        add_header X-Cache $upstream_cache_status;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT;
    }
--- init
my $h = client_gone_after_head('/blocked', rcvbuf => 2048, stall => 0.5, reset => 1);
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 5: the head came');
Test::More::is((logged_lines('c5.log', 1))[0], '/blocked 200 MISS', 'TEST 5: 200 logged at its end');
my ($head, $body) = main::fetch('/blocked');
Test::More::like($head, qr/X-Cache: HIT/, 'TEST 5: then a HIT');
Test::More::ok($body eq $main::BigBody, 'TEST 5: of the whole body');
--- request
GET /none
--- error_code: 200
