#!/bin/bash
# The cost of a FastCGI request to php-fpm, moongate against nginx, on the server's side only,
# in measures a loaded machine cannot move: user-space instructions per request of the server's
# one process (valgrind --tool=callgrind on it alone, php-fpm not traced; INSTR_REQUESTS
# keepalive requests from curl per case) and its system calls per request (strace -c -f over N
# requests without valgrind). Cases: fastcgi_pass to an upstream with keepalive and
# fastcgi_keep_conn on, and to the address with a connection per request; the same
# fastcgi_params (conf/fastcgi_params) and a PHP file that echoes a line. php-fpm (pm static,
# 2 children) runs on core 1. Writes t/bench/results-fastcgi-instr-DATE.txt.
#
#   t/bench/fastcgi-instr.sh   (INSTR_REQUESTS=1000 N=1000 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-fastcgi-instr
N=${N:-1000}
INSTR_REQUESTS=${INSTR_REQUESTS:-1000}
OUT=$ROOT/t/bench/results-fastcgi-instr-$(date +%Y%m%d-%H%M%S).txt
FPM_BIN=${FPM_BIN:-php-fpm8.2}
need_pkg valgrind valgrind
need_pkg strace strace
need_pkg "$FPM_BIN" php8.2-fpm
mkdir -p "$WORK/html" "$WORK/fpm"
echo '<?php echo "hello\n";' >"$WORK/html/hello.php"

FPM=$(free_port)
cat >"$WORK/fpm/fpm.conf" <<EOF
[global]
error_log = $WORK/fpm/fpm.log
daemonize = no
[www]
listen = 127.0.0.1:$FPM
pm = static
pm.max_children = 2
pm.max_requests = 0
clear_env = yes
EOF
taskset -c 1 "$FPM_BIN" -F -n -R -y "$WORK/fpm/fpm.conf" >"$WORK/fpm/stdout" 2>&1 &
PIDS+=("$!")
for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$FPM) 2>/dev/null && break; sleep 0.05; done

write_conf() { # name port
    conf_write "$1" <<EOC
http {
    access_log off;
    keepalive_requests 1000000;
    upstream fpm {
        server 127.0.0.1:$FPM;
        keepalive 4;
    }
    server {
        listen 127.0.0.1:$2;
        root $WORK/html;
        location /ka/ {
            include $ROOT/conf/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $WORK/html/hello.php;
            fastcgi_keep_conn on;
            fastcgi_pass fpm;
        }
        location /new/ {
            include $ROOT/conf/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $WORK/html/hello.php;
            fastcgi_pass 127.0.0.1:$FPM;
        }
    }
}
EOC
}

CASES=(
    "keepalive|/ka/hello.php|hello"
    "no keepalive|/new/hello.php|hello"
)

# (not in $(...): a subshell would run the EXIT trap's cleanup)
instr_pass "$MOONGATE" moongate "$(free_port)" >"$WORK/instr-moongate"
instr_pass "$NGINX" nginx "$(free_port)" >"$WORK/instr-nginx"
syscall_pass "$MOONGATE" moongate
syscall_pass "$NGINX" nginx
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "php-fpm: $("$FPM_BIN" -v 2>&1 | head -1)"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; these counts do not depend on it)"
    echo "command: INSTR_REQUESTS=$INSTR_REQUESTS N=$N t/bench/fastcgi-instr.sh"
    counts_table
} | tee "$OUT"
