# memcached (modules/memcached.c) against Debian's memcached, started by this file on a
# free port and filled before the tests, and against fake servers for broken answers:
# hits, misses (404), memcached_gzip_flag, a large value, $memcached_key unset, an error
# reply (502), a value cut short (never served as complete).
#
#   prove -I t/lib t/603-memcached.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/603-memcached.t

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

our $Big = join '', map { sprintf "%07d\n", $_ } 1 .. 50000;

# fill it: "set KEY FLAGS EXPTIME BYTES\r\nDATA\r\n"
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 3)
        or die "memcached: $!";
    for my $item (['/foo', 0, "hello memcached"], ['/gz', 2, "pretend gzip"],
                  ['/big', 0, $Big], ['a%20b', 0, "escaped key"],
                  ["/del\x7f", 0, "DEL as it is"], ['/del%7F', 0, "DEL escaped"]) {
        my ($k, $f, $v) = @$item;
        print $s "set $k $f 0 " . length($v) . "\r\n$v\r\n";
        my $reply = <$s>;
        die "memcached set $k: $reply" unless $reply eq "STORED\r\n";
    }
    close $s;
}

backend(gone   => 'refused');
backend(err    => 'script', script => [0.1, "SERVER_ERROR out of memory\r\n"], hold => 1);
backend(cut    => 'script', script => [0.1, "VALUE /c 0 100\r\nonly this much", 0.2], hold => 0);
backend(badend => 'script', script => [0.1, "VALUE /t 0 5\r\nhello\r\nXXX\r\n"], hold => 1);

run_tests();

__DATA__

=== TEST 1: a hit: the value, its length
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /foo
--- response_headers
Content-Length: 15
!Content-Encoding
--- response_body chomp
hello memcached



=== TEST 2: a miss: 404, logged at info as nginx
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /nothere
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log
key: "/nothere" was not found by memcached while reading response header from upstream



=== TEST 3: memcached_gzip_flag: a value whose flags have the bit is marked gzip
--- config
    location / {
        set $memcached_key $uri;
        memcached_gzip_flag 2;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /gz
--- response_headers
Content-Encoding: gzip
--- response_body chomp
pretend gzip



=== TEST 4: a 400 KB value through the 4k buffer
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /big
--- response_body eval
$main::Big



=== TEST 5: a key with a space goes escaped
--- config
    location / {
        set $memcached_key "a b";
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /x
--- response_body chomp
escaped key



=== TEST 6: $memcached_key not set for the request: 500
--- config
    location / {
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
    location /other {
        set $memcached_key $uri;
    }
--- request
GET /foo
--- error_code: 500
--- error_log
the "$memcached_key" variable is not set



=== TEST 7: nothing listening: 502, the memcached:// address in the log
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_GONE_PORT;
    }
--- request
GET /foo
--- error_code: 502
--- error_log eval
qr{connect\(\) failed \(111: Connection refused\) while connecting to upstream, .*upstream: "memcached://127\.0\.0\.1:\d+"}



=== TEST 8: an error reply: 502 and nginx's line
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_ERR_PORT;
    }
--- request
GET /e
--- error_code: 502
--- error_log
memcached sent invalid response: "SERVER_ERROR out of memory" while reading response header from upstream



=== TEST 9: a value cut short is not served as complete
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_CUT_PORT;
    }
--- request
GET /c
--- response_incomplete
--- response_headers
Content-Length: 100
--- response_body chomp
only this much
--- error_log eval
qr{(?:upstream prematurely closed connection|recv\(\) failed \(104: Connection reset by peer\)) while reading upstream}



=== TEST 10: a wrong trailer after a whole value: logged, the value served
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_BADEND_PORT;
    }
--- request
GET /t
--- response_body chomp
hello
--- error_log
memcached sent invalid trailer



=== TEST 11: memcached_next_upstream names
--- config
    location / {
        set $memcached_key $uri;
        memcached_next_upstream error timeout invalid_response not_found;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /foo
--- response_body chomp
hello memcached



=== TEST 12: a DEL in the key goes as it is (nginx escapes only the space, '%' and controls)
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- request
GET /del%7F
--- response_body chomp
DEL as it is
