#!/bin/sh
# `-s reload` latency on a small configuration: N reloads (default 50) of a running master
# with 2 workers, the wall time of each `-s reload` (it returns when the new generation
# serves), median and max; then the instructions the command and the master's reload take
# (callgrind: exact whatever the machine's load, which the wall times are not). Writes
# t/bench/reload-latency-results-DATE.txt.  N=100 t/bench/reload-latency.sh
# CALLGRIND=0 skips the instruction counts; OLD=/path/to/moongate times that binary too, its
# reloads alternating with this one's (a loaded machine then moves both alike). The anchor:
# Debian's nginx (NGINX=/usr/sbin/nginx; NGINX= skips it) with the same configuration minus
# the Lua location, its `-s reload` timed alike -- it returns once the signal is sent, before
# anything is reloaded, so its time is the floor a command costs on this machine (exec, loading
# the libraries, reading the configuration). CHRT=1 runs the servers and the commands under
# SCHED_FIFO (chrt -f 10) so other load on a shared machine barely moves the figures.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mg=${MOONGATE_BIN:-$root/objs/moongate}
n=${N:-50}
out="$here/reload-latency-results-$(date -u +%Y%m%d-%H%M%S).txt"
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
old=${OLD:-}
ngx=${NGINX-/usr/sbin/nginx}
[ -x "$ngx" ] || ngx=
rt=
[ "${CHRT:-0}" = 1 ] && rt="chrt -f 10"
stop_all() {
    for f in "$tmp/logs/m.pid" "$tmp/old/logs/m.pid" "$tmp/ngx/logs/m.pid"; do
        [ -f "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null
    done
    sleep 0.5; rm -rf "$tmp"
}
trap stop_all EXIT
mkdir -p "$tmp/conf" "$tmp/logs" "$tmp/old/conf" "$tmp/old/logs" "$tmp/ngx/conf" "$tmp/ngx/logs"
conf() { # daemon on|off, prefix, port
    cat <<CONF
daemon $1; master_process on; worker_processes 2;
error_log $2/logs/error.log notice;
pid $2/logs/m.pid;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $2/cbt;
    server {
        listen 127.0.0.1:$3;
        location / { return 200 "hi \$pid\n"; }
        location = /lua { content_by_lua_block { ngx.say("x") } }
    }
}
CONF
}
conf on "$tmp" "$port" > "$tmp/conf/m.conf"
conf off "$tmp" "$port" > "$tmp/conf/f.conf"
{
    echo "reload latency, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), nproc=$(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "$("$mg" -v 2>&1), $n reloads of a 2-worker master, small configuration (2 locations, one Lua)"
    [ -n "$rt" ] && echo "servers and commands under SCHED_FIFO ($rt)"
    $rt "$mg" -p "$tmp/" -c conf/m.conf || exit 1
    if [ -n "$old" ]; then
        oport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        conf on "$tmp/old" "$oport" > "$tmp/old/conf/m.conf"
        $rt "$old" -p "$tmp/old/" -c conf/m.conf || exit 1
    fi
    if [ -n "$ngx" ]; then
        nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        conf on "$tmp/ngx" "$nport" | grep -v 'content_by_lua\|client_body_temp_path' > "$tmp/ngx/conf/m.conf"
        $rt "$ngx" -p "$tmp/ngx/" -c conf/m.conf -g "user $(id -un);" -e "$tmp/ngx/logs/error.log" || exit 1
        echo "anchor: $("$ngx" -v 2>&1) with the same configuration minus the Lua location;" \
             "its -s reload returns once the signal is sent (nothing reloaded yet)"
    fi
    python3 - "$mg" "$tmp" "$n" "$old" "$ngx" "$rt" <<'PY'
import subprocess, sys, time, statistics
mg, tmp, n, old, ngx, rt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
runs = [(mg, tmp)] + ([(old, tmp + "/old")] if old else []) + ([(ngx, tmp + "/ngx")] if ngx else [])
ts = {b: [] for b, _ in runs}
for i in range(n):
    for b, d in runs if i % 2 == 0 else runs[::-1]:
        t = time.monotonic()
        r = subprocess.run(rt.split() + [b, "-p", d + "/", "-c", "conf/m.conf", "-s", "reload"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts[b].append((time.monotonic() - t) * 1000)
        if r.returncode != 0:
            print("-s reload failed"); sys.exit(1)
for b, _ in runs:
    v = sorted(ts[b])
    print("-s reload wall time%s: median %.1f ms, max %.1f ms, min %.1f ms"
          % ("" if b == mg else " of " + b, statistics.median(v), v[-1], v[0]))
PY
    [ -n "$old" ] && kill -QUIT "$(cat "$tmp/old/logs/m.pid")"
    [ -n "$ngx" ] && kill -QUIT "$(cat "$tmp/ngx/logs/m.pid")"
    kill -QUIT "$(cat "$tmp/logs/m.pid")"; sleep 1
    if [ "${CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.cmd" "$mg" -p "$tmp/" -c conf/m.conf -t -q 2>&1 \
            | sed -n 's/.*I *refs: *\(.*\)/-t (the command'"'"'s configuration check): \1 instructions/p'
        # the master under callgrind (no daemon, workers not traced), 5 reloads, then QUIT
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.master" "$mg" -p "$tmp/" -c conf/f.conf >/dev/null 2>&1 &
        i=0; while [ ! -s "$tmp/logs/m.pid" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
        sleep 2
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.sig" "$mg" -p "$tmp/" -c conf/f.conf -s reload 2>&1 \
            | sed -n 's/.*I *refs: *\(.*\)/-s reload (the command): \1 instructions/p'
        for i in 2 3 4 5; do "$mg" -p "$tmp/" -c conf/f.conf -s reload; done
        kill -QUIT "$(cat "$tmp/logs/m.pid")"; wait
        callgrind_annotate --inclusive=yes "$tmp/cg.master" 2>/dev/null \
            | awk '/master.c:reload \[/ { gsub(",", "", $1); printf "the master'"'"'s reload (build the generation, fork): %d instructions per reload\n", $1 / 5 }'
    fi
} | tee "$out"
