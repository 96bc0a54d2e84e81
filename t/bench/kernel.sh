#!/bin/bash
# Where each server's kernel time per request goes, moongate against nginx, on the cases of
# limits.sh (a 1 KiB file without limits and under limit_conn; keepalive, -c$CONNS): for each
# case and round, each server in turn (pinned to core 0, wrk on core 1) is sampled with
# `perf record -e cpu-clock -g -p PID` (a software clock: works without a hardware PMU, as in
# a VM) for DURATION seconds, and the samples become nanoseconds per request: on-CPU, kernel
# (self time of kernel symbols), user, and the inclusive time of the kernel functions a request
# passes (epoll_wait and its polling of the reported sockets, recvfrom, writev, openat, close).
# Load on a shared machine moves these less than requests/s, but it does move them (a busier
# loop gathers more events per epoll_wait): compare the servers within a round. Writes
# t/bench/results-kernel-<date>.txt. Everything it starts is killed on exit.
#
#   t/bench/kernel.sh   (DURATION=5 ROUNDS=3 CONNS=50 NGINX=/usr/sbin/nginx)

ROUNDS=${ROUNDS:-3}
. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/results-kernel-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-kernel
need_pkg perf linux-perf
need_pkg wrk wrk
mkdir -p "$WORK/html"
perl -e 'print "x" x 1023, "\n"' >"$WORK/html/1k.txt"

write_conf() { # name port
    conf_write "$1" <<EOF
http {
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    limit_conn_zone \$binary_remote_addr zone=cn:10m;
    server {
        listen 127.0.0.1:$2;
        location /plain/ { alias $WORK/html/; }
        location /conn/ { alias $WORK/html/; limit_conn cn 10000; }
    }
}
EOF
}

CASES=("no limit|/plain/1k.txt" "limit_conn|/conn/1k.txt")
FUNCS="do_epoll_wait ep_send_events ep_item_poll __sys_recvfrom do_writev do_sys_openat2 __x64_sys_close"

# profile NAME PID PORT PATH: one line of ns per request
profile() {
    local name=$1 pid=$2 port=$3 path=$4 data=$WORK/$1.perf n
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$port$path" >/dev/null 2>&1
    perf record -q -e cpu-clock -F 4999 -g -p "$pid" -o "$data" -- sleep "$DURATION" \
        >/dev/null 2>&1 &
    local pp=$!
    n=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$port$path" |
        awk '/requests in/ { print $1 }')
    wait "$pp"
    perf report -i "$data" --children --stdio -n --sort sym -g none 2>/dev/null |
        awk -v n="${n:-0}" -v name="$name" -v funcs="$FUNCS" '
        BEGIN { split(funcs, f, " "); for (i in f) want[f[i]] = 1 }
        /Event count/ { ev = $NF }
        /%/ && /\[k\]/ { c = $1; s = $2; sub("%", "", c); sub("%", "", s); k += s
                         sym = $5; sub(/[.].*$/, "", sym); if (sym in want && !(sym in v)) v[sym] = c }
        /%/ && /\[\.\]/ { s = $2; sub("%", "", s); u += s }
        END {
            if (n == 0 || ev == 0) { printf "%-8s no requests or no samples\n", name; exit }
            printf "%-8s %8d %6.0f %6.0f %5.0f", name, n, ev / n, k * ev / 100 / n, u * ev / 100 / n
            split(funcs, f, " ")
            for (i = 1; i in f; i++) printf " %6.0f", v[f[i]] * ev / 100 / n
            printf "\n"
        }'
}

start_both
{
    echo "moongate vs nginx: kernel time per request (perf cpu-clock), $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "setup: servers on core 0, wrk -t1 -c$CONNS on core 1, $ROUNDS rounds of ${WARMUP}s warm-up + ${DURATION}s sampled, keepalive, a 1 KiB file"
    echo "ns per request: cpu (on-CPU), kern (kernel self time), user; then inclusive time of:"
    echo "  epoll=do_epoll_wait send_ev=ep_send_events item_poll=ep_item_poll recvfrom writev openat close"
} | tee "$OUT"
for c in "${CASES[@]}"; do
    IFS='|' read -r name path <<<"$c"
    { echo; echo "case: $name ($path)"
      printf '%-8s %8s %6s %6s %5s %6s %6s %6s %6s %6s %6s %6s\n' server requests cpu kern user \
          epoll send_ev item_poll recvfrom writev openat close; } | tee -a "$OUT"
    for r in $(seq "$ROUNDS"); do
        profile moongate "$MG_PID" "$MG_PORT" "$path" | tee -a "$OUT"
        profile nginx "$NG_PID" "$NG_PORT" "$path" | tee -a "$OUT"
    done
done
echo "written to ${OUT#$ROOT/}"
