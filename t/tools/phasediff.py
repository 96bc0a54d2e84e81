#!/usr/bin/env python3
# phasediff: the phase x API matrix of the Lua layer, side by side with Debian's nginx 1.22 and
# its Lua module (lua-nginx-module 0.10.23 + lua-resty-core 0.1.25). Each API of the list below
# is called, in a pcall, as code of each phase (set, rewrite, access, content, header_filter,
# body_filter, log, a timer's callback, init_worker); each cell is what the call gave: "ok", the
# error it raised, or "(did not return)" (ngx.exit and the like ended the code), with the
# request's status. Prints the cells that differ and a count.
#
#   t/tools/phasediff.py [-k substring] [-p phase] [-v] [-m moongate] [-n nginx] [-d workdir]
#
# -v prints every cell. A cell differs in "refused/allowed" (one side ok, the other an error),
# in words (both errors, other text once a file:line prefix is taken off), or only in the
# prefix (resty.core raises from Lua with the caller's line, moongate's C functions add none).
# Left on purpose (2026-12: 936 cells, 20 differ, all these):
#   - prefix (11): ngx.arg, ngx.resp.add_header, ngx.req.is_internal raise from resty.core's
#     own files (".../resty/core/param.lua:93: API disabled in the current context"), moongate
#     with the caller's line or none; the words are the same;
#   - values (9): ngx.semaphore.new gives a userdata, resty.core's a table.
import os, re, signal, socket, subprocess, sys, time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

