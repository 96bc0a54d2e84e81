#!/bin/bash
# Upstream connection churn under concurrency: run.sh's "proxy keepalive" case (wrk -cCONNS to
# proxy_pass with `upstream { keepalive KEEPALIVE; }`, one Debian nginx upstream on core 1 beside
# wrk, the servers on core 0, access_log off), counted per request rather than timed: the
# upstream's stub_status gives the requests and the connections it accepted (a connection each
# server opened: a keepalive pool miss, one pool overflow close each), /proc/PID/stat the
# server's user and system CPU time. Rounds alternate the servers: moongate, nginx, each
# BEFORE="LABEL=binary ..." moongate, and with SLOW=N a moongate whose /proxy location also runs N
# `set` directives (user-space work added per request, nothing else changed: shows how the churn
# follows how fast the server turns its events around). TURNS=1 also records, per server, one
# DURATION of event-loop turns (perf tracepoints on epoll_wait, recvfrom, connect, close) and
# reports how many turns held both upstream answers and client requests. INSTR=1: each of
# moongate and nginx under callgrind, INSTR_N requests over CONNS connections (h2load --h1):
# user-space instructions and connections opened per request (under valgrind the server is
# the slow side, so its clients' requests come in waves: the same churn for both). Writes
# t/bench/results-proxy-churn-DATE.txt (RESULTS=NAME: results-NAME-DATE.txt).
#
#   t/bench/proxy-churn.sh   (CONNS=50 KEEPALIVE=32 DURATION=4 ROUNDS=4 BEFORE= SLOW=0 TURNS=0
#                             INSTR=0 INSTR_N=5000)

. "$(dirname "$0")/lib.sh"
bench_init bench-proxy-churn
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-4}
KEEPALIVE=${KEEPALIVE:-32}
BEFORE=${BEFORE:-}
SLOW=${SLOW:-0}
TURNS=${TURNS:-0}
INSTR=${INSTR:-0}
INSTR_N=${INSTR_N:-5000}
OUT=$ROOT/t/bench/results-${RESULTS:-proxy-churn}-$(date -u +%Y%m%d-%H%M%S).txt
need_pkg wrk wrk
[ "$TURNS" = 1 ] && need_pkg perf linux-perf
[ "$INSTR" = 1 ] && need_pkg valgrind valgrind && need_pkg h2load nghttp2-client

UP_PORT=$(free_port)
conf_write upstream <<EOC
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$UP_PORT;
        location / { return 200 "ok\n"; }
        location = /status { stub_status; }
    }
}
EOC
taskset -c 1 "$NGINX" -p "$WORK/upstream/" -e logs/error.log -c "$WORK/upstream/conf/bench.conf" \
    >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")

