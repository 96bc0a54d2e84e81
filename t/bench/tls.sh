#!/bin/bash
# TLS, moongate against nginx on the same certificates: full handshakes/s (openssl s_time -new:
# ECDSA P-256 and RSA-2048 under TLS 1.3, RSA-2048 under TLS 1.2), resumed handshakes/s
# (s_time -reuse, TLS 1.3 tickets and TLS 1.2 session ids), keepalive HTTPS req/s of a small
# response and bulk throughput of a 64 KiB file (wrk, CONNS connections). Single process
# (master_process off, access_log off), servers on core 0, the client on core 1; ROUNDS
# alternating rounds of DURATION seconds per server, each case bounded by s_time -time / wrk -d.
# Prints the best round of each server, their ratio, the lowest and highest per-round ratio
# (how much a shared machine moved it), and each server's resident memory after the run.
# Writes t/bench/results-tls-<date>.txt. Everything it starts is killed on exit.
#
#   t/bench/tls.sh   (DURATION=3 ROUNDS=3 CONNS=10 NGINX=/usr/sbin/nginx)

DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-10}
. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/results-tls-$(date -u +%Y%m%d-%H%M%S).txt
bench_init bench-tls
need_pkg openssl openssl
need_pkg wrk wrk
mkdir -p "$WORK/html"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
printf 'ok\n' >"$WORK/html/small.txt"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/rsa.key" -out "$WORK/rsa.crt" >/dev/null 2>&1 || die "openssl failed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"

write_conf() { # name port: RSA on port, ECDSA on port + 1
    local ec=$(($2 + 1))
    conf_write "$1" <<EOF
http {
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:10m;
    root $WORK/html;
    server {
        listen 127.0.0.1:$2 ssl;
        ssl_certificate $WORK/rsa.crt;
        ssl_certificate_key $WORK/rsa.key;
    }
    server {
        listen 127.0.0.1:$ec ssl;
        ssl_certificate $WORK/ec.crt;
        ssl_certificate_key $WORK/ec.key;
    }
}
EOF
}

start_both 2

# s_time: "N connections in T real seconds" -> connections per second
run_stime() { # port opts...
    local port=$1
    shift
    taskset -c 1 openssl s_time -connect "127.0.0.1:$port" -time "$DURATION" "$@" 2>/dev/null |
        awk '/connections in [0-9.]+ real seconds/ { printf "%.0f", $1 / $4; found = 1 }
             END { if (!found) print 0 }'
}

# wrk over https: "rps MB/s errors"
run_wrk_tls() { # port path
    local out
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "https://127.0.0.1:$1$2" 2>&1)
    local rps mbs errs
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }')
    mbs=$(echo "$out" | awk '/^Transfer\/sec:/ { v = $2; if (v ~ /GB/) v *= 1024; else if (v ~ /KB/) v /= 1024; printf "%.1f", v + 0 }')
    errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ { n++ } END { print n + 0 }')
    echo "${rps:-0} ${mbs:-0} $errs"
}

rss() { awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "%d/%d", r / 1024, h / 1024 }' "/proc/$1/status"; }

# case NAME KIND ARGS...: KIND stime (ARGS: port offset, s_time options) or wrk (ARGS: path)
tls_case() {
    local name=$1 kind=$2 off=$3
    shift 3
    local mg_best=0 ng_best=0 rmin= rmax= errs=0 mg ng e unit=conn/s rs=()
    for _ in $(seq "$ROUNDS"); do
        if [ "$kind" = stime ]; then
            mg=$(run_stime $((MG_PORT + off)) "$@")
            ng=$(run_stime $((NG_PORT + off)) "$@")
        else
            unit=req/s
            read -r mg _ e < <(run_wrk_tls "$MG_PORT" "$1")
            errs=$((errs + e))
            read -r ng _ e < <(run_wrk_tls "$NG_PORT" "$1")
            errs=$((errs + e))
        fi
        keep_round "$mg" "$ng"
    done
    printf '%-34s %9s %9s %6s %6s %6s %10s\n' "$name" "$mg_best" "$ng_best" "$unit" \
        "$(ratio "$mg_best" "$ng_best")" "$(median_ratio "${rs[@]}")" "$rmin-$rmax" | tee -a "$OUT"
    [ "$errs" = 0 ] || echo "  (socket errors or non-2xx in $errs runs)" | tee -a "$OUT"
}

for port in "$MG_PORT" "$NG_PORT"; do
    got=$(curl -sk "https://127.0.0.1:$port/64k.bin" | cmp - "$WORK/html/64k.bin" 2>&1)
    [ -z "$got" ] || die "64k.bin on port $port: the body differs from the file"
done

{
    echo "moongate vs nginx: TLS, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "openssl: $(openssl version)"
    if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null; then
        echo "kernel TLS: the tls ULP is available"
    else
        echo "kernel TLS: no tls ULP in this kernel (ulps: $(cat /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null)); not measured"
    fi
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at the start; the machine is shared with other sessions"
    echo "setup: servers on core 0 (one process each), the client on core 1, best of $ROUNDS"
    echo "alternating rounds of ${DURATION}s; handshakes by openssl s_time (one connection at a time),"
    echo "requests by wrk -t1 -c$CONNS over keepalive TLS 1.3 connections"
    echo
    printf '%-34s %9s %9s %6s %6s %6s %10s\n' case moongate nginx unit ratio median min-max
} | tee "$OUT"

tls_case "full, TLS 1.3, ECDSA P-256" stime 1 -new -tls1_3
tls_case "full, TLS 1.3, RSA-2048" stime 0 -new -tls1_3
tls_case "full, TLS 1.2, RSA-2048" stime 0 -new -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
tls_case "full, TLS 1.2, ECDSA P-256" stime 1 -new -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
tls_case "resumed, TLS 1.3 (ticket)" stime 1 -reuse -tls1_3
tls_case "resumed, TLS 1.2 (ticket)" stime 1 -reuse -tls1_2
tls_case "keepalive https, small" wrk 0 /small.txt
tls_case "keepalive https, 64 KiB file" wrk 0 /64k.bin
echo "rss MiB (VmRSS/VmHWM) after the run: moongate $(rss "$MG_PID"), nginx $(rss "$NG_PID")" | tee -a "$OUT"
check_alive
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at the end" | tee -a "$OUT"
echo "ratio: moongate/nginx (higher is better for moongate)" | tee -a "$OUT"
echo "written to ${OUT#$ROOT/}"
