# The Host's server gives the large_client_header_buffers for the header lines after the Host
# line (nginx reads them on the request's server by then). connection.c looked the Host up on
# its own (checked and lowercased it apart from headers_in.c's choice of the server); both now
# ask one function (vhost.c's mg_http_host_server). These blocks check every form of a Host
# reaches the same server both ways: a port, a trailing dot, uppercase, an IPv6 literal, an
# absolute-form target, an invalid name, and a line before the Host (the default server's).
# An invalid Host in a head larger than the default server's buffers was laid out with them
# and refused as "too long header line"; nginx refuses the Host at its line (TEST 6).
#
#   TEST_MOONGATE_SERVROOT=/tmp/sr-x prove -I t/lib t/839-host-server-large-buffers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/839-host-server-large-buffers.t
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    # the default server's buffers hold no 1500-byte line; big.test's and [::1]'s do
    $block->set_value(listen_options => 'default_server');
    $block->set_value(http_config => <<'CONF') unless defined $block->http_config;
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name big.test [::1];
        large_client_header_buffers 2 4k;
        location / { return 200 "big $host\n"; }
    }
CONF
    $block->set_value(config => <<'CONF') unless defined $block->config;
    large_client_header_buffers 2 1k;
    location / { return 200 "default $host\n"; }
CONF
    $block->set_value(timeout => 3) unless defined $block->timeout;
});

our $long = "X-Long: " . ("x" x 1500) . "\r\n";

run_tests();

__DATA__

=== TEST 1: a Host of the named server: its large buffers take the long line
--- raw_request eval
"GET / HTTP/1.1\r\nHost: big.test\r\n$::long" . "Connection: close\r\n\r\n"
--- response_body
big big.test



=== TEST 2: uppercase, a trailing dot and a port: the same server
--- raw_request eval
"GET / HTTP/1.1\r\nHost: BIG.Test.:8080\r\n$::long" . "Connection: close\r\n\r\n"
--- response_body
big big.test



=== TEST 3: an IPv6 literal with a port
--- raw_request eval
"GET / HTTP/1.1\r\nHost: [::1]:80\r\n$::long" . "Connection: close\r\n\r\n"
--- response_body
big [::1]



=== TEST 4: an absolute-form target's host chooses before any header line
--- raw_request eval
"GET http://Big.TEST./ HTTP/1.1\r\nHost: other\r\n$::long" . "Connection: close\r\n\r\n"
--- response_body
big big.test



=== TEST 5: a name no server has: the default server's buffers refuse the line
--- raw_request eval
"GET / HTTP/1.1\r\nHost: bigger.test\r\n$::long" . "Connection: close\r\n\r\n"
--- error_code: 400
--- response_body_like: Request Header Or Cookie Too Large
--- error_log
client sent too long header line



=== TEST 6: an invalid Host ("..") is refused at its line
--- raw_request eval
"GET / HTTP/1.1\r\nHost: big..test\r\n$::long" . "Connection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid host header



=== TEST 7: the long line before the Host: the default server's buffers
--- raw_request eval
"GET / HTTP/1.1\r\n$::long" . "Host: big.test\r\nConnection: close\r\n\r\n"
--- error_code: 400
--- error_log
client sent too long header line



=== TEST 8: the head trickled in (the buffer grows line by line): the Host's server still
--- raw_request eval
["GET / HTTP/1.1\r\nHost: BIG.test:1\r\n", "X-Long: " . ("x" x 700), ("x" x 800) . "\r\n",
 "Connection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.05
--- response_body
big big.test



=== TEST 9: an invalid Host, a long line trickled after it
--- raw_request eval
["GET / HTTP/1.1\r\nHost: big..test\r\n", "X-Long: " . ("x" x 700), ("x" x 800) . "\r\n",
 "Connection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.05
--- error_code: 400
--- error_log
client sent invalid host header
