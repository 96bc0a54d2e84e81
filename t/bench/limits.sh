#!/bin/bash
# The cost of limit_req and limit_conn, moongate against nginx: a 1 KiB file without limits
# (the baseline), under limit_req (one key, $binary_remote_addr, at a rate high enough that
# nothing is delayed or refused), under limit_conn (one key, a limit above the client's
# connections) and under both. Same setup as run.sh: single process (master_process off,
# access_log off), each server pinned to core 0, wrk (keepalive, -c$CONNS) pinned to core 1.
# Each case: ROUNDS rounds of a warm-up then DURATION seconds per server, alternating. Prints
# the best round's requests/s of each server and their ratio, then the lowest and highest
# moongate/nginx ratio of a round (how much a shared machine moved it), and each server's CPU
# nanoseconds per request (from /proc/PID/schedstat around a round; the lowest round counts),
# which a busy machine disturbs less than requests/s; any non-2xx answer is reported. Writes t/bench/results-limits-<date>.txt. Everything it starts is killed on exit.
#
#   t/bench/limits.sh   (DURATION=5 ROUNDS=5 CONNS=50 NGINX=/usr/sbin/nginx MOONGATE=objs/moongate)

set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
MOONGATE=${MOONGATE:-$ROOT/objs/moongate}
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-5}
OUT=$ROOT/t/bench/results-limits-$(date +%Y%m%d-%H%M%S).txt

PIDS=()
WORK=
cleanup() {
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.02; done
        kill -KILL "$p" 2>/dev/null
    done
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$MOONGATE" ] || die "$MOONGATE is not built (make)"
[ -x "$NGINX" ] || die "no nginx at $NGINX (apt-get install nginx-light)"
command -v wrk >/dev/null || die "no wrk (apt-get install wrk)"
command -v taskset >/dev/null || die "no taskset (util-linux)"
[ "$(nproc)" -ge 2 ] || die "needs two cores (server on 0, wrk on 1)"

free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 10000))
        (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
    done
    die "no free port"
}

WORK=$(mktemp -d /tmp/mg-bench-limits.XXXXXX)
mkdir -p "$WORK/html"
head -c 1024 /dev/urandom >"$WORK/html/1k.bin"

write_conf() { # name port
    local dir=$WORK/$1
    mkdir -p "$dir/logs" "$dir/conf"
    cat >"$dir/conf/bench.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    limit_req_zone \$binary_remote_addr zone=rq:10m rate=1000000r/s;
    limit_conn_zone \$binary_remote_addr zone=cn:10m;
    server {
        listen 127.0.0.1:$2;
        root $WORK/html;
        location /plain/ { alias $WORK/html/; }
        location /req/ { alias $WORK/html/; limit_req zone=rq burst=1000000 nodelay; }
        location /conn/ { alias $WORK/html/; limit_conn cn 10000; }
        location /both/ {
            alias $WORK/html/;
            limit_req zone=rq burst=1000000 nodelay;
            limit_conn cn 10000;
        }
    }
}
EOF
}

STARTED=
start_server() { # binary name port
    write_conf "$2" "$3"
    taskset -c 0 "$1" -p "$WORK/$2/" -e logs/error.log -c "$WORK/$2/conf/bench.conf" \
        >"$WORK/$2/logs/stdout" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 250); do
        if (exec 3<>/dev/tcp/127.0.0.1/$3) 2>/dev/null; then
            STARTED=$pid
            return
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    cat "$WORK/$2/logs/stdout" "$WORK/$2/logs/error.log" >&2 2>/dev/null
    die "$2 did not start"
}

MG_PORT=$(free_port)
NG_PORT=$(free_port)
[ "$MG_PORT" = "$NG_PORT" ] && NG_PORT=$((MG_PORT + 1))
start_server "$MOONGATE" moongate "$MG_PORT"
MG_PID=$STARTED
start_server "$NGINX" nginx "$NG_PORT"
NG_PID=$STARTED

cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; }

