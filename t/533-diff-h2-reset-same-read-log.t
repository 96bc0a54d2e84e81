# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py): a
# client's RST_STREAM in the read that brought the stream's header block. nginx has started the
# request by then and logs the reset on it ("client canceled stream 1", or "client terminated
# stream 1 ..." for another code), with the request line and host; moongate does not run such a
# request (the reset is its end) and logged nothing. It then logged nginx's line on a request
# made for it; since t/486 the request starts before nghttp2 reads the reset, as nginx's, and the
# reset cuts it and is logged on it. The next stream is served as before. (A request nginx ends
# within that read, a return, gets no line: t/486.) nginx words REFUSED_STREAM "client refused
# stream N"; moongate said "... with status 7" (TEST 3).
#
#   prove -I t/lib t/533-diff-h2-reset-same-read-log.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/533-diff-h2-reset-same-read-log.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    location /t { return 200 "ok\n"; }
    location /slow {
        content_by_lua_block { ngx.send_headers() ngx.flush(true) ngx.sleep(0.2) ngx.say("slow") }
    }
CONF

run_tests();

__DATA__

=== TEST 1: HEADERS and RST_STREAM CANCEL in one write: "client canceled stream 1" with the request, the next stream served
--- h2_py
import struct
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/slow')) + frame(3, 0, 1, struct.pack('>I', 8)))
c.headers(3, request())
print(c.wait(3))
--- h2_out
200
--- error_log
client canceled stream 1, client: 127.0.0.1, server: localhost, request: "GET /slow HTTP/2.0", host: "localhost"



=== TEST 2: the same with INTERNAL_ERROR, REFUSED_STREAM and PROTOCOL_ERROR: each worded as nginx's
--- h2_py
import struct
for code in (2, 7, 1):
    c = Raw(P)
    c.sock.sendall(frame(1, 5, 1, request('/slow')) + frame(3, 0, 1, struct.pack('>I', code)))
    c.headers(3, request())
    print(c.wait(3))
--- h2_out
200
200
200
--- error_log
client terminated stream 1 due to internal error, client: 127.0.0.1, server: localhost, request: "GET /slow HTTP/2.0"
client refused stream 1, client: 127.0.0.1, server: localhost, request: "GET /slow HTTP/2.0"
client terminated stream 1 with status 1, client: 127.0.0.1, server: localhost, request: "GET /slow HTTP/2.0"



=== TEST 3: REFUSED_STREAM for a request already running (a read later): "client refused stream 1" (it was "client terminated stream 1 with status 7")
--- h2_py
import struct, time
c = Raw(P)
c.headers(1, request('/slow'))
deadline = time.time() + 5
while 1 not in c.status and time.time() < deadline:  # its response's head: the request runs
    c.sock.settimeout(deadline - time.time())
    c.buf += c.sock.recv(65536)
    c.frames()
c.sock.sendall(frame(3, 0, 1, struct.pack('>I', 7)))
c.headers(3, request())
print(c.wait(3))
--- h2_out
200
--- error_log
client refused stream 1, client: 127.0.0.1, server: localhost, request: "GET /slow HTTP/2.0"
