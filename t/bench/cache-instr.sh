#!/bin/bash
# The cost of a proxy cache HIT, moongate against nginx, on the server's side only, in
# measures a loaded machine cannot move: user-space instructions per request of the server's
# one process (valgrind --tool=callgrind on it alone; INSTR_REQUESTS keepalive requests from
# curl per case) and its system calls per request (strace -c -f over N requests without
# valgrind). Cases: a HIT of a small response ("hello\n") and of a 64 KiB one, t/bench/cache.sh's
# configuration and upstream (lib.sh's cache_upstream: one nginx on core 1, asked once per
# key before the counts). Writes t/bench/results-cache-instr-DATE.txt.
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

cache_upstream
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

CASES=(
    "hit small|/c/small|hello"
    "hit 64k|/c/64k.txt|$X64"
)

# (not in $(...): a subshell would run the EXIT trap's cleanup)
instr_pass "$MOONGATE" moongate "$(free_port)" >"$WORK/instr-moongate"
instr_pass "$NGINX" nginx "$(free_port)" >"$WORK/instr-nginx"
syscall_pass "$MOONGATE" moongate
syscall_pass "$NGINX" nginx
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; these counts do not depend on it)"
    echo "command: INSTR_REQUESTS=$INSTR_REQUESTS N=$N MOONGATE=$MOONGATE t/bench/cache-instr.sh"
    counts_table
} | tee "$OUT"
