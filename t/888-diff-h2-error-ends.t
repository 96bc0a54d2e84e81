# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py), how
# a connection ends for an error:
# - after a GOAWAY for an error while a request still runs, nginx keeps the connection (reading
#   and writing nothing more: the request's response never goes) until that request ends, then
#   closes it; moongate closed it at once (the request ran on all the same). Here the request's
#   last act is a log line: it is on the log when the connection's end is seen.
# - a header block that ends inside a field, and a HEADERS frame with no block: nginx's GOAWAY
#   is FRAME_SIZE_ERROR, with a line (nghttp2 sent COMPRESSION_ERROR for the first, unlogged,
#   and took the second as a request without fields: 400); the header walk (v2_hpack.c) now
#   stops there.
# - a padded frame whose padding does not fit: the same GOAWAY, and now nginx's line too.
#
#   prove -I t/lib t/888-diff-h2-error-ends.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/888-diff-h2-error-ends.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    location /t { return 200 "ok\n"; }
    location /lua {
        content_by_lua_block {
            ngx.sleep(0.5)
            ngx.log(ngx.WARN, "request ", ngx.var.uri, " ran to its end")
            ngx.say("done")
        }
    }
CONF

run_tests();

__DATA__

=== TEST 1: a request runs, then a header block with a 5-octet index (nginx's own GOAWAY COMPRESSION_ERROR): the connection ends once the request ended, its response not sent
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/lua')) + frame(1, 5, 3, b'\xff\x80\x80\x80\x00'))
print(c.wait(0, 10))
print('stream 1:', c.status.get(1))
log = open('$TEST_NGINX_SERVROOT/logs/error.log').read()
print('closed after the request' if 'ran to its end' in log else 'closed before the request ended')
--- h2_out
GOAWAY 3 9 closed
stream 1: None
closed after the request
--- error_log
client sent header block with too long header index value
request /lua ran to its end



=== TEST 2: a request runs, then HEADERS again on its stream (nghttp2's GOAWAY PROTOCOL_ERROR): the same
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/lua')) + frame(1, 5, 1, request('/lua')))
print(c.wait(0, 10))
print('stream 1:', c.status.get(1))
log = open('$TEST_NGINX_SERVROOT/logs/error.log').read()
print('closed after the request' if 'ran to its end' in log else 'closed before the request ended')
--- h2_out
GOAWAY 1 1 closed
stream 1: None
closed after the request
--- error_log
request /lua ran to its end



=== TEST 3: no request running: the connection ends with the GOAWAY, as before
--- h2_py
c = Raw(P)
c.headers(1, request())
print(c.wait(1))
c.sock.sendall(frame(1, 5, 3, b'\xff\x80\x80\x80\x00'))
print(c.wait(0, 10))
--- h2_out
200
GOAWAY 3 9 closed



=== TEST 4: a block that ends inside a string, inside an integer, after a name, or has only padding: FRAME_SIZE_ERROR naming the stream, each named on the log
--- h2_py
for tail in (b'\x00\x05ab', b'\x0f', b'\x00' + hstr('x-a'), b'\x00\x7f\x10' + b'x' * 10):
    c = Raw(P)
    c.headers(1, request() + tail)
    print(c.wait(0))
c = Raw(P)
c.sock.sendall(frame(1, 0xd, 1, b'\x03abc'))
print(c.wait(0))
# the same cut across a CONTINUATION: only the block's last frame counts
c = Raw(P)
c.send(1, request() + b'\x00\x05ab', [len(request()) + 2])
print(c.wait(0))
--- h2_out
GOAWAY 1 6 closed
GOAWAY 1 6 closed
GOAWAY 1 6 closed
GOAWAY 1 6 closed
GOAWAY 1 6 closed
GOAWAY 1 6 closed
--- error_log
client sent header field with incorrect length
client sent header block with incorrect length



=== TEST 5: a HEADERS frame with no block (none at all, only a priority, a padding of 0): FRAME_SIZE_ERROR naming the stream before it, on the log; a block in CONTINUATIONs after it does not help
--- h2_py
for f in (frame(1, 5, 1, b''), frame(1, 0x25, 1, b'\0\0\0\0\x10'), frame(1, 0xd, 1, b'\x00'),
          frame(1, 1, 1, b'') + frame(9, 4, 1, request())):
    c = Raw(P)
    c.sock.sendall(f)
    print(c.wait(0))
c = Raw(P)
c.headers(1, request())
print(c.wait(1))
c.headers(3, b'')
print(c.wait(0))
--- h2_out
GOAWAY 0 6 closed
GOAWAY 0 6 closed
GOAWAY 0 6 closed
GOAWAY 0 6 closed
200
GOAWAY 1 6 closed
--- error_log
client sent HEADERS frame with empty header block



=== TEST 6: a padded HEADERS or DATA frame whose padding does not fit: PROTOCOL_ERROR (nghttp2's), the frame's length and padding on the log (a read cutting the pad length from its header would leave the line out)
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 0xd, 1, b'\xff' + request()))
print(c.wait(0))
c = Raw(P)
c.headers(1, request('/lua'), flags=4)
c.sock.sendall(frame(0, 0x9, 1, b'\x10abc'))
print(c.wait(0, 10))
--- h2_out
GOAWAY 0 1 closed
GOAWAY 1 1 closed
--- error_log
client sent padded HEADERS frame with incorrect length: 17, padding: 255
client sent padded DATA frame with incorrect length: 4, padding: 16