EXTRA_LOC=
write_conf() { # name port
    conf_write "$1" <<EOC
http {
    access_log off;
    keepalive_requests 1000000;
    upstream bench_backend {
        server 127.0.0.1:$UP_PORT;
        keepalive $KEEPALIVE;
    }
    server {
        listen 127.0.0.1:$2;
        location = /proxy {
$EXTRA_LOC
            proxy_pass http://bench_backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOC
}

NAMES=() PORTS=() SPIDS=()
add_server() { # label binary
    local port
    port=$(free_port)
    start_server "$2" "$1" "$port"
    NAMES+=("$1") PORTS+=("$port") SPIDS+=("$STARTED")
}
add_server moongate "$MOONGATE"
add_server nginx "$NGINX"
for b in $BEFORE; do
    add_server "${b%%=*}" "${b#*=}"
done
if [ "$SLOW" -gt 0 ]; then
    for i in $(seq "$SLOW"); do
        EXTRA_LOC+="            set \$slow$i \"\$uri\$args\${host}-$i\";"$'\n'
    done
    add_server "mg+${SLOW}set" "$MOONGATE"
    EXTRA_LOC=
fi

upstream_counts() { # accepts requests
    curl -s "http://127.0.0.1:$UP_PORT/status" | awk 'NR == 3 { print $1, $3 }'
}
ticks() { # utime stime
    awk '{ print $14, $15 }' "/proc/$1/stat"
}
HZ=$(getconf CLK_TCK)

{
    echo "upstream connection churn under concurrency, $(date -u '+%Y-%m-%d %H:%M:%S') UTC"
    machine_line
    echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "setup: wrk -t1 -c$CONNS -d${DURATION}s (after a 1 s warm-up) on core 1 beside the upstream nginx;"
    echo "  servers on core 0, one process each; upstream { keepalive $KEEPALIVE; }, $ROUNDS rounds"
    echo "per round: requests (upstream stub_status), accepts/req (connections the server opened per"
    echo "request), the server's user and system CPU microseconds per request (/proc stat, ${HZ} Hz)"
    printf '%-10s %9s %9s %8s %8s %8s\n' server requests acc/req user_us sys_us cpu_us
} | tee "$OUT"

for r in $(seq "$ROUNDS"); do
    for k in "${!NAMES[@]}"; do
        name=${NAMES[$k]} port=${PORTS[$k]} pid=${SPIDS[$k]}
        taskset -c 1 wrk -t1 -c"$CONNS" -d1s "http://127.0.0.1:$port/proxy" >/dev/null
        read -r a0 q0 < <(upstream_counts)
        read -r u0 s0 < <(ticks "$pid")
        taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$port/proxy" >"$WORK/wrk.txt"
        read -r a1 q1 < <(upstream_counts)
        read -r u1 s1 < <(ticks "$pid")
        # the status request between the two readings is one request and no connection of
        # the server's
        echo "$name $((q1 - q0 - 1)) $((a1 - a0 - 1)) $((u1 - u0)) $((s1 - s0))" >>"$WORK/rounds"
        awk -v n="$name" -v q=$((q1 - q0 - 1)) -v a=$((a1 - a0 - 1)) -v u=$((u1 - u0)) \
            -v s=$((s1 - s0)) -v hz="$HZ" 'BEGIN {
            printf "%-10s %9d %9.4f %8.2f %8.2f %8.2f\n", n, q, a / q, u * 1e6 / hz / q,
                s * 1e6 / hz / q, (u + s) * 1e6 / hz / q }' | tee -a "$OUT"
    done
done

{
    echo
    echo "all rounds: requests, accepts/request, user/system/total CPU us per request, per server"
    for name in "${NAMES[@]}"; do
        awk -v n="$name" -v hz="$HZ" '$1 == n { q += $2; a += $3; u += $4; s += $5 } END {
            printf "%-10s %9d %9.4f %8.2f %8.2f %8.2f\n", n, q, a / q, u * 1e6 / hz / q,
                s * 1e6 / hz / q, (u + s) * 1e6 / hz / q }' "$WORK/rounds"
    done
} | tee -a "$OUT"

# TURNS=1: what each epoll_wait turn of the server handled, from perf tracepoints (a recvfrom
# of the upstream's 150-byte answer is an answer, any other a client request)
if [ "$TURNS" = 1 ]; then
    {
        echo
        echo "event-loop turns over ${DURATION}s (perf tracepoints): answers and requests per turn, the"
        echo "share of turns holding both, connects per request; spread: the in-flight count's range"
        echo "(requests read minus answers read, 5th to 95th percentile over the turns)"
    } | tee -a "$OUT"
    for k in "${!NAMES[@]}"; do
        name=${NAMES[$k]} port=${PORTS[$k]} pid=${SPIDS[$k]}
        taskset -c 1 wrk -t1 -c"$CONNS" -d"$((DURATION + 2))s" "http://127.0.0.1:$port/proxy" >/dev/null &
        wp=$!
        sleep 1
        perf record -q -e syscalls:sys_exit_epoll_wait -e syscalls:sys_exit_recvfrom \
            -e syscalls:sys_enter_connect -p "$pid" -o "$WORK/perf.data" -- sleep "$DURATION" \
            >/dev/null 2>&1
        wait "$wp"
        perf script -i "$WORK/perf.data" -F event,trace 2>/dev/null | awk -v n="$name" -v fl="$WORK/flight" '
            /sys_exit_epoll_wait/ { if (t) turn(); t = 1; u = c = 0; next }
            /sys_exit_recvfrom/ { if ($NF == "0x96") u++; else if ($NF != "0xfffffffffffffff5") c++; next }
            /sys_enter_connect/ { conn++ }
            function turn() { turns++; U += u; C += c; if (u && c) mixed++; f += c - u; print f >fl }
            END { turn(); printf "%-10s turns %6d answers/turn %5.1f requests/turn %5.1f mixed %5.3f connects/req %6.4f",
                    n, turns, U / turns, C / turns, mixed / turns, conn / C }' | tee -a "$OUT"
        sort -n "$WORK/flight" | awk '{ v[NR] = $1 } END {
            printf " spread %d\n", v[int(NR * 0.95)] - v[int(NR * 0.05) + 1] }' | tee -a "$OUT"
    done
fi
# INSTR=1: instructions per request under callgrind, with the connections opened meanwhile
if [ "$INSTR" = 1 ]; then
    {
        echo
        echo "callgrind: $INSTR_N requests over $CONNS connections (h2load --h1), after 1000 the same way"
        printf '%-10s %12s %9s\n' server instr/req acc/req
    } | tee -a "$OUT"
    for s in "moongate=$MOONGATE" "nginx=$NGINX"; do
        name=${s%%=*} port=$(free_port)
        cg_start "${s#*=}" "cg-$name" "$port"
        h2load --h1 -c"$CONNS" -n 1000 "http://127.0.0.1:$port/proxy" >/dev/null 2>&1
        read -r a0 q0 < <(upstream_counts)
        callgrind_control -z "$CG_PID" >/dev/null 2>&1
        h2load --h1 -c"$CONNS" -n "$INSTR_N" "http://127.0.0.1:$port/proxy" >"$WORK/h2load.txt" 2>&1
        callgrind_control -d "$CG_PID" >/dev/null 2>&1
        read -r a1 q1 < <(upstream_counts)
        grep -q "$INSTR_N succeeded" "$WORK/h2load.txt" || echo "$BENCH: $name: not all $INSTR_N succeeded" >&2
        awk -v n="$name" -v q="$INSTR_N" -v a=$((a1 - a0 - 1)) '/^(summary|totals):/ {
            printf "%-10s %12d %9.4f\n", n, $2 / q, a / q; exit }' "$WORK/cg-$name/cg.out.1" |
            tee -a "$OUT"
        kill "$CG_PID" 2>/dev/null
        wait "$CG_PID" 2>/dev/null
    done
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
echo "written to $OUT"
