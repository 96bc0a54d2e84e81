#!/usr/bin/env python3
# ssidiff: SSI pages whose includes fail, are cut off or wait (Lua, proxied), and plain proxied
# responses cut off, on moongate and Debian's nginx with the same config; prints each case
# whose response (head, de-chunked body, whether the last chunk came), connection close or
# error-log lines differ. A scripted backend serves /px*/NAME (SCRIPTS) and /seq/K/N/S (N@how
# many of K's requests had ended when it came, after S seconds).
#
#   t/tools/ssidiff.py [t/tools/ssicases.py] [-k substring] [-v]   (MG=binary for moongate)
#
# Left on purpose (2026-12: 158 cases, 21 differ, all this one): lua-nginx-module passes a Lua
# include's output out of order when an include before it has not ended (in nginx 1.22
# "A[<!--# include virtual="/slow" -->]B[<!--# include virtual="/lua" -->]C" gives
# "A[luaslow]B[]C"; also after ngx.exit(200|500) once output went, and what a waiting Lua
# include flushed goes out before a later error closes the connection); moongate keeps the
# page's order.
import os, re, sys, time, socket, threading, subprocess, signal, select
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h1diff
from h1diff import free_port, exchange
from diffserver import nginx_modules

HEAD = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n'
HEADCH = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n'
SCRIPTS = {
    'err500': [b'HTTP/1.1 500 Boom\r\nContent-Length: 4\r\n\r\nboom'],
    'big20stall': [HEAD.replace(b'100', b'90000') + b's' * 20000, 2.0, 'close'],
    'big20close': [HEAD.replace(b'100', b'90000') + b's' * 20000, 0.3, 'close'],
    'big20reset': [HEAD.replace(b'100', b'90000') + b's' * 20000, 0.3, 'reset'],
    'ok': [b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    'headclose': [HEAD + b'PART', 0.2, 'close'],
    'headstall': [HEAD + b'PART', 2.0, 'close'],
    'headreset': [HEAD + b'PART', 0.2, 'reset'],
    'onlyhead': [HEAD, 0.2, 'close'],
    'onlyheadstall': [HEAD, 2.0, 'close'],
    'chclose': [HEADCH + b'4\r\nPART\r\n', 0.2, 'close'],
    'bigclose': [HEAD.replace(b'100', b'9000') + b'x' * 3000, 0.2, 'close'],
    'slowok': [0.5, b'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow'],
    'big5m': [b'HTTP/1.1 200 OK\r\nContent-Length: 5242880\r\n\r\n' + b'y' * 5242880],
}

LOCK = threading.Lock()
COUNT = {}

def backend(ls):
    def serve(c):
        try:
            data = b''
            while b'\r\n\r\n' not in data:
                d = c.recv(4096)
                if not d: return
                data += d
            path = data.split(b' ')[1].decode()
            name = path.rsplit('/', 1)[1].split('?')[0]
            if path.startswith('/seq/'):
                _, _, k, n, sl = path.split('/')
                with LOCK:
                    at = COUNT.get(k, 0)  # how many of this page's finished before this one came
                time.sleep(float(sl))
                with LOCK:
                    COUNT[k] = COUNT.get(k, 0) + 1
                body = ('%s@%d' % (n, at)).encode()
                c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
                c.close()
                return
            for step in SCRIPTS.get(name, [b'HTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n']):
                if isinstance(step, float): time.sleep(step)
                elif step == 'reset':
                    import struct
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                    c.close(); return
                elif step == 'close': break
                else: c.sendall(step)
            c.close()
        except OSError:
            pass
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()

LOCS = r'''
location ~ \.html$ { ssi on; }
location /l/ok { content_by_lua_block { ngx.print("ok") } }
location /l/errpre { content_by_lua_block { error("boom") } }
location /l/errpost { content_by_lua_block { ngx.print("x") error("boom") } }
location /l/errpostf { content_by_lua_block { ngx.print("x") ngx.flush(true) error("boom") } }
location /l/errsleep { content_by_lua_block { ngx.print("x") ngx.sleep(0.05) error("boom") } }
location /l/exerrpre { content_by_lua_block { ngx.exit(ngx.ERROR) } }
location /l/exerrpost { content_by_lua_block { ngx.print("x") ngx.exit(ngx.ERROR) } }
location /l/ex444pre { content_by_lua_block { ngx.exit(444) } }
location /l/ex444post { content_by_lua_block { ngx.print("x") ngx.exit(444) } }
location /l/ex500pre { content_by_lua_block { ngx.exit(500) } }
location /l/ex500post { content_by_lua_block { ngx.print("x") ngx.exit(500) } }
location /l/ex200post { content_by_lua_block { ngx.print("x") ngx.exit(200) } }
location /l/slow { content_by_lua_block { ngx.sleep(0.3) ngx.print("slow") } }
location /l/seq { content_by_lua_block {
    local n = ngx.shared.d:incr(ngx.var.arg_k or "c", 1, 0)
    if ngx.var.arg_s then ngx.sleep(tonumber(ngx.var.arg_s)) end
    ngx.print(ngx.var.arg_n, "@", n)
} }
location /l/reset { content_by_lua_block { ngx.shared.d:set("c", 0) ngx.print("r") } }
location /px/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; }
location /pxu/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; proxy_buffering off; }
location /pxp/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; postpone_output 0; }
location /pxup/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; proxy_buffering off; postpone_output 0; }
location /seq/ { rewrite ^/seq/(.*)$ /seq/$server_port-$1 break; proxy_pass http://127.0.0.1:BPORT; }
location /l/slow2 { content_by_lua_block { ngx.sleep(1.5) ngx.print("slow") } }
location /l/big { content_by_lua_block { local s = string.rep("z", 65536) for i = 1, 80 do ngx.print(s) end } }
location /l/bigf { content_by_lua_block { local s = string.rep("z", 65536) for i = 1, 80 do ngx.print(s) ngx.flush(true) end } }
location /l/bigsay { content_by_lua_block { ngx.print(string.rep("z", 5242880)) } }
location /pxu5/ { proxy_pass http://127.0.0.1:BPORT/; proxy_buffering off; }
location /px5/ { proxy_pass http://127.0.0.1:BPORT/; }
location /pxg/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; gzip on; gzip_types text/plain; gzip_min_length 1; }
location /pxgu/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; proxy_buffering off; gzip on; gzip_types text/plain; gzip_min_length 1; }
location /pxs/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; sub_filter PA QQ; sub_filter_types text/plain; }
location /pxsu/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; proxy_buffering off; sub_filter PA QQ; sub_filter_types text/plain; }
location /pxb/ { proxy_pass http://127.0.0.1:BPORT/; proxy_read_timeout 500ms; proxy_buffer_size 4k; proxy_buffers 8 4k; }
location /l/seq2 { content_by_lua_block {
    local d = ngx.shared.d
    local k = ngx.var.arg_k
    local at = d:get(k) or 0
    if ngx.var.arg_s then ngx.sleep(tonumber(ngx.var.arg_s)) end
    d:incr(k, 1, 0)
    ngx.print(ngx.var.arg_n, "@", at)
} }
'''

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
    lua_shared_dict d 1m;
    server {
        listen 127.0.0.1:%(port1)s default_server;
        server_name localhost;
        root %(root)s/html;
        %(locs)s
    }
}
'''

class Server(h1diff.Server):
    def __init__(self, name, binary, root, bport, pages):
        self.port1 = self.port2 = free_port()
        modules = nginx_modules(binary, ('ndk_http_module', 'ngx_http_lua_module'))
        self.start('ssidiff', name, binary, root,
                   CONF % {'modules': modules, 'root': root, 'port1': self.port1,
                           'locs': LOCS.replace('BPORT', str(bport))},
                   self.port1, pages)
        self.settle()

def show(out):
    # headers normalised, body shown raw with its chunk framing
    out = re.sub(rb'\r\nDate: [^\r]*', b'', out)
    out = re.sub(rb'\r\nServer: [^\r]*', b'', out)
    out = re.sub(rb'\r\nLast-Modified: [^\r]*', b'', out)
    out = re.sub(rb'\r\nETag: [^\r]*', b'', out)
    head, sep, body = out.partition(b'\r\n\r\n')
    if b'chunked' in head:
        data, term, rest = b'', False, body
        while True:
            n = re.match(rb'([0-9a-fA-F]+)\r\n', rest)
            if not n: break
            size = int(n.group(1), 16)
            data += rest[n.end():n.end() + size]
            rest = rest[n.end() + size:]
            if not rest.startswith(b'\r\n'): break
            rest = rest[2:]
            if size == 0: term = True; break
        body = b'<ch>' + data + (b'<0>' if term else b'<noterm>') + rest
    body = body.replace(b'moongate/0.1.0', b'SERVER').replace(b'nginx/1.22.1', b'SERVER')
    return head + sep + body

def main():
    args = [a for a in sys.argv[1:] if a != '-v']
    only = ''
    if '-k' in args:
        only = args[args.index('-k') + 1]
        del args[args.index('-k'):args.index('-k') + 2]
    g = {}
    exec(open(args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                'ssicases.py')).read(), g)
    cases, pages = g['CASES'], g['PAGES']
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', 0)); ls.listen(64); bport = ls.getsockname()[1]
    threading.Thread(target=backend, args=(ls,), daemon=True).start()
    d = os.environ.get('SSIDIFF_DIR', '/tmp/sr-ssidiff')
    servers = [Server('moongate', os.environ.get('MG', os.path.join(h1diff.REPO, 'objs', 'moongate')), d + '/mg', bport, pages),
               Server('nginx', '/usr/sbin/nginx', d + '/ngx', bport, pages)]
    n = nd = 0
    try:
        for name, path in cases:
            if only not in name: continue
            n += 1
            req = b'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' % path.encode()
            res = [None, None]
            def one(i, s):
                res[i] = exchange(s.port1, req, (), idle=3.0, bound=6.0)
            ts = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(servers)]
            [t.start() for t in ts]; [t.join() for t in ts]
            time.sleep(0.2)
            logs = [[re.sub(r'main.conf:\d+', 'main.conf:N', l.replace('\t', '\\x09')) for l in s.new_log() if 'client closed' not in l and 'keepalive' not in l] for s in servers]
            m, x = show(res[0][0]), show(res[1][0])
            diffs = []
            if m != x: diffs.append('response')
            if res[0][1] != res[1][1]: diffs.append('close')
            if logs[0] != logs[1]: diffs.append('log')
            nd += bool(diffs)
            print('=== %s %s: %s' % (name, path, ','.join(diffs) or 'same'))
            if diffs or '-v' in sys.argv:
                print('  mg : %r closed=%s' % (m[-400:], res[0][1]))
                print('  ngx: %r closed=%s' % (x[-400:], res[1][1]))
                print('  mg log : %r' % logs[0])
                print('  ngx log: %r' % logs[1])
            sys.stdout.flush()
    finally:
        for s in servers: s.stop()
    print('%d cases, %d differ' % (n, nd))

main()
