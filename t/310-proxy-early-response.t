# An upstream that answers before it has read the request body (a 413 and close, say): the
# response is read while the body is still being sent and relayed to the client, not turned
# into a 502, also when the upstream's close resets the connection under the rest of the
# body; with proxy_request_buffering off the rest of the client's body is then not waited
# for.  The upstream connection is never kept alive after such an answer.
#
#   prove -I t/lib t/310-proxy-early-response.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/310-proxy-early-response.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(e => 'early', hold => 3);
backend(e200 => 'early', status => 200, hold => 3);
backend(eclose => 'early', hold => 0);

# send a head announcing $len body bytes and the first $part of them; read the response
# (bounded: the server must answer without the rest)
sub early {
    my ($path, $len, $part) = @_;
    my $s = client_connect();
    client_send($s, "POST $path HTTP/1.1\r\nHost: localhost\r\nContent-Length: $len\r\n\r\n"
                    . ('b' x $part));
    my $got = client_read($s, qr/\r\n\r\n(?s:.*)early \w+\n/, 5);
    close $s;
    return $got;
}

# the whole body at once, from a child (the server may stop reading it), and the response
sub whole {
    my ($path, $len) = @_;
    my $s = client_connect();
    my $pid = fork;
    if (!$pid) {
        client_send($s, "POST $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                        . "Content-Length: $len\r\n\r\n" . ('b' x $len));
        POSIX::_exit(0);
    }
    my $got = client_read($s, qr/\r\n\r\n(?s:.*)early \w+\n/, 10);
    close $s;
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return $got;
}

log_level('info');

run_tests();

__DATA__

=== TEST 1: proxy_request_buffering off: the 413 comes while the client still owes most of its body
--- config
    location / {
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_E_PORT;
    }
--- init
my $got = main::early('/t', 100000, 10);
Test::More::like($got, qr{\AHTTP/1\.1 413 Request Entity Too Large\r\n}, 'TEST 1: the upstream\'s 413');
Test::More::like($got, qr{\r\nX-Backend: e\r\n}, 'TEST 1: with its headers');
Test::More::like($got, qr{\r\n\r\nearly e\n\z}, 'TEST 1: and its body');
--- request
GET /t
--- error_code: 413



=== TEST 2: the same with HTTP/1.1 and keepalive to the upstream
--- http_config
    upstream e {
        server 127.0.0.1:$TEST_NGINX_E_PORT;
        keepalive 2;
    }
--- config
    location / {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_request_buffering off;
        proxy_pass http://e;
    }
--- init
my $got = main::early('/t', 100000, 10);
Test::More::like($got, qr{\AHTTP/1\.1 413 Request Entity Too Large\r\n(?s:.*)\r\n\r\nearly e\n\z}, 'TEST 2: the 413');
--- request
GET /t
--- error_code: 413



=== TEST 3: a buffered body larger than the socket buffers: the 413 while sending it
--- config
    location / {
        client_max_body_size 20m;
        client_body_buffer_size 20m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_E_PORT;
    }
--- init
my $got = main::whole('/t', 8000000);
Test::More::like($got, qr{\AHTTP/1\.1 413 Request Entity Too Large\r\n(?s:.*)\r\n\r\nearly e\n\z}, 'TEST 3: the 413');
--- request
GET /t
--- error_code: 413



=== TEST 4: an early 200 is relayed as well
--- config
    location / {
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_E200_PORT;
    }
--- init
my $got = main::early('/t', 100000, 10);
Test::More::like($got, qr{\AHTTP/1\.1 200 OK\r\n(?s:.*)\r\n\r\nearly e200\n\z}, 'TEST 4: the 200');
--- request
GET /t
--- error_code: 200



=== TEST 5: the upstream answers and closes at once: the reset under the body loses no answer
--- config
    location / {
        client_max_body_size 20m;
        client_body_buffer_size 20m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECLOSE_PORT;
    }
--- init
for my $i (1 .. 3) {
    my $got = main::whole('/t', 8000000);
    Test::More::like($got, qr{\AHTTP/1\.1 413 Request Entity Too Large\r\n(?s:.*)\r\n\r\nearly eclose\n\z},
                     "TEST 5: the 413, $i");
}
--- request
GET /t
--- error_code: 413