# name -> Lua code (the body of a function of no arguments); order: ones that end the code last
APIS = [
    ('ngx.get_phase', 'return ngx.get_phase()'),
    ('ngx.log', 'ngx.log(ngx.INFO, "x")'),
    ('print', 'print("x")'),
    ('ngx.now', 'return ngx.now()'),
    ('ngx.update_time', 'ngx.update_time()'),
    ('ngx.time', 'return ngx.time()'),
    ('ngx.today', 'return ngx.today()'),
    ('ngx.http_time', 'return ngx.http_time(0)'),
    ('ngx.re.match', 'return ngx.re.match("ab", "b", "jo")'),
    ('ngx.re.gsub', 'return ngx.re.gsub("ab", "b", "c")'),
    ('ngx.re.gmatch', 'return ngx.re.gmatch("ab", "b")()'),
    ('ngx.md5', 'return ngx.md5("x")'),
    ('ngx.encode_args', 'return ngx.encode_args({a = 1})'),
    ('ngx.quote_sql_str', 'return ngx.quote_sql_str("x")'),
    ('ngx.worker.pid', 'return ngx.worker.pid()'),
    ('ngx.worker.id', 'return ngx.worker.id()'),
    ('ngx.worker.count', 'return ngx.worker.count()'),
    ('ngx.worker.exiting', 'return ngx.worker.exiting()'),
    ('ngx.config.subsystem', 'return ngx.config.subsystem'),
    ('ngx.is_subrequest', 'return ngx.is_subrequest'),
    ('ngx.shared.get', 'return ngx.shared.d:get("k")'),
    ('ngx.shared.set', 'return ngx.shared.d:set("k", 1)'),
    ('ngx.shared.incr', 'return ngx.shared.d:incr("n", 1, 0)'),
    ('ngx.var.read', 'return ngx.var.uri'),
    ('ngx.var.write', 'ngx.var.pv = "1"'),
    ('ngx.var.index', 'return ngx.var[1]'),
    ('ngx.ctx.read', 'return ngx.ctx.a'),
    ('ngx.ctx.write', 'ngx.ctx.a = 1'),
    ('ngx.ctx.replace', 'ngx.ctx = {}'),
    ('ngx.arg.read', 'return ngx.arg[1]'),
    ('ngx.status.read', 'return ngx.status'),
    ('ngx.status.write', 'ngx.status = 201'),
    ('ngx.header.read', 'return ngx.header["X-A"]'),
    ('ngx.header.write', 'ngx.header["X-A"] = "1"'),
    ('ngx.header.clear', 'ngx.header["X-B"] = nil'),
    ('ngx.headers_sent', 'return ngx.headers_sent'),
    ('ngx.resp.get_headers', 'return ngx.resp.get_headers()'),
    ('ngx.resp.add_header', 'require("ngx.resp").add_header("X-C", "1")'),
    ('ngx.req.get_headers', 'return ngx.req.get_headers()'),
    ('ngx.req.get_uri_args', 'return ngx.req.get_uri_args()'),
    ('ngx.req.get_post_args', 'return ngx.req.get_post_args()'),
    ('ngx.req.get_method', 'return ngx.req.get_method()'),
    ('ngx.req.http_version', 'return ngx.req.http_version()'),
    ('ngx.req.raw_header', 'return ngx.req.raw_header()'),
    ('ngx.req.start_time', 'return ngx.req.start_time()'),
    ('ngx.req.is_internal', 'return ngx.req.is_internal()'),
    ('ngx.req.set_header', 'ngx.req.set_header("X-A", "1")'),
    ('ngx.req.clear_header', 'ngx.req.clear_header("X-A")'),
    ('ngx.req.add_header', 'require("ngx.req").add_header("X-A", "2")'),
    ('ngx.req.set_method', 'ngx.req.set_method(ngx.HTTP_GET)'),
    ('ngx.req.set_uri_args', 'ngx.req.set_uri_args("api=" .. ngx.var.arg_api)'),
    ('ngx.req.get_body_data', 'return ngx.req.get_body_data()'),
    ('ngx.req.get_body_file', 'return ngx.req.get_body_file()'),
    ('ngx.req.read_body', 'ngx.req.read_body()'),
    ('ngx.req.discard_body', 'ngx.req.discard_body()'),
    ('ngx.req.init_body', 'ngx.req.init_body()'),
    ('ngx.req.append_body', 'ngx.req.append_body("x")'),
    ('ngx.req.finish_body', 'ngx.req.finish_body()'),
    ('ngx.req.set_body_data', 'ngx.req.set_body_data("x")'),
    ('ngx.req.socket', 'return ngx.req.socket()'),
    ('ngx.socket.tcp', 'return ngx.socket.tcp()'),
    ('ngx.socket.tcp.connect', 'local s = ngx.socket.tcp() s:settimeout(500) '
                               'return assert(s:connect("127.0.0.1", PORT))'),
    ('ngx.socket.udp', 'return ngx.socket.udp()'),
    ('ngx.socket.connect', 'return ngx.socket.connect("127.0.0.1", PORT)'),
    ('ngx.sleep', 'ngx.sleep(0.001)'),
    ('ngx.sleep0', 'ngx.sleep(0)'),
    ('ngx.thread.spawn', 'return ngx.thread.spawn(function() end)'),
    ('ngx.thread.wait', 'return ngx.thread.wait(ngx.thread.spawn(function() end))'),
    ('ngx.thread.kill', 'return ngx.thread.kill(ngx.thread.spawn(function() ngx.sleep(1) end))'),
    ('ngx.on_abort', 'return ngx.on_abort(function() end)'),
    ('ngx.timer.at', 'return ngx.timer.at(0, function() end)'),
    ('ngx.timer.every', 'return ngx.timer.every(100, function() end)'),
    ('ngx.timer.running_count', 'return ngx.timer.running_count()'),
    ('ngx.timer.pending_count', 'return ngx.timer.pending_count()'),
    ('ngx.semaphore.new', 'return require("ngx.semaphore").new(0)'),
    ('ngx.semaphore.wait', 'return require("ngx.semaphore").new(1):wait(0.01)'),
    ('ngx.semaphore.wait0', 'return require("ngx.semaphore").new(0):wait(0)'),
    ('ngx.process.type', 'return require("ngx.process").type()'),
    ('ngx.errlog.raw_log', 'require("ngx.errlog").raw_log(ngx.INFO, "x")'),
    ('ngx.errlog.get_sys_filter_level', 'return require("ngx.errlog").get_sys_filter_level()'),
    ('ngx.balancer.set_current_peer', 'return require("ngx.balancer").set_current_peer("127.0.0.1", 1)'),
    ('ngx.balancer.get_last_failure', 'return require("ngx.balancer").get_last_failure()'),
    ('ngx.ssl.server_name', 'return require("ngx.ssl").server_name()'),
    ('coroutine.create', 'return coroutine.create(function() end)'),
    ('coroutine.wrap', 'return coroutine.wrap(function() end)'),
    ('coroutine.resume', 'return coroutine.resume(coroutine.create(function() end))'),
    ('coroutine.running', 'return coroutine.running()'),
    ('coroutine.status', 'return coroutine.status(coroutine.running())'),
    ('coroutine.yield', 'coroutine.yield()'),
    ('ngx.location.capture', 'return ngx.location.capture("/f").status'),
    ('ngx.location.capture_multi', 'return ngx.location.capture_multi({{"/f"}}).status'),
    ('ngx.say', 'ngx.say("x")'),
    ('ngx.print', 'ngx.print("x")'),
    ('ngx.flush', 'ngx.flush()'),
    ('ngx.send_headers', 'ngx.send_headers()'),
    ('ngx.eof', 'ngx.eof()'),
    ('ngx.req.set_uri', 'ngx.req.set_uri("/f")'),
    ('ngx.req.set_uri.jump', 'ngx.req.set_uri("/f", true)'),
    ('ngx.exec', 'ngx.exec("/f")'),
    ('ngx.redirect', 'ngx.redirect("/f")'),
    ('ngx.exit0', 'ngx.exit(ngx.OK)'),
    ('ngx.exit403', 'ngx.exit(403)'),
    ('ngx.exit200', 'ngx.exit(200)'),
    ('ngx.exit.error', 'ngx.exit(ngx.ERROR)'),
]

