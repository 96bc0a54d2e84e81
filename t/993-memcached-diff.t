# memcached against Debian's nginx (a differential audit): a value is served in byte ranges
# (nginx's memcached module forces them: Accept-Ranges, 206), memcached_next_upstream
# not_found over two servers tries the second from a clean state (404 both times, the second
# answer read as the first was), and $upstream_response_length counts what came after the
# VALUE line, the "\r\nEND\r\n" trailer included (a HEAD: 0).
#
#   prove -I t/lib t/993-memcached-diff.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/993-memcached-diff.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;
use IO::Socket::INET ();

daemon_skip_unless('memcached');

my $port = daemon(memc => sub {
    my ($port) = @_;
    return ('memcached', '-l', '127.0.0.1', '-p', $port, '-U', '0', '-u', 'root', '-m', '16');
});

{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 3)
        or die "memcached: $!";
    print $s "set /k 0 0 11\r\nhello world\r\n";
    my $reply = <$s>;
    die "memcached set: $reply" unless $reply eq "STORED\r\n";
    close $s;
}

log_level('info');

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', "    log_format r '\$request_method \$status \$upstream_response_length';\n"
                                 . ($b->http_config // ''));
});

run_tests();

__DATA__

=== TEST 1: a value: Accept-Ranges: bytes
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /k
--- response_headers
Accept-Ranges: bytes
Content-Length: 11
--- response_body chomp
hello world



=== TEST 2: a Range of a value: 206
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /k
--- more_headers
Range: bytes=6-10
--- error_code: 206
--- response_headers
Content-Range: bytes 6-10/11
--- response_body chomp
world



=== TEST 3: memcached_next_upstream not_found: the second server's miss is a 404 too
--- http_config
    upstream mc {
        server 127.0.0.1:$TEST_NGINX_MEMC_PORT;
        server 127.0.0.1:$TEST_NGINX_MEMC_PORT max_fails=0;
    }
--- config
    location / {
        set $memcached_key $uri;
        memcached_next_upstream not_found;
        memcached_pass mc;
        add_header X-Tries "$upstream_status" always;
    }
--- request
GET /missing
--- error_code: 404
--- response_headers
X-Tries: 404, 404
--- error_log
key: "/missing" was not found by memcached
--- no_error_log
[error]



=== TEST 4: $upstream_response_length: the value and its trailer; a HEAD's none
--- config
    location / {
        access_log logs/r.log r;
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
    location = /x { access_log off; return 200 "x\n"; }
--- init
my ($r, $l) = get_logged('/k', 'r.log');
Test::More::is($l, 'GET 200 18', 'TEST 4: a GET');
($r, $l) = get_logged('/k', 'r.log', "HEAD /k HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 2);
Test::More::is($l, 'HEAD 200 0', 'TEST 4: a HEAD');
--- request
GET /x
--- response_body
x
