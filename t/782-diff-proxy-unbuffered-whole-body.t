# proxy_request_buffering off with a body that is whole when the upstream request is built,
# as Debian's nginx 1.22 does it: the bytes that came with the head, then what the client
# sent so far read into one client_body_buffer_size buffer (a Content-Length body's rest
# under a quarter more in one of its size); a body complete by then is sent as a buffered one,
# with a Content-Length even when it came chunked, and a failed upstream is retried with it.
# A body longer, or still coming, is streamed (chunked on with HTTP/1.1), and not retried.
# Requests here go in one write, so what came "so far" is all of it; the head and the first
# read are client_header_buffer_size (1k), as nginx reads a head.
#
#   prove -I t/lib t/782-diff-proxy-unbuffered-whole-body.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/782-diff-proxy-unbuffered-whole-body.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');
backend(rst => 'reset');

# a chunked body of $size bytes of "x" in one chunk (13 bytes of framing for 4 hex digits)
sub chunked { my $size = shift; sprintf("%x\r\n%s\r\n0\r\n\r\n", $size, 'x' x $size) }
# a head of 84 bytes
our $Head = "POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
# what the echo backend got: its framing header and the body's length
sub framing {
    my $b = shift;
    my ($h, $body) = split /\n\n/, $b, 2;
    my @f = $h =~ /^((?:Content-Length|Transfer-Encoding): .*)$/mg;
    return join(', ', @f) . ', ' . length($body // '');
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value(response_body_filters => 'framing') unless defined $b->response_body_filters;
});

run_tests();

__DATA__

=== TEST 1: a chunked body that came with its head: sent with a Content-Length
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
$main::Head . "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
--- response_body: Content-Length: 12, 12



=== TEST 2: whole within 1k of head buffer and client_body_buffer_size: a Content-Length
--- config
    location /t {
        client_body_buffer_size 4k;
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
# 84 + 5023 + 13 = 5120 bytes: 1024 read with the head, 4096 more
$main::Head . main::chunked(5023)
--- response_body: Content-Length: 5023, 5023



=== TEST 3: one byte more than that: streamed chunked
--- config
    location /t {
        client_body_buffer_size 4k;
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
$main::Head . main::chunked(5024)
--- response_body: Transfer-Encoding: chunked, 5024



=== TEST 4: a larger client_body_buffer_size takes a larger body whole
--- config
    location /t {
        client_body_buffer_size 64k;
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- raw_request eval
$main::Head . main::chunked(40000)
--- response_body: Content-Length: 40000, 40000



=== TEST 5: a whole body goes to the next upstream when the first fails
--- http_config
    upstream two { server 127.0.0.1:$TEST_NGINX_RST_PORT; server 127.0.0.1:$TEST_NGINX_A_PORT; }
--- config
    location /t {
        proxy_request_buffering off;
        proxy_pass http://two;
    }
--- raw_request eval
"PUT /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"
--- response_body: Content-Length: 5, 5



=== TEST 6: a chunked one too, sent on with its length
--- http_config
    upstream two { server 127.0.0.1:$TEST_NGINX_RST_PORT; server 127.0.0.1:$TEST_NGINX_A_PORT; }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://two;
    }
--- raw_request eval
"PUT /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "5\r\nhello\r\n0\r\n\r\n"
--- response_body: Content-Length: 5, 5



=== TEST 7: a Content-Length body beyond a quarter more than the buffer: streamed, not retried
--- http_config
    upstream two { server 127.0.0.1:$TEST_NGINX_RST_PORT; server 127.0.0.1:$TEST_NGINX_A_PORT; }
--- config
    location /t {
        client_body_buffer_size 4k;
        proxy_request_buffering off;
        proxy_pass http://two;
    }
--- raw_request eval
# a head of 77 bytes: 947 bytes of body come with it, 5120 = 4096 + 1024 after it
"PUT /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 6067\r\n\r\n" . 'x' x 6067
--- response_body_filters
--- error_code: 502
--- response_body_like: 502 Bad Gateway
--- error_log
recv() failed (104: Connection reset by peer) while reading response header from upstream



=== TEST 8: under a quarter more: whole, retried
--- http_config
    upstream two { server 127.0.0.1:$TEST_NGINX_RST_PORT; server 127.0.0.1:$TEST_NGINX_A_PORT; }
--- config
    location /t {
        client_body_buffer_size 4k;
        proxy_request_buffering off;
        proxy_pass http://two;
    }
--- raw_request eval
"PUT /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 6066\r\n\r\n" . 'x' x 6066
--- response_body: Content-Length: 6066, 6066
