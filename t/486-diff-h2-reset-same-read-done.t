# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py): a
# request whose HEADERS frame ends its stream and the client's RST_STREAM for it, in one write.
# nginx runs the request as its header block ends and writes what it answers before it reads
# the next frame: a request that ends there (a return) is answered, logged as served, and the
# reset finds no stream (no line); one still running (Lua that sleeps) is cut by the reset
# ("client canceled stream 1"). moongate freed such a stream unstarted and logged "client
# canceled stream 1" for either; its RST_STREAM now waits until the requests before it in the
# read have been started and their frames taken, as any frame of the stream after its HEADERS.
#
#   prove -I t/lib t/486-diff-h2-reset-same-read-done.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/486-diff-h2-reset-same-read-done.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    access_log $TEST_NGINX_LOG_DIR/error.log resetlog;
    location /t { return 200 "ok\n"; }
    location /slow {
        content_by_lua_block { ngx.sleep(0.2) ngx.say("slow") }
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => 'log_format resetlog "RESETLOG $request_uri $status";');
});

run_tests();

__DATA__

=== TEST 1: a return's HEADERS and RST_STREAM CANCEL in one write: answered and logged as served, no "client canceled" line
--- h2_py
import struct
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/t')) + frame(3, 0, 1, struct.pack('>I', 8)))
c.headers(3, request('/t?next'))
print(c.wait(3), c.status.get(1), 1 in c.ended)
--- h2_out
200 200 True
--- error_log
RESETLOG /t 200
RESETLOG /t?next 200
--- no_error_log
client canceled stream



=== TEST 2: the same with INTERNAL_ERROR: no "client terminated stream" line
--- h2_py
import struct
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/t')) + frame(3, 0, 1, struct.pack('>I', 2)))
c.headers(3, request('/t?next'))
print(c.wait(3), c.status.get(1))
--- h2_out
200 200
--- error_log
RESETLOG /t 200
RESETLOG /t?next 200
--- no_error_log
client terminated stream



=== TEST 3: two returns and their resets in one write, then a request still running when its reset comes: only that one is canceled
--- h2_py
import struct
c = Raw(P)
rst = lambda sid: frame(3, 0, sid, struct.pack('>I', 8))
c.sock.sendall(frame(1, 5, 1, request('/t?a')) + frame(1, 5, 3, request('/t?b')) + rst(1) + rst(3)
               + frame(1, 5, 5, request('/slow')) + rst(5))
c.headers(7, request('/t?next'))
print(c.wait(7), c.status.get(1), c.status.get(3))
--- h2_out
200 200 200
--- error_log
RESETLOG /t?a 200
RESETLOG /t?b 200
client canceled stream 5, client: 127.0.0.1, server: localhost, request: "GET /slow HTTP/2.0", host: "localhost"
RESETLOG /t?next 200
--- no_error_log
client canceled stream 1
client canceled stream 3
