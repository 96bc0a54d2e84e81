# IPv6: listen [::1]:port and [::]:port with ipv6only=on (the default: IPv4 clients go to the
# IPv4 socket) or off (one socket for both, IPv4 clients seen as ::ffff:a.b.c.d), $remote_addr,
# $server_addr and $server_port over IPv6, and upstreams at IPv6 addresses: proxy_pass
# http://[::1]:port, `server [::1]:port` in upstream{}, with $upstream_addr and the Host header
# nginx sends.  Needs the IPv6 loopback; without it every block is skipped with that reason.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/109-ipv6.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::IP ();

plan 'no_plan';

$ENV{TEST_NGINX_PORT2} = Test::Moongate::find_free_port();

my $has_ipv6 = do {
    my $s = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1, Proto => 'tcp');
    defined $s;
};
add_block_preprocessor(sub {
    $_[0]->set_value(moongate_skip => 'no IPv6 loopback (::1) here') unless $has_ipv6;
});

# GET $path from [$addr]:$port (an IPv4 address works too): the response body, or "ERROR ..."
sub get {
    my ($addr, $port, $path) = @_;
    my $s = IO::Socket::IP->new(PeerHost => $addr, PeerPort => $port, Proto => 'tcp', Timeout => 3)
        or return "ERROR connect: $@";
    print $s "GET $path HTTP/1.0\r\nHost: test\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    return $r =~ /\r\n\r\n(.*)\z/s ? $1 : "ERROR $r";
}

run_tests();

__DATA__

=== TEST 1: listen [::1]:port: $remote_addr, $server_addr and $server_port over IPv6
--- config
    listen [::1]:$TEST_NGINX_SERVER_PORT;
    location /t { return 200 "$remote_addr $server_addr $server_port $binary_remote_addr\n"; }
--- request
GET /t
--- init
my $b = main::get('::1', $ServerPort, '/t');
Test::More::like($b, qr/\A::1 ::1 $ServerPort [^\n]{16}\n\z/s, 'the IPv6 client and server addresses');
--- response_body_like chomp
\A127\.0\.0\.1 127\.0\.0\.1 \d+ [^\n]{4}\n\z



=== TEST 2: listen [::]:port (ipv6only=on by default) beside an IPv4 wildcard on the same port
--- http_config
    server {
        listen [::]:$TEST_NGINX_PORT2;
        return 200 "v6 $remote_addr\n";
    }
    server {
        listen $TEST_NGINX_PORT2;
        return 200 "v4 $remote_addr\n";
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
Test::More::is(main::get('::1', $ENV{TEST_NGINX_PORT2}, '/'), "v6 ::1\n", 'an IPv6 client: the [::] socket');
Test::More::is(main::get('127.0.0.1', $ENV{TEST_NGINX_PORT2}, '/'), "v4 127.0.0.1\n",
               'an IPv4 client: the IPv4 socket');
--- response_body
ok



=== TEST 3: listen [::]:port ipv6only=off: one socket for both families
--- http_config
    server {
        listen [::]:$TEST_NGINX_PORT2 ipv6only=off;
        return 200 "$remote_addr $server_addr\n";
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
Test::More::is(main::get('::1', $ENV{TEST_NGINX_PORT2}, '/'), "::1 ::1\n", 'an IPv6 client');
Test::More::is(main::get('127.0.0.1', $ENV{TEST_NGINX_PORT2}, '/'), "::ffff:127.0.0.1 ::ffff:127.0.0.1\n",
               'an IPv4 client, as an IPv4-mapped address');
--- response_body
ok



=== TEST 4: ipv6only=off with an IPv4 listen on the port too: the second bind fails
--- http_config
    server {
        listen [::]:$TEST_NGINX_PORT2 ipv6only=off;
    }
    server {
        listen 0.0.0.0:$TEST_NGINX_PORT2;
    }
--- config
    location /t { return 200 "ok\n"; }
--- must_die
--- error_log eval
qr/bind\(\) to (?:0\.0\.0\.0|\[::\]):\d+ failed \(98: Address already in use\)/



=== TEST 5: server names on an IPv6 address
--- http_config
    server {
        listen [::1]:$TEST_NGINX_PORT2;
        server_name a.test;
        return 200 "a\n";
    }
    server {
        listen [::1]:$TEST_NGINX_PORT2;
        server_name test;
        return 200 "b $host\n";
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
Test::More::is(main::get('::1', $ENV{TEST_NGINX_PORT2}, '/'), "b test\n", 'Host: test picks the second server');
--- response_body
ok



=== TEST 6: proxy_pass to an IPv6 literal: $upstream_addr and the Host header
--- http_config
    server {
        listen [::1]:$TEST_NGINX_PORT2;
        return 200 "backend $remote_addr host=$http_host\n";
    }
--- config
    location /t {
        proxy_pass http://[::1]:$TEST_NGINX_PORT2;
        add_header X-Upstream $upstream_addr;
    }
    location /u {
        proxy_pass http://[::1]:$TEST_NGINX_PORT2/x;
        proxy_set_header Host $proxy_host;
        add_header X-Upstream $upstream_addr;
    }
--- request eval
["GET /t", "GET /u"]
--- response_body eval
["backend ::1 host=[::1]:$ENV{TEST_NGINX_PORT2}\n", "backend ::1 host=[::1]:$ENV{TEST_NGINX_PORT2}\n"]
--- response_headers_like eval
["X-Upstream: \\[::1\\]:$ENV{TEST_NGINX_PORT2}", "X-Upstream: \\[::1\\]:$ENV{TEST_NGINX_PORT2}"]



=== TEST 7: an upstream group with IPv6 and IPv4 servers, round robin over both
--- http_config
    upstream both {
        server [::1]:$TEST_NGINX_PORT2;
        server 127.0.0.1:$TEST_NGINX_PORT2;
    }
    server {
        listen [::1]:$TEST_NGINX_PORT2;
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        return 200 "$server_addr\n";
    }
--- config
    location /t {
        proxy_pass http://both;
        add_header X-Upstream $upstream_addr;
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body eval
["::1\n", "127.0.0.1\n"]
--- response_headers_like eval
["X-Upstream: \\[::1\\]:\\d+", "X-Upstream: 127\\.0\\.0\\.1:\\d+"]



=== TEST 8: a failed IPv6 upstream is named as nginx names it
--- config
    location /t {
        proxy_pass http://[::1]:$TEST_NGINX_PORT2;
    }
--- request
GET /t
--- error_code: 502
--- error_log eval
qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/t HTTP\/1\.1", upstream: "http:\/\/\[::1\]:\d+\/t", host: "localhost"/
