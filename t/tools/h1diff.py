#!/usr/bin/env python3
# h1diff: the same raw HTTP/1.x request bytes to moongate and to Debian's nginx, run with the
# same config; prints each case where the status, headers, body (which echoes the request's
# variables, or what a proxied backend received), connection close or error-log lines differ.
#
#   t/tools/h1diff.py [-k substring] [-v] [-m moongate] [-n nginx] [-d workdir] [cases.py ...]
#
# Normalised away: Date, the Server value and version on error pages, chunk boundaries, error
# pages' Content-Length, the control bytes moongate's error log writes as \xHH (t/151), the
# servroot and ports. Differences left on purpose (2026-12: 1187 cases, 25 differ, all these):
#   - proxy_pass with a URI part and a decoded space or control byte: moongate sends it
#     percent-encoded with a [warn] (field.c), nginx sends the raw byte (splits the line);
#   - a response while the body is still coming on a connection that closes (a 413 for a too
#     large Content-Length, "Connection: close"): moongate closes lingering at once (FIN, then
#     reads and drops), nginx 1.22 reads on and closes only once the body is in or
#     lingering_timeout passes without bytes; the client gets the same response either way;
#   - $content_length while nginx is still discarding a chunked body that came in pieces: nginx
#     shows its discard buffer's size (2048), moongate nothing;
#   - "client sent too long header line": nginx's line has a NUL where the name ended;
#   - log context only: bytes after a body that arrived with it are "pipelined" to moongate (it
#     reads ahead), not to nginx (it reads a body's length exactly); an invalid chunked body
#     found while dropping it after the response is logged on the connection by moongate, on
#     the request (request line, host) by nginx.
# A cases file defines CASES = [(name, bytes[, 'port1' | 'port2'[, (offsets to cut the bytes
# at, sent 50 ms apart)]]), ...]; t/tools/h1cases.py is the default.
import os, re, select, signal, socket, subprocess, sys, threading, time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


from diffserver import DiffServer, free_port, nginx_modules


# --- the backend: records each request's bytes and answers with them (escaped) -----------------

def read_request(c):
    """one request's bytes from c as a client sent them (head, then a body framed by
    content-length or chunked); b'' on EOF"""
    c.settimeout(3)
    data = b''
    try:
        while b'\r\n\r\n' not in data:
            d = c.recv(65536)
            if not d:
                return data
            data += d
        head, rest = data.split(b'\r\n\r\n', 1)
        h = head.lower()
        m = re.search(rb'\r\ncontent-length:\s*(\d+)', h)
        if re.search(rb'\r\ntransfer-encoding:[^\r]*chunked', h):
            while not re.search(rb'(^|\r\n)0\r\n(.*\r\n)?\r\n$', rest, re.S):
                d = c.recv(65536)
                if not d:
                    break
                rest += d
        elif m:
            while len(rest) < int(m.group(1)):
                d = c.recv(65536)
                if not d:
                    break
                rest += d
        return head + b'\r\n\r\n' + rest
    except socket.timeout:
        return data + b'<timeout>'


def backend(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port))
    ls.listen(64)

    def serve(c):
        got = read_request(c)
        body = repr(got).encode() + b'\n'
        c.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n'
                  b'Connection: close\r\nX-Backend: 1\r\n\r\n' % len(body) + body)
        c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


