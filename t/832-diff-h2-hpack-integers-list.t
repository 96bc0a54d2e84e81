# Found by running the same header blocks through nginx 1.22 and moongate (issue 17): nginx
# reads an HPACK integer from at most 4 octets (its prefix's included) and ends the connection
# (GOAWAY COMPRESSION_ERROR) at a longer one, a string's length, a table size update or an
# index, each in its own words; nghttp2 took any of them. The header list's bound
# (large_client_header_buffers' size times their number) sums names and values decoded: four
# Huffman-coded values sent in 2.5 KB but 4 KB decoded are over it, as is a field from the
# dynamic table referred to four times.
#
#   prove -I t/lib t/832-diff-h2-hpack-integers-list.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/832-diff-h2-hpack-integers-list.t

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

=== TEST 1: a value's length of 127 in 4 octets (the prefix's and 3 more): served
--- h2_py
one(P, hint(58, 4) + b'\x7f\x80\x80\x00' + b'v' * 127)
--- h2_out
200
--- no_error_log
too long



=== TEST 2: the same length in 5 octets: the connection ends (GOAWAY COMPRESSION_ERROR)
--- h2_py
one(P, hint(58, 4) + b'\x7f\x80\x80\x80\x00' + b'v' * 127)
--- h2_out
GOAWAY 1 9 closed
--- error_log
client sent header field with too long length value while processing HTTP/2 connection



=== TEST 3: a name's length in 5 octets: the same
--- h2_py
one(P, b'\x00\x7f\x80\x80\x80\x00' + b'x' * 127 + hstr('v'))
--- h2_out
GOAWAY 1 9 closed
--- error_log
client sent header field with too long length value while processing HTTP/2 connection



=== TEST 4: a dynamic table size update of 31 in 5 octets, the block's first: the connection ends
--- h2_py
c = Raw(P)
c.send(1, b'\x3f\x80\x80\x80\x00' + request())
print(c.wait(1))
--- h2_out
GOAWAY 1 9 closed
--- error_log
client sent header block with too long size update value while processing HTTP/2 connection



=== TEST 5: an index in 5 octets: the connection ends, in nginx's words
--- h2_py
one(P, b'\xff\x80\x80\x80\x00')
--- h2_out
GOAWAY 1 9 closed
--- error_log
client sent header block with too long header index value while processing HTTP/2 connection



=== TEST 6: the list's bound sums the fields decoded: four Huffman-coded values of 1009 bytes (631 sent) make 4094 with the request's, served; of 1010 bytes, 4098: the connection ends
--- h2_py
one(P, b''.join(lit('x-%d' % i, 'a' * 1009, huff=True) for i in range(4)))
one(P, b''.join(lit('x-%d' % i, 'a' * 1010, huff=True) for i in range(4)))
--- h2_out
200
GOAWAY 1 11 closed
--- error_log
client sent too large header while processing HTTP/2 connection



=== TEST 7: a dynamic table field of 1103 bytes decoded, referred to four times by the next block: over the list's bound
--- h2_py
c = Raw(P)
c.send(1, request() + lit('x-a', 'a' * 1100, huff=True, kind=INDEXED))
print(c.wait(1))
c.send(3, request() + idx(62) * 4)
print(c.wait(3))
--- h2_out
200
GOAWAY 3 11 closed
--- error_log
client sent too large header while processing HTTP/2 connection
