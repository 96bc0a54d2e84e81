#!/bin/bash
# Allocations of the HTTP health check's response reader per check: one worker (master_process
# off) checks one peer every 100 ms for RUN seconds under valgrind --tool=callgrind; the peer
# (a Python server) answers each check in PIECES writes 30 ms apart, so each check reads its
# answer over several read events. Counts from callgrind: checks (finish), evaluate() calls,
# and malloc calls made by evaluate() and by the whole process, per check. Load-independent:
# the counts follow the pieces, not the machine's speed. Writes
# t/bench/results-hc-allocs-cacheload-DATE.txt (LABEL=before|after names the binary).
#
#   t/bench/hc-allocs.sh   (MOONGATE=objs/moongate RUN=4 PIECES=4 LABEL=after)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MOONGATE=${MOONGATE:-$ROOT/objs/moongate}
RUN=${RUN:-4}
PIECES=${PIECES:-4}
LABEL=${LABEL:-now}
WORK=$(mktemp -d /tmp/hc-allocs-XXXXXX)
OUT=$ROOT/t/bench/results-hc-allocs-cacheload-$(date +%Y%m%d-%H%M%S)-$LABEL.txt
PIDS=()
# (KEEP=1 keeps $WORK: callgrind's output and the trees)
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

python3 - "$WORK/port" "$PIECES" <<'PY' &
import socket, sys, time, threading
pieces = int(sys.argv[2])
resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Health: good\r\nContent-Length: 5\r\n\r\nfine\n"
cut = [len(resp) * i // pieces for i in range(pieces + 1)]
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0)); l.listen(64)
open(sys.argv[1] + ".tmp", "w").write(str(l.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def serve(c):
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(4096)
        if not d: return c.close()
        req += d
    try:
        for i in range(pieces):
            c.sendall(resp[cut[i]:cut[i + 1]])
            time.sleep(0.03)
    except OSError:
        pass
    c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PIDS+=($!)
for _ in $(seq 100); do [ -f "$WORK/port" ] && break; sleep 0.05; done
UP=$(cat "$WORK/port")
LPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/logs"
cat >"$WORK/nginx.conf" <<EOC
master_process off;
daemon off;
error_log $WORK/logs/error.log notice;
pid $WORK/logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    upstream u { zone u 64k; server 127.0.0.1:$UP; }
    server {
        listen 127.0.0.1:$LPORT;
        location / { proxy_pass http://u; health_check interval=100ms uri=/hc match=good; }
    }
    match good { status 200; header X-Health = good; body ~ "^fine"; }
}
EOC
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
    "$MOONGATE" -p "$WORK" -c "$WORK/nginx.conf" 2>"$WORK/vg.log" &
VG=$!
PIDS+=($VG)
sleep "$RUN"
kill -QUIT "$VG"
wait "$VG"
callgrind_annotate --threshold=100 --tree=caller "$WORK/cg.out" >"$WORK/callers.txt" 2>/dev/null
callgrind_annotate --threshold=100 --tree=calling "$WORK/cg.out" >"$WORK/callees.txt" 2>/dev/null
# callgrind_annotate's trees: a function's "* FILE:NAME" line comes after one "< FILE:CALLER
# (Nx)" line per caller (--tree=caller) or before one "> FILE:CALLEE (Nx)" per callee
sum_calls() { # file name pattern-of-lines-to-count
    awk -v fn="$2" -v pat="$3" '
        function count(l,   c) { c = l; sub(/.*\(/, "", c); sub(/x\).*/, "", c); gsub(/,/, "", c); return c + 0 }
        /^ *[0-9,]+ .* [<>] / { line[++n] = $0; if (take && $0 ~ pat) s += count($0); next }
        /^ *[0-9,]+ .* \* / {
            if (take) { print s + 0; done = 1; exit }
            if ($0 ~ ":" fn " ") {
                if ($0 ~ /./ && FILENAME ~ /callers/) { for (i = 1; i <= n; i++) s += count(line[i]); print s + 0; done = 1; exit }
                take = 1
            }
        }
        { n = 0 }
        END { if (take && !done) print s + 0 }' "$1"
}
calls() { # callee [caller]: the calls of callee (by caller only, when given)
    if [ -n "${2:-}" ]; then sum_calls "$WORK/callees.txt" "$2" ":$1 "; else sum_calls "$WORK/callers.txt" "$1" .; fi
}
CHECKS=$(calls finish)
EVALS=$(calls evaluate)
EVAL_ALLOC=$(calls mg_alloc evaluate)
per() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
{
    echo "# hc-allocs ($LABEL) $(date -u '+%Y-%m-%d %H:%M UTC') $("$MOONGATE" -v 2>&1 | head -1)"
    echo "command: MOONGATE=$MOONGATE RUN=$RUN PIECES=$PIECES LABEL=$LABEL t/bench/hc-allocs.sh"
    echo "checks (finish() calls): $CHECKS"
    echo "evaluate() calls: $EVALS ($(per "$EVALS" "$CHECKS") per check)"
    echo "mg_alloc() calls by evaluate(): ${EVAL_ALLOC:-0} ($(per "${EVAL_ALLOC:-0}" "$CHECKS") per check)"
    echo "callgrind_annotate --tree=calling, what evaluate() calls:"
    awk '/\* .*:evaluate / { on = 1 } on && /^$/ { exit } on' "$WORK/callees.txt"
} | tee "$OUT"