# --- the servers ------------------------------------------------------------------------------

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
    client_header_buffer_size 1k;
    large_client_header_buffers 4 2k;
    client_max_body_size 1m;
    lingering_timeout 1s;
    keepalive_timeout 10s;
    ignore_invalid_headers on;
    underscores_in_headers off;

    server {
        listen 127.0.0.1:%(port1)s default_server;
        server_name localhost;
        include %(root)s/conf/locs.conf;
    }
    server {
        listen 127.0.0.1:%(port1)s;
        server_name example.com *.wild.test;
        location / { return 200 "vhost example [$host] [$server_name] [$request_uri] [$uri]\n"; }
    }
    server {
        listen 127.0.0.1:%(port1)s;
        server_name noms.test;
        merge_slashes off;
        underscores_in_headers on;
        include %(root)s/conf/locs.conf;
    }
    server {
        listen 127.0.0.1:%(port2)s default_server;
        server_name localhost;
        merge_slashes off;
        underscores_in_headers on;
        ignore_invalid_headers off;
        include %(root)s/conf/locs.conf;
    }
}
'''

LOCS = r'''
location / {
    content_by_lua_block {
        ngx.req.read_body()
        local v = ngx.var
        ngx.say("m=[", v.request_method, "] ru=[", v.request_uri, "] u=[", v.uri,
                "] a=[", v.args or "-", "] hh=[", v.http_host or "-", "] host=[", v.host,
                "] sn=[", v.server_name, "] cl=[", v.content_length or "-",
                "] te=[", v.http_transfer_encoding or "-", "] p=[", v.server_protocol,
                "] b=[", v.request_body or "-", "]")
        local h = ngx.req.get_headers(100, true)
        local names = {}
        for k in pairs(h) do names[#names + 1] = k end
        table.sort(names)
        for _, k in ipairs(names) do
            local x = h[k]
            if type(x) == "table" then x = table.concat(x, "|") end
            ngx.say("  ", k, ": [", x, "]")
        end
    }
}
location /r {
    return 200 "r m=[$request_method] ru=[$request_uri] u=[$uri] a=[$args] hh=[$http_host] host=[$host] sn=[$server_name] cl=[$content_length] p=[$server_protocol]\n";
}
location /p {
    proxy_pass http://127.0.0.1:%(bport)s;
}
location /q {
    proxy_pass http://127.0.0.1:%(bport)s;
    proxy_http_version 1.1;
    proxy_request_buffering off;
}
location /s {
    proxy_pass http://127.0.0.1:%(bport)s/x$uri;
}
location /static/ {
    alias %(root)s/html/;
}
'''


class Server(DiffServer):
    def __init__(self, name, binary, root, bport):
        self.port1, self.port2 = free_port(), free_port()
        modules = nginx_modules(binary, ('ndk_http_module', 'ngx_http_lua_module'))
        os.makedirs(os.path.join(root, 'conf'), exist_ok=True)
        with open(os.path.join(root, 'conf', 'locs.conf'), 'w') as f:
            f.write(LOCS % {'bport': bport, 'root': root})
        self.start('h1diff', name, binary, root,
                   CONF % {'modules': modules, 'root': root, 'port1': self.port1,
                           'port2': self.port2},
                   self.port1, {'f.txt': 'static file\n'})
        os.utime(os.path.join(root, 'html', 'f.txt'), (1700000000, 1700000000))
        self.settle()

    def new_log(self):
        out = []
        for line in self.new_lines():
            line = line.replace(self.root, 'ROOT').replace(str(self.port1), 'PORT1').replace(str(self.port2), 'PORT2')
            if self.name == 'nginx':
                # moongate writes a log line's control bytes as \xHH on purpose (t/151)
                line = re.sub(r'[\x00-\x1f\x7f]', lambda m: '\\x%02X' % ord(m.group()), line)
            out.append(line)
        return out


def exchange(port, data, splits=(), idle=0.4, bound=4.0):
    """send data (in pieces cut at the offsets `splits`, 50 ms apart), read until EOF, `idle`
    seconds without bytes, or `bound` in all: (bytes, closed)"""
    s = socket.create_connection(('127.0.0.1', port), 3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        at = 0
        for cut in list(splits) + [len(data)]:
            s.sendall(data[at:cut])
            at = cut
            if cut < len(data):
                time.sleep(0.05)
    except OSError:
        pass
    out = b''
    t0 = time.time()
    closed = False
    while time.time() - t0 < bound:
        r, _, _ = select.select([s], [], [], idle)
        if not r:
            break
        try:
            d = s.recv(65536)
        except OSError:
            closed = True
            break
        if not d:
            closed = True
            break
        out += d
    s.close()
    return out, closed


def normalise(out):
    out = re.sub(rb'\r\nDate: [^\r]*', b'', out)
    out = re.sub(rb'\r\nServer: [^\r]*', b'\r\nServer: S', out)
    out = re.sub(rb'<hr><center>[^<]*</center>', b'<hr><center>S</center>', out)
    # error pages' length moves with the server's version string
    return out


def run_case(servers, data, port_key, splits=()):
    res = [None, None]

    def one(i, srv):
        res[i] = exchange(getattr(srv, port_key), data, splits)

    ts = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(servers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    time.sleep(0.15)
    logs = [s.new_log() for s in servers]
    return res, logs


def dechunk(out):
    """each chunked response body as one "<chunked>" block: the two servers cut their
    chunks at other places"""
    res = b''
    while True:
        m = re.search(rb'\r\nTransfer-Encoding: chunked\r\n(?:[^\r]*\r\n)*?\r\n', out)
        if not m:
            return res + out
        res += out[:m.end()]
        out = out[m.end():]
        data = b''
        while True:
            n = re.match(rb'([0-9a-fA-F]+)\r\n', out)
            if not n:
                break
            size = int(n.group(1), 16)
            if out[n.end() + size:n.end() + size + 2] != b'\r\n':
                break
            data += out[n.end():n.end() + size]
            out = out[n.end() + size + 2:]
            if size == 0:
                if out.startswith(b'\r\n'):
                    out = out[2:]
                break
        res += b'<chunked>' + data + b'</chunked>'


def strip_len(out):
    # compare error pages without their content-length (the version string differs)
    return re.sub(rb'\r\nContent-Length: \d+(?=\r\n(?:[^\r]*\r\n)*\r\n<html>)', b'', out)


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument('-m', default=os.path.join(REPO, 'objs', 'moongate'))
    ap.add_argument('-n', default='/usr/sbin/nginx')
    ap.add_argument('-d', default='/tmp/sr-h1diff/diff')
    ap.add_argument('-k', default='')
    ap.add_argument('-v', action='store_true')
    ap.add_argument('files', nargs='*')
    a = ap.parse_args()
    files = a.files or [os.path.join(os.path.dirname(__file__), 'h1cases.py')]
    cases = []
    for f in files:
        g = {}
        exec(open(f).read(), g)
        cases += g['CASES']
    bport = free_port()
    threading.Thread(target=backend, args=(bport,), daemon=True).start()
    servers = [Server('moongate', a.m, a.d + '/mg', bport), Server('nginx', a.n, a.d + '/ngx', bport)]
    ndiff = 0
    n = 0
    try:
        for case in cases:
            name, data = case[0], case[1]
            port_key = case[2] if len(case) > 2 else 'port1'
            splits = case[3] if len(case) > 3 else ()
            if a.k not in name:
                continue
            n += 1
            (mg, ngx), (lm, ln) = run_case(servers, data, port_key, splits)
            mo, no = (dechunk(strip_len(normalise(x[0]))) for x in (mg, ngx))
            diffs = []
            if mo != no:
                diffs.append('response')
            if mg[1] != ngx[1]:
                diffs.append('close')
            if lm != ln:
                diffs.append('log')
            if diffs or a.v:
                ndiff += bool(diffs)
                print('=== %s: %s %s' % (name, ','.join(diffs) or 'same', repr(data)[:300]))
                if 'response' in diffs or a.v:
                    print('  mg : %r' % mo[:1500])
                    print('  ngx: %r' % no[:1500])
                if 'close' in diffs:
                    print('  closed mg=%s ngx=%s' % (mg[1], ngx[1]))
                if 'log' in diffs or a.v:
                    print('  mg log : %r' % lm)
                    print('  ngx log: %r' % ln)
                sys.stdout.flush()
    finally:
        for s in servers:
            s.stop()
    print('%d cases, %d differ' % (n, ndiff))


if __name__ == '__main__':
    main()
