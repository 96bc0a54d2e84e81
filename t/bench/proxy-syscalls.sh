#!/bin/bash
# The proxied path's system calls and instructions per request, moongate against nginx on the
# same configuration: one process each (master_process off, on core 0), access_log off,
# proxy_pass to one keepalive HTTP/1.1 upstream (one Debian nginx on core 1, the same for both,
# serving a 1 KiB and a 64 KiB file), the client on core 1. Cases: the client over h2 (h2c by
# prior knowledge, h2load -c1 -m10) or HTTP/1.1 (h2load --h1 -c1 -m1: one request at a time on
# one keepalive connection), proxy_buffering on or off, the 1 KiB or the 64 KiB body.
# System calls: strace -c -f on the server for N requests after a warm-up of 200 (the
# connection's own calls spread over the N), per request, with the calls by name. Instructions
# (INSTR=1, valgrind): callgrind between callgrind_control -z and -d around INSTR_N requests.
# BEFORE="LABEL=binary ..." adds a column per older moongate (e.g. one per step of a change),
# in that order. UP_TLS=1: the upstream listens with TLS (1.3, session reuse) and both servers
# proxy_pass https://. Writes t/bench/results-proxy-syscalls-DATE.txt (RESULTS=NAME:
# results-NAME-DATE.txt).
#
#   t/bench/proxy-syscalls.sh   (N=10000 INSTR=1 INSTR_N=1000 BEFORE= ONLY=REGEX UP_TLS=0 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-proxy-syscalls
N=${N:-10000}
INSTR_N=${INSTR_N:-1000}
BEFORE=${BEFORE:-}
ONLY=${ONLY:-.}
OUT=$ROOT/t/bench/results-${RESULTS:-proxy-syscalls}-$(date -u +%Y%m%d-%H%M%S).txt
need_pkg strace strace
need_pkg h2load nghttp2-client
[ "${INSTR:-1}" = 0 ] || need_pkg valgrind valgrind

mkdir -p "$WORK/upstream/html"
head -c 1024 /dev/urandom >"$WORK/upstream/html/1k.bin"
head -c 65536 /dev/urandom >"$WORK/upstream/html/64k.bin"
UP_PORT=$(free_port)
UP_SSL= UP_CERT= UP_SCHEME=http
if [ "${UP_TLS:-0}" = 1 ]; then
    need_pkg openssl openssl
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || die "openssl failed"
    UP_SSL=" ssl"
    UP_CERT="ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;"
    UP_SCHEME=https
fi
conf_write upstream <<EOC
http {
    access_log off;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$UP_PORT$UP_SSL;
        $UP_CERT
        root $WORK/upstream/html;
    }
}
EOC
taskset -c 1 "$NGINX" -p "$WORK/upstream/" -e logs/error.log -c "$WORK/upstream/conf/bench.conf" \
    >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")