PHASES = ['set', 'rewrite', 'access', 'content', 'header_filter', 'body_filter', 'log', 'timer',
          'init_worker']

LUA = r'''
    lua_shared_dict d 1m;
    init_by_lua_block {
        local apis = {}
        ORDER = {}
%(apis)s
        -- one API as code of PHASE: the call's outcome goes to the error log; "start" first,
        -- so a call that ends the code (ngx.exit) shows as a start with no outcome
        function probe(phase, name)
            local f = apis[name]
            if not f then
                return
            end
            ngx.log(ngx.WARN, "PROBE ", phase, " ", name, " start")
            local ok, err, err2 = pcall(f)
            if ok then
                -- the values a call returned, when they are the same on each run
                local out = {}
                for _, v in ipairs({err, err2}) do
                    local t = type(v)
                    out[#out + 1] = (t == "string" or t == "boolean" or t == "nil") and tostring(v) or t
                end
                if err == nil and err2 == nil then out = {} end
                ngx.log(ngx.WARN, "PROBE ", phase, " ", name, " ok", #out > 0 and " " or "",
                        table.concat(out, " "))
            else
                ngx.log(ngx.WARN, "PROBE ", phase, " ", name, " err ", tostring(err))
            end
        end
    }
    init_worker_by_lua_block {
        for _, name in ipairs(ORDER) do
            probe("init_worker", name)
        end
    }
'''

CONF = '''%(modules)s
worker_processes 1;
pid %(root)s/logs/pid;
error_log %(root)s/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(root)s/cbt;
    proxy_temp_path %(root)s/pt;
    fastcgi_temp_path %(root)s/ft;
    uwsgi_temp_path %(root)s/ut;
    scgi_temp_path %(root)s/st;
%(lua)s
    server {
        listen 127.0.0.1:%(port)d;
        set $pv "";
        location = /f { alias %(root)s/html/f.txt; }
        location = /set {
            set_by_lua_block $x { probe("set", ngx.var.arg_api) return "" }
            alias %(root)s/html/f.txt;
        }
        location = /rewrite {
            rewrite_by_lua_block { probe("rewrite", ngx.var.arg_api) }
            alias %(root)s/html/f.txt;
        }
        location = /access {
            access_by_lua_block { probe("access", ngx.var.arg_api) }
            alias %(root)s/html/f.txt;
        }
        location = /content {
            content_by_lua_block { probe("content", ngx.var.arg_api) }
        }
        location = /header_filter {
            header_filter_by_lua_block { probe("header_filter", ngx.var.arg_api) }
            alias %(root)s/html/f.txt;
        }
        location = /body_filter {
            body_filter_by_lua_block {
                if ngx.arg[2] then probe("body_filter", ngx.var.arg_api) end
            }
            alias %(root)s/html/f.txt;
        }
        location = /log {
            log_by_lua_block { probe("log", ngx.var.arg_api) }
            alias %(root)s/html/f.txt;
        }
        location = /timer {
            content_by_lua_block {
                local api = ngx.var.arg_api
                local done = ngx.shared.d
                done:delete("timer")
                ngx.timer.at(0, function()
                    probe("timer", api)
                    done:set("timer", 1)
                end)
                -- wait (bounded) for the timer, so its lines come before the response
                for _ = 1, 200 do
                    if done:get("timer") then break end
                    ngx.sleep(0.005)
                end
                ngx.say("timer")
            }
        }
    }
}
'''


from diffserver import LOG_PREFIX, DiffServer, free_port, nginx_modules


def lua_apis(port):
    out = []
    for name, code in APIS:
        code = code.replace('PORT', str(port))
        out.append('        apis["%s"] = function() %s end\n        ORDER[#ORDER + 1] = "%s"'
                   % (name, code, name))
    return '\n'.join(out)


