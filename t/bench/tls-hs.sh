#!/bin/bash
# What a full TLS 1.2 handshake costs each server, in counts a loaded machine cannot move: RSA
# 2048 and ECDSA P-256 certificates (self-signed, the same files for both), nginx 1.22's
# ssl_protocols (TLS 1.2 at most: ECDHE-RSA- or ECDHE-ECDSA-AES256-GCM-SHA384), no session
# cache, one process each (master_process off, access_log off). The client is `openssl s_time
# -new` (a handshake, close_notify, close: no request), run in 1 s slices until K handshakes
# are counted. Per handshake: user-space instructions of the server (valgrind --tool=callgrind
# between callgrind_control -z and -d) and its calls to malloc, then (outside valgrind) its
# system calls (strace -c -f). Writes t/bench/results-tls-hs-DATE.txt.
#
#   t/bench/tls-hs.sh   (K=200 NGINX=/usr/sbin/nginx MOONGATE=objs/moongate)

. "$(dirname "$0")/lib.sh"
bench_init bench-tls-hs
K=${K:-200}
OUT=$ROOT/t/bench/results-tls-hs-$(date -u +%Y%m%d-%H%M%S).txt
need_pkg valgrind valgrind
need_pkg strace strace
need_pkg openssl openssl
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/rsa.key" -out "$WORK/rsa.crt" >/dev/null 2>&1 || die "openssl failed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"

KEY=rsa
write_conf() { # name port
    conf_write "$1" <<EOF
http {
    access_log off;
    server {
        listen 127.0.0.1:$2 ssl;
        ssl_certificate $WORK/$KEY.crt;
        ssl_certificate_key $WORK/$KEY.key;
        location / { return 200 "ok\n"; }
    }
}
EOF
}

# handshakes PORT N: at least N full handshakes; prints how many were made
handshakes() {
    local done=0 n
    while [ "$done" -lt "$2" ]; do
        n=$(taskset -c 1 openssl s_time -connect "127.0.0.1:$1" -new -time 1 2>/dev/null |
            awk '/connections in/ && /real seconds/ { print $1; exit }')
        [ -n "$n" ] || die "s_time failed on port $1"
        done=$((done + n))
    done
    echo "$done"
}

row() { # server key binary
    local name=$1 bin=$3 port dir n instr mallocs sys
    KEY=$2
    port=$(free_port)
    dir=$WORK/cg-$name-$KEY
    cg_start "$bin" "cg-$name-$KEY" "$port"
    handshakes "$port" 5 >/dev/null
    callgrind_control -z "$CG_PID" >/dev/null 2>&1
    n=$(handshakes "$port" "$K")
    callgrind_control -d "$CG_PID" >/dev/null 2>&1
    instr=$(awk '/^(summary|totals):/ { print $2; exit }' "$dir/cg.out.1")
    mallocs=$(cg_calls "$dir/cg.out.1" malloc)
    kill "$CG_PID" 2>/dev/null
    wait "$CG_PID" 2>/dev/null
    port=$(free_port)
    start_server "$bin" "st-$name-$KEY" "$port"
    local sp=$STARTED m
    handshakes "$port" 5 >/dev/null
    strace_during "$sp" "$WORK/strace-$name-$KEY" handshakes "$port" "$K" >"$WORK/n-$name-$KEY"
    m=$(cat "$WORK/n-$name-$KEY")
    sys=$(awk '$NF == "total" { print $4 }' "$WORK/strace-$name-$KEY")
    kill "$sp" 2>/dev/null
    awk -v s="$name" -v k="$KEY" -v n="$n" -v i="$instr" -v ml="$mallocs" -v m="$m" -v sy="$sys" \
        'BEGIN { printf "%-6s %-9s %10d %8.1f %6d %8.2f %6d\n", k, s, i / n, ml / n, n, sy / m, m }' |
        tee -a "$OUT"
    cp "$WORK/strace-$name-$KEY" "$WORK/keep-strace-$name-$KEY"
}

{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "openssl: $(openssl version)"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; these counts do not depend on it)"
    echo "command: K=$K t/bench/tls-hs.sh"
    echo "per full TLS 1.2 handshake (openssl s_time -new: handshake, close_notify, close):"
    echo "server instructions and malloc calls (callgrind, n handshakes), system calls (strace -c, m)"
    printf '%-6s %-9s %10s %8s %6s %8s %6s\n' key server instr malloc n syscalls m
} | tee "$OUT"
for key in rsa ec; do
    row moongate "$key" "$MOONGATE"
    row nginx "$key" "$NGINX"
done
{
    echo
    echo "system calls by name, per handshake (strace -c):"
    for f in "$WORK"/keep-strace-*; do
        echo "${f##*/keep-strace-}:"
        awk -v m="$(cat "$WORK/n-${f##*/keep-strace-}")" 'NR > 2 && !/^-/ && $NF != "total" {
            printf "    %-16s %8.2f\n", $NF, $4 / m }' "$f"
    done
} | tee -a "$OUT"
