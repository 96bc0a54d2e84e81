# $connection and the error log's "*N" are nginx's connection serial: one counter for every
# worker (two workers never give two connections the same number), and an upstream
# connection (a proxy's, a stream proxy's, a Lua cosocket's) takes a number too, as nginx's
# connect does, so the numbers a log shows are the ones nginx's would. Found comparing
# Debian's nginx 1.22 and moongate's logs on one config.
#
# A block's "--- serials" names a log under the server root with lines "URI SERIAL": each
# serial must be distinct and, for "/r" (reached through a proxy or a cosocket), two past the client
# connection's of the "/p" logged after it (its upstream connection took the one between).
#
#   prove -I t/lib t/748-log-diff-serial.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/748-log-diff-serial.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

add_block_preprocessor(sub { unlink glob("$LogDir/*.log") });
add_known_sections(qw(serials));
Test::Moongate::stop_stale_server();

sub check_serials {
    my $block = shift;
    my $f = $block->serials or return;
    chomp $f;
    my @lines = -e "$ServRoot/$f" ? do { local @ARGV = "$ServRoot/$f"; <> } : ();
    my (%seen, @dup, $last_r);
    for (@lines) {
        my ($uri, $n) = /^(\S+) (\d+)$/ or next;
        push @dup, $n if $seen{$n}++;
        if ($uri eq '/r') {
            $last_r = $n;
        } elsif ($uri eq '/p' && defined $last_r) {
            is($last_r, $n + 2, $block->name . " - /r is numbered after /p's upstream connection");
            undef $last_r;
        }
    }
    ok(@lines >= 2, $block->name . " - lines logged") or diag("got: @lines");
    is("@dup", '', $block->name . " - no serial given twice");
}

for my $block (blocks()) {
    run_test($block);
    check_serials($block); # the server has stopped
}

__DATA__

=== TEST 1: a proxied request: its upstream connection takes the number between
--- http_config
    log_format serial '$uri $connection';
--- config
    access_log logs/serial.log serial;
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/r; }
    location /r { return 200 "r\n"; }
--- request
GET /p
--- response_body
r
--- serials
logs/serial.log



=== TEST 2: two workers share one counter: twenty connections, twenty numbers
--- main_config
    worker_processes 2;
    master_process on;
--- http_config
    log_format serial '$uri $connection';
--- config
    access_log logs/serial.log serial;
    location /r { return 200 "r\n"; }
--- request eval
[map { "GET /r" } 1 .. 20]
--- response_body eval
[map { "r\n" } 1 .. 20]
--- serials
logs/serial.log



=== TEST 3: a Lua cosocket's connection takes a number too
--- http_config
    log_format serial '$uri $connection';
--- config
    access_log logs/serial.log serial;
    location /p {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            sock:send("GET /r HTTP/1.0\r\n\r\n")
            local body = sock:receive("*a")
            sock:close()
            ngx.print(body:match("\r\n\r\n(.*)$"))
        }
    }
    location /r { return 200 "r\n"; }
--- request
GET /p
--- response_body
r
--- serials
logs/serial.log