class Server(DiffServer):
    def __init__(self, name, binary, root):
        self.port = free_port()
        # the same line count for both: Lua's chunk names have the config's lines
        modules = nginx_modules(binary, ('ndk_http_module', 'ngx_http_lua_module'), '#\n#\n')
        self.start('phasediff', name, binary, root,
                   CONF % {'modules': modules, 'root': root, 'port': self.port,
                           'lua': LUA % {'apis': lua_apis(self.port)}},
                   self.port, {'f.txt': 'f\n'})
        # init_worker's probes: wait (bounded) for its last one; the log is read from its start
        last = APIS[-1][0]
        for _ in range(100):
            if any(' init_worker %s ' % last in l for l in self.read_all()):
                break
            time.sleep(0.05)

    def read_all(self):
        with open(self.log, 'rb') as f:
            return f.read().decode('latin-1').split('\n')

    def new_log(self):
        with open(self.log, 'rb') as f:
            f.seek(self.logpos)
            data = f.read()
        self.logpos += len(data)
        return [self.norm(l) for l in data.decode('latin-1').split('\n')[:-1]]

    def norm(self, line):
        line = LOG_PREFIX.sub(r'\1 ', line)
        line = re.sub(r', client: .*$', '', line)
        line = re.sub(r', context: [\w.]+$', '', line)
        if self.name == 'nginx':
            # moongate writes a log line's control bytes as \xHH on purpose (t/151)
            line = re.sub(r'[\x00-\x1f\x7f]', lambda m: '\\x%02X' % ord(m.group()), line)
        return line.replace(self.root, 'ROOT').replace(str(self.port), 'PORT')

    def get(self, phase, api):
        s = socket.create_connection(('127.0.0.1', self.port), 3)
        s.settimeout(3)
        s.sendall(b'GET /%s?api=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
                  % (phase.encode(), api.encode()))
        data = b''
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        except socket.timeout:
            data += b'<timeout>'
        s.close()
        m = re.match(rb'HTTP/1\.\d (\d+)', data)
        status = m.group(1).decode() if m else ('none' if not data else 'bad')
        # the log phase runs after the response: wait (bounded) for the probe's outcome
        lines = []
        for _ in range(40):
            lines += self.new_log()
            if phase != 'log' or any(' log %s ' % api in l and not l.endswith(' start')
                                     for l in lines):
                break
            time.sleep(0.01)
        return status, lines


def cell(lines, phase, api):
    """the probe's outcome in the log lines: ('ok' | 'err MSG' | '(did not return)' |
    '(not run)', the other [error]/[alert] lines)"""
    key = 'PROBE %s %s ' % (phase, api)
    out, other = '(not run)', []
    for l in lines:
        i = l.find(key)
        if i >= 0:
            what = l[i + len(key):]
            what = re.sub(r' while (sending|reading|processing)[^,]*$', '', what)
            out = '(did not return)' if what == 'start' else what
        elif ('[error]' in l or '[alert]' in l or '[crit]' in l) and 'PROBE' not in l:
            other.append(l)
    return out, other


def strip_prefix(msg):
    return re.sub(r'^err (\S+:\d+: )+', 'err ', msg)


def main():
    args = sys.argv[1:]
    opts = {'-m': os.path.join(REPO, 'objs', 'moongate'), '-n': '/usr/sbin/nginx',
            '-d': '/tmp/phasediff', '-k': '', '-p': ''}
    verbose = False
    while args:
        a = args.pop(0)
        if a == '-v':
            verbose = True
        else:
            opts[a] = args.pop(0)
    servers = [Server('moongate', opts['-m'], opts['-d'] + '/moongate'),
               Server('nginx', opts['-n'], opts['-d'] + '/nginx')]
    init = {}
    for s in servers:
        init[s.name] = [s.norm(l) for l in s.read_all() if l]
    counts = {'cells': 0, 'same': 0, 'refused/allowed': 0, 'words': 0, 'prefix': 0,
              'values': 0, 'status/log': 0}
    try:
        for phase in PHASES:
            if opts['-p'] and opts['-p'] != phase:
                continue
            for api, _ in APIS:
                if opts['-k'] not in api:
                    continue
                res = {}
                for s in servers:
                    if phase == 'init_worker':
                        res[s.name] = ('-',) + cell(init[s.name], phase, api)
                    else:
                        status, lines = s.get(phase, api)
                        res[s.name] = (status,) + cell(lines, phase, api)
                m, n = res['moongate'], res['nginx']
                counts['cells'] += 1
                if m == n:
                    kind = 'same'
                elif m[1] != n[1]:
                    if m[1].startswith('err') and n[1].startswith('err'):
                        kind = 'prefix' if strip_prefix(m[1]) == strip_prefix(n[1]) else 'words'
                    elif m[1].startswith('ok') and n[1].startswith('ok'):
                        kind = 'values'
                    else:
                        kind = 'refused/allowed'
                else:
                    kind = 'status/log'
                counts[kind] += 1
                if kind != 'same' or verbose:
                    print('%-13s %-34s %s' % (phase, api, kind))
                    for name, r in (('moongate', m), ('nginx', n)):
                        print('    %-8s %s %s' % (name, r[0], r[1]))
                        for l in r[2]:
                            print('             %s' % l[:300])
    finally:
        for s in servers:
            s.stop()
    print(' '.join('%s=%d' % kv for kv in counts.items()))


if __name__ == '__main__':
    main()