# $1 port, $2 path, $3 server pid -> "rps errors cpu_ns_per_request"
run_wrk() {
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$1$2" >/dev/null 2>&1
    local out rps errs reqs c0 c1
    c0=$(cpu_ns "$3")
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$1$2" 2>&1)
    c1=$(cpu_ns "$3")
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
    reqs=$(echo "$out" | awk '/ requests in / { print $1 }')
    errs=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { n += 1 } END { print n + 0 }')
    echo "${rps:-0} $errs $(awk -v d=$((c1 - c0)) -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.0f", d / n; else print 0 }')"
}

check() { # port path
    [ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$1$2")" = "200 1024" ]
}

{
    echo "moongate vs nginx: limit_req / limit_conn, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine: nproc=$(nproc), cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel=$(uname -r)"
    echo "moongate: $("$MOONGATE" -v 2>&1 | head -1), nginx: $("$NGINX" -v 2>&1 | head -1)"
    echo "setup: servers on core 0, wrk -t1 -c$CONNS on core 1, $ROUNDS rounds of ${WARMUP}s warm-up + ${DURATION}s, keepalive, a 1 KiB file"
    echo
    printf '%-12s %10s %10s %6s %11s %10s %10s %6s\n' case mg_req/s ng_req/s ratio \
        "min-max" mg_cpu_ns ng_cpu_ns ratio
} | tee "$OUT"

bench_case() { # name path
    local name=$1 path=$2
    check "$MG_PORT" "$path" || echo "bench: moongate: GET $path is not a 200 of 1024 bytes" >&2
    check "$NG_PORT" "$path" || echo "bench: nginx: GET $path is not a 200 of 1024 bytes" >&2
    local mg_best=0 ng_best=0 rmin= rmax= errs=0 m n e mc nc mg_cpu= ng_cpu=
    for _ in $(seq "$ROUNDS"); do
        read -r m e mc < <(run_wrk "$MG_PORT" "$path" "$MG_PID")
        errs=$((errs + e))
        read -r n e nc < <(run_wrk "$NG_PORT" "$path" "$NG_PID")
        errs=$((errs + e))
        mg_cpu=$(awk -v a="$mc" -v b="${mg_cpu:-$mc}" 'BEGIN { print (a < b) ? a : b }')
        ng_cpu=$(awk -v a="$nc" -v b="${ng_cpu:-$nc}" 'BEGIN { print (a < b) ? a : b }')
        mg_best=$(awk -v a="$m" -v b="$mg_best" 'BEGIN { print (a > b) ? a : b }')
        ng_best=$(awk -v a="$n" -v b="$ng_best" 'BEGIN { print (a > b) ? a : b }')
        local r
        r=$(awk -v a="$m" -v b="$n" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print 0 }')
        rmin=$(awk -v a="$r" -v b="${rmin:-$r}" 'BEGIN { print (a < b) ? a : b }')
        rmax=$(awk -v a="$r" -v b="${rmax:-$r}" 'BEGIN { print (a > b) ? a : b }')
    done
    local ratio
    ratio=$(awk -v a="$mg_best" -v b="$ng_best" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    local cratio
    cratio=$(awk -v a="$mg_cpu" -v b="$ng_cpu" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
    printf '%-12s %10s %10s %6s %11s %10s %10s %6s\n' "$name" "$mg_best" "$ng_best" "$ratio" \
        "$rmin-$rmax" "$mg_cpu" "$ng_cpu" "$cratio" | tee -a "$OUT"
    [ "$errs" = 0 ] || echo "  (non-2xx or socket errors: $errs)" | tee -a "$OUT"
}

bench_case "no limit" /plain/1k.bin
bench_case "limit_req" /req/1k.bin
bench_case "limit_conn" /conn/1k.bin
bench_case "both" /both/1k.bin

kill -0 "$MG_PID" 2>/dev/null || echo "bench: moongate died during the run" | tee -a "$OUT"
kill -0 "$NG_PID" 2>/dev/null || echo "bench: nginx died during the run" | tee -a "$OUT"
echo "req/s: the best round of each, their ratio (moongate/nginx), and the lowest and highest ratio" | tee -a "$OUT"
echo "of a round; cpu_ns: the server's CPU time per request (schedstat), the lowest round of each," | tee -a "$OUT"
echo "ratio nginx/moongate: above 1 moongate spends less (steadier than req/s on a shared machine)" | tee -a "$OUT"
echo "written to ${OUT#$ROOT/}"
