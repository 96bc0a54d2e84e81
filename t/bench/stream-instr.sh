#!/bin/bash
# stream{} proxy cost per session, moongate against nginx, in measures a loaded machine cannot
# move: user-space instructions per session (valgrind --tool=callgrind on the one process,
# counted between callgrind_control -z and -d around a DURATION-second run of t/bench/
# streamload.c's "conn" mode: connect, 16 bytes there and back, close) and system calls per
# session (strace -c -f over the same run without valgrind), and the same per UDP datagram
# (proxy_responses 1). Configuration as t/bench/stream.sh. Writes
# t/bench/results-stream-instr-DATE.txt.
#
#   t/bench/stream-instr.sh   (DURATION=3 THREADS=2 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-stream-instr
DURATION=${DURATION:-3}
THREADS=${THREADS:-2}
OUT=$ROOT/t/bench/results-stream-instr-$(date +%Y%m%d-%H%M%S).txt
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
    die "no stream module for nginx (apt-get install libnginx-mod-stream)"
need_pkg valgrind valgrind
need_pkg strace strace

stream_peer

write_conf() { # name port
    local pre=
    case $1 in *nginx*) pre="load_module /usr/lib/nginx/modules/ngx_stream_module.so;" ;; esac
    conf_write "$1" 16384 "$pre" <<EOC
worker_rlimit_nofile 65536;
stream {
    server { listen 127.0.0.1:$2 backlog=4096; proxy_pass 127.0.0.1:$PEER; }
    server { listen 127.0.0.1:$2 udp; proxy_pass 127.0.0.1:$PEER; proxy_responses 1;
             proxy_timeout 5s; }
}
EOC
}

# one server under valgrind: "Ir/session Ir/datagram"
instr() { # binary name
    local bin=$1 server=$2 name=cg-$2 port dir vp k=0 out=
    port=$(free_port)
    dir=$WORK/$name
    cg_start "$bin" "$name" "$port"
    vp=$CG_PID
    for m in conn udp; do
        taskset -c 1 "$LOAD" $m "$port" 1 1 >/dev/null
        callgrind_control -z "$vp" >/dev/null 2>&1
        set -- $(taskset -c 1 "$LOAD" $m "$port" "$DURATION" "$THREADS")
        callgrind_control -d "$vp" >/dev/null 2>&1
        k=$((k + 1))
        out="$out $(awk -v n="$3" '/^(summary|totals):/ { printf "%d", $2 / n; exit }' "$dir/cg.out.$k")"
    done
    kill "$vp" 2>/dev/null
    wait "$vp" 2>/dev/null
    echo $out >"$WORK/instr-$server"
}

# one server under strace -c: "syscalls/session syscalls/datagram" and the table for conn
syscalls() { # binary name
    local bin=$1 server=$2 name=st-$2 port dir sp out= m
    port=$(free_port)
    dir=$WORK/$name
    start_server "$bin" "$name" "$port"
    sp=$STARTED
    for m in conn udp; do
        taskset -c 1 "$LOAD" $m "$port" 1 1 >/dev/null
        set -- $(strace_during "$sp" "$dir/strace-$m" taskset -c 1 "$LOAD" $m "$port" "$DURATION" "$THREADS")
        out="$out $(awk -v n="$3" '$NF == "total" { printf "%.1f", $4 / n }' "$dir/strace-$m")"
        cp "$dir/strace-$m" "$WORK/strace-$server-$m"
        echo "$3" >"$WORK/n-$server-$m"
    done
    kill "$sp" 2>/dev/null
    wait "$sp" 2>/dev/null
    echo $out >"$WORK/sys-$server"
}

# (not in $(...): a subshell would run the EXIT trap's cleanup)
instr "$MOONGATE" moongate
instr "$NGINX" nginx
syscalls "$MOONGATE" moongate
syscalls "$NGINX" nginx
read -r MG_IC MG_IU <"$WORK/instr-moongate"
read -r NG_IC NG_IU <"$WORK/instr-nginx"
read -r MG_SC MG_SU <"$WORK/sys-moongate"
read -r NG_SC NG_SU <"$WORK/sys-nginx"
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; these counts do not depend on it)"
    echo "command: DURATION=$DURATION THREADS=$THREADS t/bench/stream-instr.sh"
    printf '%-26s %10s %10s %6s\n' measure moongate nginx ratio
    printf '%-26s %10s %10s %6s\n' "instructions/session" "$MG_IC" "$NG_IC" "$(ratio "$NG_IC" "$MG_IC")"
    printf '%-26s %10s %10s %6s\n' "instructions/datagram" "$MG_IU" "$NG_IU" "$(ratio "$NG_IU" "$MG_IU")"
    printf '%-26s %10s %10s %6s\n' "syscalls/session" "$MG_SC" "$NG_SC" "$(ratio "$NG_SC" "$MG_SC")"
    printf '%-26s %10s %10s %6s\n' "syscalls/datagram" "$MG_SU" "$NG_SU" "$(ratio "$NG_SU" "$MG_SU")"
    echo "ratio: nginx/moongate (higher is better for moongate)"
    for s in moongate nginx; do
        for m in conn udp; do
            echo
            echo "strace -c -f of $s over $(cat "$WORK/n-$s-$m") $m sessions/datagrams:"
            awk 'NR > 2 && $1 ~ /^[0-9.]+$/ { print }' "$WORK/strace-$s-$m" | sort -k4 -rn | head -12
        done
    done
} | tee "$OUT"
