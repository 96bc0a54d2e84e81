# nginx 1.22.1 (Debian's, with the CVE-2023-44487 change) refuses a stream opened beyond twice
# http2_max_concurrent_streams within one read event: RST_STREAM REFUSED_STREAM and "client sent
# too many streams at once", the connection kept; the count starts again with the next read
# event. Past the stream limit's refusals (at least 100; those for "concurrent streams exceeded"
# count too) it ends the connection instead: "client sent too many refused streams", GOAWAY
# NO_ERROR naming that stream. Both bound a rapid reset: a stream the client resets as soon as
# it sent it frees its place at once, yet its request runs (moongate runs it too since t/486).
# moongate served every stream of the read, and a rapid reset of 2000 streams ended only by
# keepalive_requests (t/703).
#
#   prove -I t/lib t/487-diff-h2-too-many-streams-at-once.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/487-diff-h2-too-many-streams-at-once.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    http2_max_concurrent_streams 2;
    location /t { return 200 "ok\n"; }
CONF

run_tests();

__DATA__

=== TEST 1: six requests in one write with a limit of 2: four served, the fifth and sixth refused; the next write's stream served
--- h2_py
c = Raw(P)
c.sock.sendall(b''.join(frame(1, 5, sid, request('/t')) for sid in (1, 3, 5, 7, 9, 11)))
print(c.wait(11), [c.wait(sid) for sid in (1, 3, 5, 7, 9)])
c.headers(13, request('/t'))
print(c.wait(13))
--- h2_out
RST 7 ['200', '200', '200', '200', 'RST 7']
200
--- error_log
client sent too many streams at once



=== TEST 2: a rapid reset (each HEADERS and its RST_STREAM), six in one write: four run and answered, two refused
--- h2_py
import struct
c = Raw(P)
c.sock.sendall(b''.join(frame(1, 5, sid, request('/t')) + frame(3, 0, sid, struct.pack('>I', 8))
                        for sid in (1, 3, 5, 7, 9, 11)))
print(c.wait(11), [c.wait(sid) for sid in (1, 3, 5, 7, 9)])
c.headers(13, request('/t'))
print(c.wait(13))
--- h2_out
RST 7 ['200', '200', '200', '200', 'RST 7']
200
--- error_log
client sent too many streams at once



=== TEST 3: 120 requests in one write with a limit of 2: four served, 101 refused, the 106th ends the connection (GOAWAY NO_ERROR naming it)
--- h2_py
import collections
c = Raw(P)
c.sock.sendall(b''.join(frame(1, 5, sid, request('/t')) for sid in range(1, 241, 2)))
print(c.wait(0))
print(collections.Counter(c.status.values()), max(c.status))
--- h2_out
GOAWAY 211 0 closed
Counter({'RST 7': 101, '200': 4}) 209
--- error_log
client sent too many refused streams
