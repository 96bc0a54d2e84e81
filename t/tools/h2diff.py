#!/usr/bin/python3
# h2diff: the same raw HTTP/2 frames (cleartext, prior knowledge) to moongate and to Debian's
# nginx, run with the same config; prints each case where what came back differs: each stream's
# frames (status, DATA bytes, END_STREAM, RST_STREAM code), the GOAWAYs (last stream, code), PING
# ACKs, whether the connection closed (FIN or reset) or stayed open, and the error log's lines.
#
#   t/tools/h2diff.py [-k substring] [-v] [-m moongate] [-n nginx] [-d workdir] [cases.py ...]
#
# Not compared: SETTINGS and WINDOW_UPDATE frames (t/720 checks the SETTINGS), how DATA is cut
# into frames, the order of frames of different streams, the length of an error page (4xx, 5xx:
# it names the server). t/tools/h2cases-edge.py holds issue 17's edge list (flow control,
# content-length, malformed fields, :path, WINDOW_UPDATE 0, PRIORITY, SETTINGS, padding): 119
# cases, 9 differ in frames and 6 in the log only (17 and 14 before t/475-476): the window
# and frame size before the client's SETTINGS ACK (t/477), a client overrunning a window while
# its body is read (nginx has widened it already), an empty :path (nginx also ends the
# connection, "zero header name length"), a CR or LF in a value (moongate's line escapes it)
# and the ones below. Differences left (2026-12: 108 cases, the 2 "RST_STREAM with its return"
# the same since t/486 (a request reset in the read that brought it was not run, its reset
# logged; nginx runs and answers it first, and a return's reset has no line),
# 15-17 differ in frames (the "slow" ones by timing), 8 more in the log only (18 before t/533-534 and t/875 TEST 4-5), 16 in frames before t/476; 104 cases, 21 and 20 before t/887-888; 27 and
# 28 before t/873-875, 48 in frames before t/859-861):
#   - after a GOAWAY for an error while a request runs, both keep the connection until it ends
#     (t/888); but a request in echo_sleep never ends in nginx 1.22 then (the connection stays
#     for good), so the "slow ..." cases still differ: the "lua slow" ones (Lua's ngx.sleep)
#     show the same frames, nginx's close a reset (it closes with the client's SETTINGS ACK
#     unread) where moongate's is a FIN;
#   - frames only nginx sends on a connection already failing ("... short", "WINDOW_UPDATE 0",
#     "PRIORITY ... dep self", "HEADERS after END_STREAM": nginx's echo_sleep again);
#   - HPACK nginx is laxer on: Huffman padding longer than 7 bits, a table size update after
#     the block's first field (nghttp2: COMPRESSION_ERROR);
#   - DATA after the client's RST_STREAM: nginx resets the stream again (STREAM_CLOSED);
#   - DATA over a stream's window: moongate resets the stream, nginx does not (it widened the
#     window when the handler began to read, before the client saw a WINDOW_UPDATE);
#   - log only: nghttp2's HPACK errors have no line
#     (nginx names each: "out of bound hpack table index", "invalid encoded header field",
#     ...); the header walk (v2_hpack.c, t/875) names an index 0, a table size update over
#     4096 and an index past the static table while the dynamic one is empty; naming an index
#     past the entries the dynamic table holds needs their count, which depends on each
#     indexed literal's decoded size (Huffman strings decoded), and nghttp2 tells only the
#     table's size in bytes: not cheap enough for a line; nor a bad Huffman code (the walk
#     does not decode strings); nginx logs "client prematurely closed connection" where a reset stream was its last
#     (echo_sleep's request, and a Lua one reset in the read that brought it, still runs in
#     nginx: its stream counts until it ends; here none does).
# t/888 covers what went: a block cut inside a field (FRAME_SIZE_ERROR), an empty block, the
# lines of a padded frame whose padding does not fit.
# A cases file defines
# CASES = [(name, function(c)), ...], c a Trace (h2raw.Raw, connected, the preface and an empty
# SETTINGS sent): c.sock.sendall(bytes), c.settle() to read until quiet before the next step;
# h2raw's writers (frame, request, hint, lit, ...) are in the file's globals.
# t/tools/h2cases.py is the default.
import os, re, signal, socket, subprocess, sys, threading, time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(REPO, 't', 'lib'))
import h2raw  # noqa: E402


from diffserver import DiffServer, free_port, nginx_modules


CONF = r'''
%(modules)s
daemon on;
master_process on;
worker_processes 1;
error_log %(root)s/logs/error.log info;
pid %(root)s/logs/pid;
events { worker_connections 256; }
http {
    default_type text/plain;
    access_log off;
    client_body_temp_path %(root)s/cbt;
    proxy_temp_path %(root)s/pt;
    fastcgi_temp_path %(root)s/ft;
    uwsgi_temp_path %(root)s/ut;
    scgi_temp_path %(root)s/st;
    large_client_header_buffers 4 1k;
    lingering_timeout 1s;
    keepalive_timeout 10s;
    server {
        listen 127.0.0.1:%(port)s http2;
        server_name localhost;
        location /t { return 200 "ok\n"; }
        location /slow { echo_sleep 0.3; echo slow; }
        location /lslow { content_by_lua_block { ngx.sleep(0.3) ngx.say("slow") } }
        location /body {
            content_by_lua_block {
                ngx.req.read_body()
                ngx.say("body ", #(ngx.req.get_body_data() or ""))
            }
        }
    }
}
'''


