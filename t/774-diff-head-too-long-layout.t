# Found by running the same configs on nginx 1.22 and moongate: a head larger than
# client_header_buffer_size goes into nginx's large_client_header_buffers a line each (a line
# that does not fit what is left of a buffer moves whole to the next one), so an incomplete
# head is refused once the line being read fills the last buffer (gaps included), not when
# the bytes add up to all of them, and "client sent too long header line" quotes that line
# from its start to its buffer's end. moongate counted bytes: it waited for more (or read the
# next line) and quoted a few bytes more or another line.
#
#   prove -I t/lib t/774-diff-head-too-long-layout.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/774-diff-head-too-long-layout.t
use Test::Moongate;

log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    # 200 bytes, then two buffers of 600 (connection_pool_size's 512 at least)
    $block->set_value(config => <<'CONF') unless defined $block->config;
    client_header_buffer_size 200;
    large_client_header_buffers 2 600;
    location / { return 200 "ok\n"; }
CONF
    $block->set_value(timeout => 3) unless defined $block->timeout;
});

run_tests();

__DATA__

=== TEST 1: the line being read fills the second large buffer after another line: its part there is quoted
--- raw_request eval
"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: " . ("a" x 142) . "\r\nX-B: " . ("b" x 450)
. "\r\nX-C: " . ("c" x 450) . "\r\nX-D: " . ("d" x 300)
--- error_code: 400
--- error_log eval
'client sent too long header line: "X-D: ' . ("d" x 138) . '..." while reading client request headers'



=== TEST 2: lines that leave gaps: refused at the line that finds no buffer, before the bytes add up to them all
--- raw_request eval
"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: " . ("a" x 142) . "\r\nX-B: " . ("b" x 350)
. "\r\nX-C: " . ("c" x 350) . "\r\nX-D: " . ("d" x 350) . "\r\nX-E: " . ("e" x 300)
--- error_code: 400
--- error_log eval
'client sent too long header line: "X-D: ' . ("d" x 238) . '..." while reading client request headers'
--- no_error_log
"X-E:



=== TEST 3: a line longer than a large buffer, its end not sent yet: refused at once
--- raw_request eval
"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: " . ("a" x 142) . "\r\nX-B: " . ("b" x 700)
--- error_code: 400
--- error_log eval
'client sent too long header line: "X-B: ' . ("b" x 595) . '..." while reading client request headers'



=== TEST 4: a whole head sent at once is laid out the same way
--- raw_request eval
"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: " . ("a" x 142) . "\r\nX-B: " . ("b" x 450)
. "\r\nX-C: " . ("c" x 450) . "\r\nX-D: " . ("d" x 300) . "\r\n\r\n"
--- error_code: 400
--- error_log eval
'client sent too long header line: "X-D: ' . ("d" x 138) . '..." while reading client request headers'



=== TEST 5: lines that fit their buffers: served
--- raw_request eval
"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: " . ("a" x 142) . "\r\nX-B: " . ("b" x 593)
. "\r\nX-C: " . ("c" x 33) . "\r\nX-D: " . ("d" x 33) . "\r\nConnection: close\r\n\r\n"
--- response_body
ok
