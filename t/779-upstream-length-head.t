# $upstream_response_length when the body is not passed on, as nginx: a client's HEAD on
# uwsgi and SCGI (sent as REQUEST_METHOD HEAD, the application may answer with a body)
# ends with the head, its body neither read nor counted: 0, not the bytes that came with
# the head; a memcached value whose forced byte range is refused (416) counts 0, not the
# value's bytes.  The upstreams are fakes (Test::MoongateBackend's script kind) answering
# with the head and a body in one write.
#
#   prove -I t/lib t/779-upstream-length-head.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/779-upstream-length-head.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(app => 'script',
        script => [0.05, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody-bytes\n"],
        hold => 0);
backend(memc => 'script', script => [0.05, "VALUE /k 0 11\r\nhello world\r\nEND\r\n"], hold => 1);

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config',
                  "    log_format r '\$request_method \$status \$upstream_response_length';\n"
                  . ($b->http_config // ''));
    $b->set_value('config', ($b->config // '')
                  . "\n    location = /x { access_log off; return 200 \"x\\n\"; }\n");
});

run_tests();

__DATA__

=== TEST 1: uwsgi: a GET counts the body, a HEAD 0
--- config
    location / {
        access_log logs/u.log r;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
my ($r, $l) = get_logged('/a', 'u.log');
Test::More::is($l, 'GET 200 11', 'TEST 1: a GET');
($r, $l) = get_logged('/a', 'u.log', "HEAD /a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 2);
Test::More::is($l, 'HEAD 200 0', 'TEST 1: a HEAD');
Test::More::unlike($r, qr/body-bytes/, 'TEST 1: no body');
--- request
GET /x
--- response_body
x



=== TEST 2: SCGI: a GET counts the body, a HEAD 0
--- config
    location / {
        access_log logs/s.log r;
        scgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
my ($r, $l) = get_logged('/a', 's.log');
Test::More::is($l, 'GET 200 11', 'TEST 2: a GET');
($r, $l) = get_logged('/a', 's.log', "HEAD /a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 2);
Test::More::is($l, 'HEAD 200 0', 'TEST 2: a HEAD');
--- request
GET /x
--- response_body
x



=== TEST 3: memcached: a range past the value is refused (416) and counts 0
--- config
    location / {
        access_log logs/m.log r;
        set $memcached_key $uri;
        memcached_pass 127.0.0.1:$TEST_NGINX_MEMC_PORT;
    }
--- init
my ($r, $l) = get_logged('/k', 'm.log', "GET /k HTTP/1.1\r\nHost: localhost\r\nRange: bytes=100-\r\nConnection: close\r\n\r\n");
Test::More::like($r, qr{^HTTP/1.1 416 }, 'TEST 3: 416');
Test::More::is($l, 'GET 416 0', 'TEST 3: counted 0');
--- request
GET /x
--- response_body
x
