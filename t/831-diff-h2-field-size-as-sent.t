# Found by running the same header blocks through nginx 1.22 and moongate (issue 17): over
# HTTP/2, large_client_header_buffers' size bounds each name and value as sent, its HPACK string
# length (Huffman-coded or raw), not as decoded: 1100 bytes of Huffman-friendly text (688 sent)
# pass under 1k, 304 bytes that Huffman codes long (1026 sent) do not. A name or a field from
# the tables (an index, static or dynamic) is not measured again. Over the limit the connection
# ends (GOAWAY ENHANCE_YOUR_CALM) with "client sent too large header field". nghttp2 decodes
# for moongate; v2_hpack.c walks the blocks ahead of it for the lengths as sent.
#
#   prove -I t/lib t/831-diff-h2-field-size-as-sent.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/831-diff-h2-field-size-as-sent.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    large_client_header_buffers 4 1k;
    location /t { return 200 "ok\n"; }
CONF

run_tests();

__DATA__

=== TEST 1: a Huffman-coded value of 1100 bytes, 688 as sent, under 1k: served
--- h2_py
one(P, lit('x-a', 'a' * 1100, huff=True))
--- h2_out
200
--- no_error_log
too large



=== TEST 2: 1638 bytes of 'a' are 1024 as sent (served), 1639 are 1025 (the connection ends)
--- h2_py
print(len(huffman('a' * 1638)), len(huffman('a' * 1639)))
one(P, lit('x-a', 'a' * 1638, huff=True))
one(P, lit('x-a', 'a' * 1639, huff=True))
--- h2_out
1024 1025
200
GOAWAY 1 11 closed
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 3: a value Huffman codes longer: 303 bytes of 0xfe are 1023 as sent (served), 304 are 1026 (the connection ends), 304 raw are served
--- h2_py
print(len(huffman(b'\xfe' * 303)), len(huffman(b'\xfe' * 304)))
one(P, lit('x-a', b'\xfe' * 303, huff=True))
one(P, lit('x-a', b'\xfe' * 304, huff=True))
one(P, lit('x-a', b'\xfe' * 304))
--- h2_out
1023 1026
200
GOAWAY 1 11 closed
200
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 4: a name: 1170 bytes of 'x' are 1024 as sent (served), 1171 are 1025 (the connection ends)
--- h2_py
one(P, lit('x' * 1170, 'v', huff=True))
one(P, lit('x' * 1171, 'v', huff=True))
--- h2_out
200
GOAWAY 1 11 closed
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 5: a static table name (user-agent) with a Huffman-coded value of 1100 bytes: served; with a raw one of 1025, not
--- h2_py
one(P, lit_idx(58, 'a' * 1100, huff=True))
one(P, lit_idx(58, 'a' * 1025))
--- h2_out
200
GOAWAY 1 11 closed
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 6: never indexed, and with incremental indexing: measured alike
--- h2_py
one(P, lit('x-a', 'a' * 1100, huff=True, kind=NEVER))
one(P, lit('x-a', 'a' * 1100, huff=True, kind=INDEXED))
one(P, lit('x-a', 'a' * 1025, kind=INDEXED))
--- h2_out
200
200
GOAWAY 1 11 closed
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 7: a field of 1104 bytes decoded in the dynamic table, referred to by the next request's block: not measured again, served
--- h2_py
c = Raw(P)
c.send(1, request() + lit('x-a', 'a' * 1100, huff=True, kind=INDEXED))
print(c.wait(1))
c.send(3, request() + idx(62))
print(c.wait(3))
--- h2_out
200
200
--- no_error_log
too large



=== TEST 8: the same with a raw value of 1025 for the table's name: the value is measured
--- h2_py
c = Raw(P)
c.send(1, request() + lit('x-a', 'a' * 10, kind=INDEXED))
print(c.wait(1))
c.send(3, request() + lit_idx(62, 'b' * 1025))
print(c.wait(3))
--- h2_out
200
GOAWAY 3 11 closed
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 9: the block split over CONTINUATIONs within the value's length and within its string: measured the same
--- h2_py
one(P, lit('x-a', 'a' * 1639, huff=True), split=[6])
one(P, lit('x-a', 'a' * 1639, huff=True), split=[6, 300])
one(P, lit('x-a', 'a' * 1638, huff=True), split=[6, 300])
--- h2_out
GOAWAY 1 11 closed
GOAWAY 1 11 closed
200
--- error_log
client sent too large header field while processing HTTP/2 connection



=== TEST 10: the fields before the one over the limit are taken first: a bad name among them resets its stream (logged), then the connection ends
--- h2_py
c = Raw(P)
c.send(1, request() + lit('X-a', 'v') + lit('x-b', 'a' * 1639, huff=True))
print(c.wait(1))
print(c.wait(0))
--- h2_out
RST 1
GOAWAY 1 11 closed
--- error_log
client sent invalid header name: "X-a"
client sent too large header field while processing HTTP/2 connection
