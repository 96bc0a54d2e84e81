#!/bin/bash
# The proxy cache and FastCGI, moongate against nginx: a cache HIT of a small and of a 64 KiB
# response (proxy_cache; the upstream, one nginx on the client's core, is asked once), and a
# PHP "hello" through php-fpm (fastcgi_pass, no cache; Debian's php8.2-fpm, 2 children, on
# the client's core). The servers: one process each (master_process off) on core 0; wrk -t1
# on core 1. Each case: ROUNDS rounds of WARMUP s + DURATION s alternating the servers, the
# best of each counts (lib.sh's bench_case), and requests per CPU second. Bounded: about
# 3 cases x ROUNDS x 2 x (WARMUP + DURATION) seconds. Writes t/bench/cache-results-<date>.txt.
# Everything it starts is killed on exit.
#
#   t/bench/cache.sh   (ROUNDS=3 DURATION=5 WARMUP=1 CONNS=50 NGINX=/usr/sbin/nginx)

ROUNDS=${ROUNDS:-3}
. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/cache-results-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-cache
need_pkg php-fpm8.2 php8.2-fpm
chmod 755 "$WORK"

cache_upstream
FPM_PORT=$(free_port)
mkdir -p "$WORK/php"

printf '<?php\necho "hello\\n";\n' >"$WORK/php/hello.php"
cat >"$WORK/php/fpm.conf" <<EOF
[global]
error_log = $WORK/php/fpm.log
daemonize = no
[www]
listen = 127.0.0.1:$FPM_PORT
pm = static
pm.max_children = 2
clear_env = yes
EOF
taskset -c 1 php-fpm8.2 -F -n -R -y "$WORK/php/fpm.conf" >/dev/null 2>&1 &
PIDS+=("$!")
for _ in $(seq 250); do
    (exec 3<>/dev/tcp/127.0.0.1/$UP_PORT) 2>/dev/null &&
        (exec 3<>/dev/tcp/127.0.0.1/$FPM_PORT) 2>/dev/null && break
    sleep 0.02
done

write_conf() { # name port
    local dir=$WORK/$1
    conf_write "$1" <<EOF
http {
    access_log off;
    keepalive_requests 1000000;
    proxy_cache_path $dir/cache levels=1:2 keys_zone=bc:10m;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    server {
        listen 127.0.0.1:$2;
        location /c/ {
            proxy_pass http://127.0.0.1:$UP_PORT/;
            proxy_cache bc;
        }
        location = /hello.php {
            fastcgi_pass 127.0.0.1:$FPM_PORT;
            fastcgi_param SCRIPT_FILENAME $WORK/php/hello.php;
            fastcgi_param REQUEST_METHOD \$request_method;
        }
    }
}
EOF
}

CASES=(
    "hit small|/c/small|hello"
    "hit 64k|/c/64k.txt|$X64"
    "php hello|/hello.php|hello"
)

start_both
{
    echo "proxy cache HIT and php-fpm, moongate vs nginx, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "setup: servers on core 0 (one process), wrk -t1 -c$CONNS on core 1 with the upstream nginx and php-fpm (2 children), best of $ROUNDS alternating rounds of ${WARMUP}s warm-up + ${DURATION}s, keepalive"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    bench_header
} | tee "$OUT"
bench_cases
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
