#!/bin/bash
# The cost of a proxy cache HIT, moongate against nginx, on the server's side only, in
# measures a loaded machine cannot move: user-space instructions per request of the server's
# one process (valgrind --tool=callgrind on it alone; INSTR_REQUESTS keepalive requests from
# curl per case) and its system calls per request (strace -c -f over N requests without
# valgrind). Cases: a HIT of a small response ("hello\n") and of a 64 KiB one; the upstream
# (one nginx on core 1, the same for both servers) is asked once per key, before the counts.
# The configuration is t/bench/cache.sh's. Writes t/bench/results-cache-instr-DATE.txt.
#
#   t/bench/cache-instr.sh   (INSTR_REQUESTS=1000 N=1000 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-cache-instr
N=${N:-1000}
INSTR_REQUESTS=${INSTR_REQUESTS:-1000}
OUT=$ROOT/t/bench/results-cache-instr-$(date +%Y%m%d-%H%M%S).txt
need_pkg valgrind valgrind
need_pkg strace strace
chmod 755 "$WORK"

UP_PORT=$(free_port)
mkdir -p "$WORK/upstream/html"
head -c 65536 /dev/zero | tr '\0' x >"$WORK/upstream/html/64k.txt"
conf_write upstream <<EOC
http {
    access_log off;
    server {
        listen 127.0.0.1:$UP_PORT;
        root $WORK/upstream/html;
        add_header Cache-Control "max-age=3600";
        location = /small { return 200 "hello\n"; }
    }
}
EOC
taskset -c 1 "$NGINX" -p "$WORK/upstream/" -c "$WORK/upstream/conf/bench.conf" \
    >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")
for _ in $(seq 250); do (exec 3<>/dev/tcp/127.0.0.1/$UP_PORT) 2>/dev/null && break; sleep 0.02; done

write_conf() { # name port
    local dir=$WORK/$1
    conf_write "$1" <<EOC
http {
    access_log off;
    keepalive_requests 1000000;
    proxy_cache_path $dir/cache levels=1:2 keys_zone=bc:10m;
    proxy_temp_path $dir/proxy_temp;
    server {
        listen 127.0.0.1:$2;
        location /c/ {
            proxy_pass http://127.0.0.1:$UP_PORT/;
            proxy_cache bc;
        }
    }
}
EOC
}

X64=$(cat "$WORK/upstream/html/64k.txt")
CASES=(
    "hit small|/c/small|hello"
    "hit 64k|/c/64k.txt|$X64"
)

requests() { # port path: N requests on one keepalive client connection
    for _ in $(seq "$N"); do
        printf 'url = "http://127.0.0.1:%s%s"\noutput = "/dev/null"\n' "$1" "$2"
    done | curl -s -K -
}

syscalls() { # binary name: "syscalls/request" lines in $WORK/sys-NAME
    local bin=$1 server=$2 name=st-$2 port dir sp c cname path want
    port=$(free_port)
    dir=$WORK/$name
    start_server "$bin" "$name" "$port"
    sp=$STARTED
    for c in "${CASES[@]}"; do
        IFS='|' read -r cname path want <<<"$c"
        local got
        got=$(curl -s "http://127.0.0.1:$port$path")
        [ "$got" = "$want" ] || echo "$BENCH: $server $path answers \"${got:0:40}\"" >&2
        N=20 requests "$port" "$path"
        strace_during "$sp" "$dir/strace" requests "$port" "$path"
        awk -v n="$N" '$NF == "total" { printf "%.1f\n", $4 / n }' "$dir/strace" >>"$WORK/sys-$server"
        { echo "$server, $cname:"; awk 'NR > 2 && $1 ~ /^[0-9.]+$/ { print }' "$dir/strace" | sort -k4 -rn | head -12; } >>"$WORK/systable"
    done
    kill "$sp" 2>/dev/null
    wait "$sp" 2>/dev/null
}

# (not in $(...): a subshell would run the EXIT trap's cleanup)
instr_pass "$MOONGATE" moongate "$(free_port)" >"$WORK/instr-moongate"
instr_pass "$NGINX" nginx "$(free_port)" >"$WORK/instr-nginx"
syscalls "$MOONGATE" moongate
syscalls "$NGINX" nginx
mapfile -t MG_IR <"$WORK/instr-moongate"
mapfile -t NG_IR <"$WORK/instr-nginx"
mapfile -t MG_SC <"$WORK/sys-moongate"
mapfile -t NG_SC <"$WORK/sys-nginx"
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; these counts do not depend on it)"
    echo "command: INSTR_REQUESTS=$INSTR_REQUESTS N=$N MOONGATE=$MOONGATE t/bench/cache-instr.sh"
    echo "per request, the server's process alone: user-space instructions (callgrind), system calls (strace -c)"
    printf '%-14s %10s %10s %6s %9s %9s %6s\n' case mg_instr ng_instr ratio mg_sys ng_sys ratio
    i=0
    for c in "${CASES[@]}"; do
        IFS='|' read -r name _ _ <<<"$c"
        printf '%-14s %10s %10s %6s %9s %9s %6s\n' "$name" "${MG_IR[$i]:-?}" "${NG_IR[$i]:-?}" \
            "$(ratio "${NG_IR[$i]:-0}" "${MG_IR[$i]:-0}")" "${MG_SC[$i]:-?}" "${NG_SC[$i]:-?}" \
            "$(ratio "${NG_SC[$i]:-0}" "${MG_SC[$i]:-0}")"
        i=$((i + 1))
    done
    echo "ratio: nginx/moongate (higher is better for moongate)"
    echo
    echo "system calls over $N requests (strace -c: calls column 4):"
    cat "$WORK/systable"
} | tee "$OUT"
