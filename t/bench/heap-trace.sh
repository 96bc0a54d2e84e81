#!/bin/bash
# What each idle connection holds of the heap, block by block: each server (one process,
# access_log off, as t/bench/h2-idle.sh) runs with t/bench/heap-trace.c preloaded, which notes
# every live malloc'ed block with its call stack; after a warm-up connection, a dump, then N
# connections (PROTO=h2: h2c, each after one request; h1: HTTP/1.1 keepalive) held idle for
# SETTLE seconds (the h2 trim comes at 1 s), a second dump. The difference, by call stack
# (addr2line; a library without symbols gives its nearest exported name), in malloc chunk
# bytes (the request + 8, rounded up to 16) per connection, largest first, and the total.
# Counts, not timings: a loaded machine gives the same. Writes
# t/bench/results-heap-trace-PROTO-DATE.txt.
#
#   t/bench/heap-trace.sh   (N=200 PROTO=h2 SETTLE=2 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
N=${N:-200}
PROTO=${PROTO:-h2}
SETTLE=${SETTLE:-2}
OUT=$ROOT/t/bench/results-heap-trace-$PROTO-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-heap-trace
need_pkg addr2line binutils
need_pkg gcc gcc
PY3=python3
[ -x /usr/bin/python3 ] && PY3=/usr/bin/python3
"$PY3" -c 'import h2' 2>/dev/null || need_pkg /nonexistent python3-h2
gcc -O1 -shared -fPIC -o "$WORK/heap-trace.so" "$ROOT/t/bench/heap-trace.c" || die "cannot build the library"

write_conf() {
    local listen="listen 127.0.0.1:$2; http2 on;"
    [ "$1" = nginx ] && listen="listen 127.0.0.1:$2 http2;"
    [ "$PROTO" = h1 ] && listen="listen 127.0.0.1:$2;"
    conf_write "$1" $((N + 64)) <<EOC
http {
    access_log off;
    server {
        $listen
        location / { return 200 "ok\n"; }
    }
}
EOC
}

clients() { # port n: n idle connections, "ready" once up, held until stdin closes
    taskset -c 1 "$PY3" -c '
import socket, sys
sys.path.insert(0, sys.argv[3])
from h2util import Client
port, n, proto = int(sys.argv[1]), int(sys.argv[2]), sys.argv[4]
held = []
for i in range(n):
    if proto == "h1":
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        got = b""
        while not got.endswith(b"ok\n"):
            got += s.recv(4096)
        held.append(s)
        continue
    c = Client(port)
    sid = c.request("/")
    c.run(lambda: c.streams[sid].ended, 5)
    held.append(c)
print("ready", flush=True)
sys.stdin.read()
' "$1" "$2" "$ROOT/t/lib" "$PROTO"
}

trace() { # binary name
    local port pid
    port=$(free_port)
    LD_PRELOAD=$WORK/heap-trace.so start_server "$1" "$2" "$port"
    pid=$STARTED
    rm -f /tmp/heap-trace."$pid".*
    clients "$port" 1 </dev/null >/dev/null
    sleep "$SETTLE"
    kill -s RTMIN+3 "$pid"
    exec 7> >(clients "$port" "$N" >"$WORK/ready.$2")
    for _ in $(seq 600); do
        grep -q ready "$WORK/ready.$2" 2>/dev/null && break
        sleep 0.1
    done
    grep -q ready "$WORK/ready.$2" || die "$2: the clients did not connect"
    sleep "$SETTLE"
    kill -s RTMIN+3 "$pid"
    for _ in $(seq 100); do [ -s "/tmp/heap-trace.$pid.1" ] && break; sleep 0.1; done
    sleep 0.5
    cp "/proc/$pid/maps" "$WORK/maps.$2"
    exec 7>&-
    echo "== $2: heap chunk bytes per idle $PROTO connection (of $N), by call stack" | tee -a "$OUT"
    "$PY3" - "/tmp/heap-trace.$pid.0" "/tmp/heap-trace.$pid.1" "$WORK/maps.$2" "$N" <<'EOP' | tee -a "$OUT"
import collections, subprocess, sys
before, after, mapsf, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
maps = []
for l in open(mapsf):
    f = l.split()
    if len(f) >= 6 and f[5].startswith('/'):
        lo, hi = (int(x, 16) for x in f[0].split('-'))
        maps.append((lo, hi, int(f[2], 16), f[5]))
base = {}
for lo, hi, off, path in maps:
    base[path] = min(base.get(path, lo - off), lo - off)
names = {}
def name(a):
    a = int(a, 16)
    if a == 0:
        return None
    if a not in names:
        names[a] = hex(a)
        for lo, hi, off, path in maps:
            if lo <= a < hi:
                out = subprocess.run(['addr2line', '-f', '-e', path, hex(a - base[path] - 1)],
                                     capture_output=True, text=True).stdout.split('\n')[0]
                names[a] = (out if out and not out.startswith('?') else hex(a - base[path])) \
                    + '@' + path.split('/')[-1].split('.so')[0]
                break
    return names[a]
def load(fn):
    d = collections.defaultdict(lambda: [0, 0])
    for l in open(fn):
        f = l.split()
        e = d[tuple(f[2:])]
        e[0] += 1
        e[1] += max(32, (int(f[1]) + 8 + 15) // 16 * 16)
    return d
a, b = load(before), load(after)
rows = sorted(((b.get(k, [0, 0])[1] - a.get(k, [0, 0])[1], b.get(k, [0, 0])[0] - a.get(k, [0, 0])[0], k)
               for k in set(a) | set(b)), reverse=True)
for chunk, cnt, k in rows:
    if abs(chunk) >= 4 * n:
        print('%8.1f B %5.2f blocks  %s' % (chunk / n, cnt / n, ' < '.join(x for x in map(name, k[:4]) if x)))
print('%8.1f B in all' % (sum(r[0] for r in rows) / n))
EOP
    rm -f /tmp/heap-trace."$pid".*
}

{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "command: N=$N PROTO=$PROTO SETTLE=$SETTLE t/bench/heap-trace.sh"
} | tee "$OUT"
trace "$MOONGATE" moongate
trace "$NGINX" nginx
