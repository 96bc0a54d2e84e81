# HTTP/2 frames that come in one read: a request whose HEADERS end its stream (no body) starts
# once nghttp2 has taken the frames up to the next HEADERS or RST_STREAM (its response is framed
# and written in the same turn), so a stream the client reset in the same write is run and
# answered first, as nginx runs it at its HEADERS and writes its answer before it reads the
# reset (t/486; until then it never started and got nothing back), and the other streams of
# that read are served whole; a request with a body starts at its HEADERS, as nginx's, and
# gets the body sent in the same write whole. After each the worker serves a new connection.
# Each block sends its frames once the server acked the preface's SETTINGS (Raw.settled).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/709-http2-glue.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

# every block ends by checking that the worker still serves
h2_blocks(then => '/ok');

run_tests();

__DATA__

=== TEST 1: HEADERS with END_STREAM and an RST_STREAM for it in one write: answered before the reset is read, logged as served, the reset unlogged; the next stream of that write is served
--- http_config
    log_format glue "GLUELOG $request_uri $status";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log glue;
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.settled()
r.send(r.headers(1, '/one') + r.frame(3, 0, 1, (8).to_bytes(4, 'big')) + r.headers(3, '/two'))
ended = lambda s: any(f & 1 and sid == s for n, f, sid, p in r.frames if n in ('DATA', 'HEADERS'))
r.read(5, until=lambda: r.closed or ended(3))
r.read(0.3)
print('stream 1 frames', [n for n, f, sid, p in r.frames if sid == 1])
print('stream 3', r.statuses.get(3), ended(3), 'goaway', r.goaway(), 'closed', r.closed)
--- h2_out
stream 1 frames ['HEADERS', 'DATA']
stream 3 200 True goaway None closed False
then 200
--- error_log
GLUELOG /one 200
GLUELOG /two 200
--- no_error_log
client canceled stream



=== TEST 2: 200 streams in one write, with every other one reset in it: all answered whole (the reset ones before their reset is read), in the order they came
--- config
    location / { return 200 "ok\n"; }
    location /k { return 200 "$uri\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.settled()
data = b''
for i in range(1, 400, 2):
    data += r.headers(i, '/k%d' % i)
    if i % 4 == 1:
        data += r.frame(3, 0, i, (8).to_bytes(4, 'big'))
r.send(data)
ended = lambda s: any(f & 1 and sid == s for n, f, sid, p in r.frames if n in ('DATA', 'HEADERS'))
r.read(10, until=lambda: r.closed or ended(399))
r.read(0.3)
body = {}
for n, f, sid, p in r.frames:
    if n == 'DATA':
        body[sid] = body.get(sid, b'') + p
served = [s for s in range(1, 400, 2) if r.statuses.get(s) == '200' and ended(s) and body.get(s) == b'/k%d\n' % s]
answered = sorted(set(sid for n, f, sid, p in r.frames if n in ('HEADERS', 'DATA')))
order = [sid for n, f, sid, p in r.frames if n == 'HEADERS']
print('served', len(served), served == list(range(1, 400, 2)), 'answered only those', answered == served,
      'in order', order == served, 'closed', r.closed)
--- h2_out
served 200 True answered only those True in order True closed False
then 200
--- timeout: 30



=== TEST 3: a request body in the same write as its HEADERS, with and without content-length, reaches the handler whole
--- config
    location / { return 200 "ok\n"; }
    location /echo {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.print(ngx.var.uri, " ", ngx.req.get_body_data())
        }
    }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.settled()
r.send(r.headers(1, '/echo1', end_stream=False, method='POST', extra=[('content-length', '11')]) +
       r.frame(0, 0, 1, b'hello ') + r.frame(0, 1, 1, b'world') +
       r.headers(3, '/echo3', end_stream=False, method='POST') +
       r.frame(0, 0, 3, b'chunk') + r.frame(0, 0, 3, b'ed ') + r.frame(0, 1, 3, b'body'))
ended = lambda s: any(f & 1 and sid == s for n, f, sid, p in r.frames if n in ('DATA', 'HEADERS'))
r.read(5, until=lambda: r.closed or (ended(1) and ended(3)))
body = {}
for n, f, sid, p in r.frames:
    if n == 'DATA':
        body[sid] = body.get(sid, b'') + p
print(r.statuses.get(1), body.get(1), r.statuses.get(3), body.get(3), 'closed', r.closed)
--- h2_out
200 b'/echo1 hello world' 200 b'/echo3 chunked body' closed False
then 200
--- no_error_log
[error]



=== TEST 4: file bodies read ahead for the frames that follow: whole under an odd chunk size, a window that cuts frames, the peer's frame size below the chunk size, and many streams interleaved
--- config
    location / { return 200 "ok\n"; }
    location /odd/ { alias $TEST_NGINX_HTML_DIR/; http2_chunk_size 5000; }
    location /big/ { alias $TEST_NGINX_HTML_DIR/; http2_chunk_size 32k; }
    location /plain/ { alias $TEST_NGINX_HTML_DIR/; }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/f.bin" or die $!;
print $fh join('', map { chr(($_ * 7) % 253) } 0 .. (300000 - 1));
close $fh;
--- h2_py
import h2.settings
want = bytes((i * 7) % 253 for i in range(300000))
c = Client($TEST_NGINX_SERVER_PORT, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 12345})
ids = [c.request(p) for p in ('/odd/f.bin', '/big/f.bin', '/plain/f.bin', '/odd/f.bin', '/plain/f.bin')]
ids += [c.request('/plain/f.bin', headers=[('range', 'bytes=1234-250000')])]
c.wait(*ids, timeout=30)
for s in ids[:-1]:
    st = c.streams[s]
    print(st.status, len(st.body), st.body == want, st.ended)
st = c.streams[ids[-1]]
print(st.status, st.body == want[1234:250001], st.ended)
c2 = Client($TEST_NGINX_SERVER_PORT)
more = [c2.request(p) for p in ('/odd/f.bin', '/big/f.bin', '/plain/f.bin') * 4]
c2.wait(*more, timeout=30)
print(sum(1 for s in more if c2.streams[s].status == '200' and c2.streams[s].body == want and c2.streams[s].ended))
--- h2_out
200 300000 True True
200 300000 True True
200 300000 True True
200 300000 True True
200 300000 True True
206 True True
12
then 200
--- timeout: 60
--- no_error_log
[crit]
[alert]