class Server(DiffServer):
    def __init__(self, name, binary, root):
        self.port = free_port()
        modules = nginx_modules(binary, ('ndk_http_module', 'ngx_http_lua_module',
                                         'ngx_http_echo_module'))
        self.start('h2diff', name, binary, root,
                   CONF % {'modules': modules, 'root': root, 'port': self.port}, self.port)
        self.settle()

    def new_log(self):
        return [re.sub(r', client: .*', '', line).replace(self.root, 'ROOT').replace(str(self.port), 'PORT')
                for line in self.new_lines()]


class Trace(h2raw.Raw):
    """a Raw connection that keeps what came back, in order, as words"""

    def __init__(self, port):
        super().__init__(port)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.events = []
        self.codes = {}  # stream -> its first HEADERS' status
        self.how = 'open'

    def frames(self):
        while len(self.buf) >= 9:
            n = int.from_bytes(self.buf[:3], 'big')
            if len(self.buf) < 9 + n:
                return
            kind, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], 'big') & 0x7fffffff
            p = self.buf[9:9 + n]
            self.buf = self.buf[9 + n:]
            end = ' END' if flags & 1 and kind in (0, 1) else ''
            if kind == 0 and self.codes.get(sid, '').startswith(('4', '5')):
                # an error page names its server (and version): its length is not compared
                if not self.events or self.events[-1] != '%d DATA page' % sid:
                    self.events.append('%d DATA page' % sid)
                if end:
                    self.events[-1] += end
            elif kind == 0:
                last = self.events[-1] if self.events else None
                m = last and re.match(r'(\d+) DATA (\d+)$', last)
                if m and int(m.group(1)) == sid:  # frames' cuts are not compared
                    self.events[-1] = '%d DATA %d%s' % (sid, int(m.group(2)) + len(p), end)
                else:
                    self.events.append('%d DATA %d%s' % (sid, len(p), end))
            elif kind == 1:
                try:
                    st = dict((k if isinstance(k, str) else k.decode(),
                               v if isinstance(v, str) else v.decode())
                              for k, v in self.decoder.decode(p)).get(':status', '-')
                except Exception as e:  # noqa: BLE001
                    st = 'undecodable %s' % type(e).__name__
                self.codes.setdefault(sid, st)
                self.events.append('%d HEADERS %s%s' % (sid, st, end))
            elif kind == 3:
                self.events.append('%d RST %d' % (sid, int.from_bytes(p[:4], 'big')))
            elif kind == 4 and not flags & 1:
                self.sock.sendall(h2raw.frame(4, 1, 0, b''))
            elif kind == 6 and flags & 1:
                self.events.append('PING ACK %r' % p)
            elif kind == 7:
                self.events.append('GOAWAY %d %d' % (int.from_bytes(p[:4], 'big') & 0x7fffffff,
                                                     int.from_bytes(p[4:8], 'big')))
            elif kind not in (4, 8):
                self.events.append('%d frame %d' % (sid, kind))

    def settle(self, idle=0.4, bound=4.0):
        """read until idle seconds pass without bytes, the connection ends, or bound"""
        deadline = time.time() + bound
        while self.how == 'open' and time.time() < deadline:
            self.sock.settimeout(min(idle, max(0.01, deadline - time.time())))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return
            except ConnectionResetError:
                self.how = 'reset'
                return
            except OSError:
                data = b''
            if not data:
                self.how = 'FIN'
            self.buf += data
            self.frames()

    def sendall(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.events.append('send failed %s' % type(e).__name__)


def run(port, case):
    c = Trace(port)
    try:
        case(c)
    except OSError as e:
        c.events.append('error %s' % type(e).__name__)
    c.settle(idle=1.0)  # nginx closes after a GOAWAY once its open streams are done
    c.sock.close()
    return c.events + ['connection ' + c.how]


def streams(events):
    """the events of each stream apart (their interleaving is not compared)"""
    by = {}
    for e in events:
        m = re.match(r'(\d+) ', e)
        by.setdefault(int(m.group(1)) if m else 0, []).append(e)
    return by


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('-m', default=os.path.join(REPO, 'objs', 'moongate'))
    ap.add_argument('-n', default='/usr/sbin/nginx')
    ap.add_argument('-d', default='/tmp/sr-h2diff-tool')
    ap.add_argument('-k', default='')
    ap.add_argument('-v', action='store_true')
    ap.add_argument('files', nargs='*')
    a = ap.parse_args()
    files = a.files or [os.path.join(os.path.dirname(__file__), 'h2cases.py')]
    cases = []
    for f in files:
        g = {k: getattr(h2raw, k) for k in dir(h2raw) if not k.startswith('_')}
        exec(compile(open(f).read(), f, 'exec'), g)
        cases += g['CASES']
    servers = [Server('moongate', a.m, a.d + '/mg'), Server('nginx', a.n, a.d + '/ngx')]
    n = ndiff = nlog = 0
    try:
        for name, case in cases:
            if a.k not in name:
                continue
            n += 1
            res = [None, None]

            def one(i, srv):
                res[i] = run(srv.port, case)

            ts = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(servers)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            time.sleep(0.1)
            lm, ln = (s.new_log() for s in servers)
            diff = streams(res[0]) != streams(res[1])
            ldiff = lm != ln
            ndiff += diff
            nlog += ldiff and not diff
            if diff or ldiff or a.v:
                print('=== %s: %s' % (name, 'frames' if diff else 'log' if ldiff else 'same'))
                print('  mg : %s' % ' | '.join(res[0]))
                print('  ngx: %s' % ' | '.join(res[1]))
                if ldiff or a.v:
                    print('  mg log : %r' % lm)
                    print('  ngx log: %r' % ln)
                sys.stdout.flush()
    finally:
        for s in servers:
            s.stop()
    print('%d cases, %d differ in frames, %d more in the log only' % (n, ndiff, nlog))


if __name__ == '__main__':
    main()