write_conf() { # name port: h2c on port, HTTP/1.1 on port + 1
    conf_write "$1" <<EOC
http {
    access_log off;
    keepalive_requests 1000000;
    upstream back { server 127.0.0.1:$UP_PORT; keepalive 32; }
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    server {
        listen 127.0.0.1:$2 http2;
        listen 127.0.0.1:$(($2 + 1));
        location /on/ { proxy_pass $UP_SCHEME://back/; }
        location /off/ { proxy_pass $UP_SCHEME://back/; proxy_buffering off; }
    }
}
EOC
}

# name|client|path
CASES=()
for client in h2 h1; do
    for buf in on off; do
        for size in 1k 64k; do
            c="$client buffering $buf $size|$client|/$buf/$size.bin"
            [[ ${c%%|*} =~ $ONLY ]] && CASES+=("$c")
        done
    done
done

load() { # client port path requests
    local port=$2 opts=(-c1 -m10)
    [ "$1" = h1 ] && port=$(($2 + 1)) && opts=(--h1 -c1 -m1)
    taskset -c 1 h2load "${opts[@]}" -n"$4" "http://127.0.0.1:$port$3" >"$WORK/h2load.out" 2>&1
    grep -q "$4 succeeded" "$WORK/h2load.out" ||
        echo "$BENCH: $1 $3: $(grep -E 'requests:|status codes:' "$WORK/h2load.out" | tr '\n' ' ')" >&2
}

# syscalls BINARY NAME: per case "total calls/request" then "name calls/request" lines in
# $WORK/sc-NAME.K
syscalls() {
    local bin=$1 name=sc-$2 port k=0 c client path
    port=$(free_port)
    start_server "$bin" "$name" "$port"
    for c in "${CASES[@]}"; do
        IFS='|' read -r _ client path <<<"$c"
        k=$((k + 1))
        load "$client" "$port" "$path" 200
        strace_during "$STARTED" "$WORK/strace" load "$client" "$port" "$path" "$N"
        awk -v n="$N" '$1 ~ /^-/ { next } $NF == "total" { t = $4; next }
            $4 ~ /^[0-9]+$/ && $4 / n >= 0.05 { printf "%s=%.2f ", $NF, $4 / n }
            END { printf "\ntotal %.2f\n", t / n }' "$WORK/strace" >"$WORK/$name.$k"
    done
    kill "$STARTED" 2>/dev/null
    wait "$STARTED" 2>/dev/null
}

# instr BINARY NAME: per case "Ir/request" in $WORK/ir-NAME.K
instr() {
    local bin=$1 name=cg-$2 port k=0 c client path
    port=$(free_port)
    cg_start "$bin" "$name" "$port"
    for c in "${CASES[@]}"; do
        IFS='|' read -r _ client path <<<"$c"
        k=$((k + 1))
        load "$client" "$port" "$path" 50
        callgrind_control -z "$CG_PID" >/dev/null 2>&1
        load "$client" "$port" "$path" "$INSTR_N"
        callgrind_control -d "$CG_PID" >/dev/null 2>&1
        for _ in $(seq 100); do [ -s "$WORK/$name/cg.out.$k" ] && break; sleep 0.1; done
        awk -v n="$INSTR_N" '/^(summary|totals):/ { printf "%d\n", $2 / n; exit }' \
            "$WORK/$name/cg.out.$k" >"$WORK/ir-$2.$k"
    done
    kill "$CG_PID" 2>/dev/null
    wait "$CG_PID" 2>/dev/null
}

SERVERS=()
declare -A BIN=([moongate]=$MOONGATE [nginx]=$NGINX)
for b in $BEFORE; do
    SERVERS+=("${b%%=*}")
    BIN[${b%%=*}]=${b#*=}
done
SERVERS+=(moongate nginx)
for s in "${SERVERS[@]}"; do
    syscalls "${BIN[$s]}" "$s"
    [ "${INSTR:-1}" = 0 ] || instr "${BIN[$s]}" "$s"
done

{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "command: ${UP_TLS:+UP_TLS=$UP_TLS }${ONLY:+ONLY='$ONLY' }${RESULTS:+RESULTS=$RESULTS }N=$N INSTR_N=$INSTR_N${BEFORE:+ BEFORE='$BEFORE'} t/bench/proxy-syscalls.sh"
    echo "system calls per request (strace -c -f over $N requests / $N; h2: h2load -c1 -m10 h2c,"
    echo "h1: h2load --h1 -c1 -m1), upstream: keepalive HTTP/1.1$([ "${UP_TLS:-0}" = 1 ] && echo " over TLS"), nginx on core 1"
    printf '%-24s' case
    for s in "${SERVERS[@]}"; do printf ' %9s' "$s"; done
    echo
    k=0
    for c in "${CASES[@]}"; do
        k=$((k + 1))
        printf '%-24s' "${c%%|*}"
        for s in "${SERVERS[@]}"; do
            printf ' %9s' "$(awk '$1 == "total" { print $2 }' "$WORK/sc-$s.$k")"
        done
        echo
    done
    if [ "${INSTR:-1}" != 0 ]; then
        echo
        echo "user-space instructions per request (callgrind over $INSTR_N requests)"
        printf '%-24s' case
        for s in "${SERVERS[@]}"; do printf ' %9s' "$s"; done
        echo
        k=0
        for c in "${CASES[@]}"; do
            k=$((k + 1))
            printf '%-24s' "${c%%|*}"
            for s in "${SERVERS[@]}"; do printf ' %9s' "$(cat "$WORK/ir-$s.$k" 2>/dev/null)"; done
            echo
        done
    fi
    echo
    echo "by name (calls per request, >= 0.05):"
    k=0
    for c in "${CASES[@]}"; do
        k=$((k + 1))
        for s in "${SERVERS[@]}"; do
            echo "${c%%|*}, $s: $(head -1 "$WORK/sc-$s.$k")"
        done
    done
} | tee "$OUT"
echo "written to ${OUT#$ROOT/}"
