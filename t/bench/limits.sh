#!/bin/bash
# The cost of limit_req and limit_conn, moongate against nginx: a 1 KiB file without limits
# (the baseline), under limit_req (one key, $binary_remote_addr, at a rate high enough that
# nothing is delayed or refused), under limit_conn (one key, a limit above the client's
# connections) and under both. Same setup as run.sh: single process (master_process off,
# access_log off), each server pinned to core 0, wrk (keepalive, -c$CONNS) pinned to core 1.
# Each case: ROUNDS rounds of a warm-up then DURATION seconds per server, alternating. Prints
# the best round's requests/s of each server and their ratio, then the lowest and highest
# moongate/nginx ratio of a round (how much a shared machine moved it), then each server's
# requests per second of its CPU time (all rounds), which a busy machine disturbs less than
# requests/s, and (with valgrind) the instructions each server runs per request, which load
# cannot move; any non-2xx answer is reported. Writes t/bench/results-limits-<date>.txt.
# Everything it starts is killed on exit.
#
#   t/bench/limits.sh   (DURATION=5 ROUNDS=5 CONNS=50 NGINX=/usr/sbin/nginx INSTR=1)

ROUNDS=${ROUNDS:-5}
. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/results-limits-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-limits
mkdir -p "$WORK/html"
# 1 KiB of text: 1023 x and a newline
perl -e 'print "x" x 1023, "\n"' >"$WORK/html/1k.txt"
K1=$(cat "$WORK/html/1k.txt")

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

CASES=(
    "no limit|/plain/1k.txt|$K1"
    "limit_req|/req/1k.txt|$K1"
    "limit_conn|/conn/1k.txt|$K1"
    "both|/both/1k.txt|$K1"
)

start_both
{
    echo "moongate vs nginx: limit_req / limit_conn, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "setup: servers on core 0, wrk -t1 -c$CONNS on core 1, best of $ROUNDS alternating rounds of ${WARMUP}s warm-up + ${DURATION}s, keepalive, a 1 KiB file"
    echo
    bench_header
} | tee "$OUT"

bench_cases
instr_table
echo "written to ${OUT#$ROOT/}"
