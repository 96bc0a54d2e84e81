#!/bin/bash
# HTTP/2 over TLS, the cost of a request in a measure a loaded machine cannot move: user-space
# instructions per request (valgrind --tool=callgrind, between callgrind_control -z and -d
# around h2load -n N on one connection, less a connection with one request: the handshake and
# the connection's setup are not counted), for a 64 KiB file with 1 and 100 streams at once, a
# 1 KiB file (1 and 100 streams), the 64 KiB file through proxy_pass (upstream keepalive,
# 10 streams) and Lua's content_by_lua: 64 KiB in one ngx.print (10 streams), ngx.say("hello")
# (100 streams; nginx loads Debian's libnginx-mod-http-lua). BEFORE=binary adds a column for an
# older moongate. Valgrind counts each byte a `rep movsb` copies as an instruction, and glibc's
# memcpy takes it or a vector loop by size and by how source and destination align, so copies
# of the same bytes count up to 20 times apart by luck of addresses; with
# GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1000000000 both servers copy with vector
# loops and count alike (the results say which). The cases and the configuration are h2-cases.sh's (h2-syscalls.sh counts the
# system calls of the same). Writes t/bench/results-h2-instr-DATE.txt
# (RESULTS=NAME: results-NAME-DATE.txt); H2C=1 and ONLY=REGEX as h2-cases.sh says.
#
#   t/bench/h2-instr.sh   (N=400 BEFORE= NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-h2-instr
N=${N:-400}
BEFORE=${BEFORE:-}
OUT=$ROOT/t/bench/results-${RESULTS:-h2-instr}-$(date +%Y%m%d-%H%M%S).txt
need_pkg valgrind valgrind
. "$ROOT/t/bench/h2-cases.sh"

# callgrind's total between -z and -d around one h2load run on a new connection
counted() { # vp dir k path streams requests -> "Ir failed"
    local vp=$1 dir=$2 k=$3 out failed
    callgrind_control -z "$vp" >/dev/null 2>&1
    out=$(h2load -c1 -m"$5" -n"$6" "$SCHEME://127.0.0.1:$port$4" 2>&1)
    callgrind_control -d "$vp" >/dev/null 2>&1
    failed=$(echo "$out" | awk '/^requests:/ { n += $10 + $12 + $14 } /^status codes:/ { n += $7 + $9 }
        END { print n + 0 }')
    echo "$(awk '/^(summary|totals):/ { print $2; exit }' "$dir/cg.out.$k") $failed"
}

instr() { # binary name -> $WORK/instr-NAME: "Ir/request failed" per case
    local bin=$1 name=cg-$2 port dir vp k=0 c path m one all f1 fn
    port=$(free_port)
    dir=$WORK/$name
    cg_start "$bin" "$name" "$port"
    vp=$CG_PID
    : >"$WORK/instr-$2"
    for c in "${CASES[@]}"; do
        IFS='|' read -r _ path m <<<"$c"
        h2load -c1 -m"$m" -n200 "$SCHEME://127.0.0.1:$port$path" >/dev/null 2>&1
        # a connection with one request, then one with N: the difference is N - 1 requests
        # without the connection's handshake and setup
        k=$((k + 1))
        read -r one f1 < <(counted "$vp" "$dir" "$k" "$path" 1 1)
        k=$((k + 1))
        read -r all fn < <(counted "$vp" "$dir" "$k" "$path" "$m" "$N")
        echo "$(awk -v a="$all" -v b="$one" -v n="$N" 'BEGIN { printf "%d", (a - b) / (n - 1) }') $((f1 + fn))" >>"$WORK/instr-$2"
    done
    kill "$vp" 2>/dev/null
    wait "$vp" 2>/dev/null
}

[ -n "$BEFORE" ] && instr "$BEFORE" before
instr "$MOONGATE" moongate
instr "$NGINX" nginx
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    [ -n "$BEFORE" ] && echo "before: $BEFORE ($("$BEFORE" -v 2>&1 | head -1))"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; these counts do not depend on it)"
    echo "command: ${GLIBC_TUNABLES:+GLIBC_TUNABLES=$GLIBC_TUNABLES }${H2C:+H2C=$H2C }${ONLY:+ONLY='$ONLY' }${RESULTS:+RESULTS=$RESULTS }N=$N${BEFORE:+ BEFORE=$BEFORE} t/bench/h2-instr.sh"
    echo "user-space instructions per request (callgrind; $([ "${H2C:-0}" = 1 ] && echo "cleartext, h2 by prior knowledge" || echo "TLS 1.3, h2 by ALPN")): (Ir of a connection"
    echo "with h2load -c1 -mSTREAMS -n$N - Ir of one with -n1) / ($N - 1), after a warm-up of 200,"
    echo "so neither the TLS handshake nor the connection's setup is in it"
    printf '%-18s %12s %12s %12s %7s\n' case before moongate nginx mg/ng
    i=1
    for c in "${CASES[@]}"; do
        IFS='|' read -r name _ _ <<<"$c"
        b=-
        [ -n "$BEFORE" ] && b=$(sed -n "${i}p" "$WORK/instr-before" | cut -d' ' -f1)
        mg=$(sed -n "${i}p" "$WORK/instr-moongate" | cut -d' ' -f1)
        ng=$(sed -n "${i}p" "$WORK/instr-nginx" | cut -d' ' -f1)
        printf '%-18s %12s %12s %12s %7s\n' "$name" "$b" "$mg" "$ng" "$(ratio "$mg" "$ng")"
        i=$((i + 1))
    done
    f=$(cat "$WORK"/instr-* | awk '{ n += $2 } END { print n + 0 }')
    [ "$f" = 0 ] || echo "failed requests or non-2xx: $f"
    echo "mg/ng: moongate's instructions over nginx's (lower is better for moongate)"
} | tee "$OUT"
