#!/bin/bash
# HTTP/2 over TLS, system calls per request (strace -c -f on the one server process): for each
# of h2-cases.sh's cases, the calls during h2load -c1 -mSTREAMS -nN on one connection less those
# of a connection with one request (so the handshake and the connection's setup are not in
# it), divided by N - 1; moongate (and BEFORE=an older one) against nginx, with the calls by
# name for each case. Exact whatever else the machine runs. Writes
# t/bench/results-h2-syscalls-DATE.txt (RESULTS=NAME: results-NAME-DATE.txt); H2C=1 and ONLY=REGEX as
# h2-cases.sh says.
#
#   t/bench/h2-syscalls.sh   (N=400 BEFORE= NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-h2-syscalls
N=${N:-400}
BEFORE=${BEFORE:-}
OUT=$ROOT/t/bench/results-${RESULTS:-h2-syscalls}-$(date +%Y%m%d-%H%M%S).txt
need_pkg strace strace
. "$ROOT/t/bench/h2-cases.sh"

# "name calls" lines of an strace -c summary (its total as "total")
calls_of() {
    awk '$1 ~ /^-/ { next } $NF == "total" { print "total", $4; next }
        $4 ~ /^[0-9]+$/ { print $NF, $4 }' "$1"
}

traced() { # pid port path streams requests file
    strace_during "$1" "$6" h2load -c1 -m"$4" -n"$5" "$SCHEME://127.0.0.1:$2$3" >/dev/null 2>&1
}

# per request: (the N-request connection's calls - the 1-request one's) / (N - 1), by name
per_request() { # one-file all-file -> "name calls/request" lines, total first
    awk -v n="$N" 'FNR == NR { one[$1] = $2; next } { all[$1] = $2 }
        END { for (k in all) { v = (all[k] - one[k]) / (n - 1); if (v >= 0.05 || k == "total")
              printf "%s %.2f\n", k, v } }' <(calls_of "$1") <(calls_of "$2") |
        sort -k1,1 | awk '$1 == "total" { t = $0; next } { print } END { print t }' | tac
}

count() { # binary name -> $WORK/sc-NAME.K files, one per case
    local bin=$1 name=sc-$2 port pid k=0 c path m
    port=$(free_port)
    start_server "$bin" "$name" "$port"
    pid=$STARTED
    for c in "${CASES[@]}"; do
        IFS='|' read -r _ path m <<<"$c"
        h2load -c1 -m"$m" -n200 "$SCHEME://127.0.0.1:$port$path" >/dev/null 2>&1
        k=$((k + 1))
        traced "$pid" "$port" "$path" 1 1 "$WORK/one"
        traced "$pid" "$port" "$path" "$m" "$N" "$WORK/all"
        per_request "$WORK/one" "$WORK/all" >"$WORK/$name.$k"
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

[ -n "$BEFORE" ] && count "$BEFORE" before
count "$MOONGATE" moongate
count "$NGINX" nginx
total() { awk '$1 == "total" { print $2 }' "$1" 2>/dev/null || echo -; }
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    [ -n "$BEFORE" ] && echo "before: $BEFORE ($("$BEFORE" -v 2>&1 | head -1))"
    echo "command: ${H2C:+H2C=$H2C }${ONLY:+ONLY='$ONLY' }${RESULTS:+RESULTS=$RESULTS }N=$N${BEFORE:+ BEFORE=$BEFORE} t/bench/h2-syscalls.sh"
    echo "system calls per request (strace -c -f; $([ "${H2C:-0}" = 1 ] && echo "cleartext, h2 by prior knowledge" || echo "TLS 1.3, h2 by ALPN")): (calls during h2load -c1"
    echo "-mSTREAMS -n$N - calls during one with -n1) / ($N - 1), after a warm-up of 200"
    printf '%-18s %9s %9s %9s\n' case before moongate nginx
    k=0
    for c in "${CASES[@]}"; do
        IFS='|' read -r name _ _ <<<"$c"
        k=$((k + 1))
        b=-
        [ -n "$BEFORE" ] && b=$(total "$WORK/sc-before.$k")
        printf '%-18s %9s %9s %9s\n' "$name" "$b" "$(total "$WORK/sc-moongate.$k")" \
            "$(total "$WORK/sc-nginx.$k")"
    done
    echo
    echo "by name (calls per request, >= 0.05):"
    k=0
    for c in "${CASES[@]}"; do
        IFS='|' read -r name _ _ <<<"$c"
        k=$((k + 1))
        for s in ${BEFORE:+before} moongate nginx; do
            echo "$name, $s: $(grep -v '^total' "$WORK/sc-$s.$k" | tr '\n' ' ')"
        done
    done
} | tee "$OUT"
