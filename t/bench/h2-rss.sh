#!/bin/bash
# Worker memory after an HTTP/2 load, moongate against nginx: each server (one process,
# master_process off) takes h2load -t1 -cCONNS -mSTREAMS -nREQUESTS over TLS for a 64 KiB file,
# then its VmRSS is read at once and again after IDLE seconds without connections (moongate
# gives the heap's free pages back after 1 s idle), with VmHWM, its peak. RSS is what a loaded
# machine cannot move, unlike requests/s. ROUNDS rounds alternate the servers (the same
# processes: the second round shows what a warmed-up worker keeps). URL=/proxy/64k.bin takes
# the file through proxy_pass (an upstream server in the same process), URL=/lua64k from
# content_by_lua's ngx.print (nginx loads Debian's libnginx-mod-http-lua). Writes
# t/bench/results-h2-rss-DATE.txt.
#
#   t/bench/h2-rss.sh   (ROUNDS=2 CONNS=4 STREAMS=100 REQUESTS=10000 IDLE=3 URL=/64k.bin
#                        NGINX=/usr/sbin/nginx)
ROUNDS=${ROUNDS:-2}
CONNS=${CONNS:-4}
STREAMS=${STREAMS:-100}
REQUESTS=${REQUESTS:-10000}
IDLE=${IDLE:-3}
URL=${URL:-/64k.bin}
. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/results-h2-rss-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-h2-rss
need_pkg h2load nghttp2-client
need_pkg openssl openssl
mkdir -p "$WORK/html"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || die "openssl failed"

NGINX_LUA_MODULES=/usr/lib/nginx/modules
[ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ] || die "libnginx-mod-http-lua is not installed"

write_conf() { # name port (the upstream listener is port + 1)
    local up=$(($2 + 1)) main=
    [ "$1" = nginx ] && main="load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;"
    conf_write "$1" 1024 "$main" <<EOC
http {
    init_by_lua_block { big = string.rep("x", 65536) }
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$2 ssl http2;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        http2_max_concurrent_streams 128;
        root $WORK/html;
        location /proxy/ {
            proxy_pass http://127.0.0.1:$up/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location = /lua64k { content_by_lua_block { ngx.print(big) } }
    }
    server {
        listen 127.0.0.1:$up;
        root $WORK/html;
    }
}
EOC
}
MG_PORT=$(free_port)
NG_PORT=$(free_port)
[ $((NG_PORT - MG_PORT)) -ge -1 ] && [ $((NG_PORT - MG_PORT)) -le 1 ] && NG_PORT=$((MG_PORT + 2))
start_server "$MOONGATE" moongate "$MG_PORT"
MG_PID=$STARTED
start_server "$NGINX" nginx "$NG_PORT"
NG_PID=$STARTED

kib() { awk -v k="$2:" '$1 == k { print int($2 / 1024) }' "/proc/$1/status"; }
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at the start (the machine is shared)"
    echo "command: ROUNDS=$ROUNDS CONNS=$CONNS STREAMS=$STREAMS REQUESTS=$REQUESTS IDLE=$IDLE URL=$URL t/bench/h2-rss.sh"
    echo "each round: taskset -c 1 h2load -t1 -c$CONNS -m$STREAMS -n$REQUESTS https://127.0.0.1:PORT$URL"
    echo "MiB: VmRSS at once after the load, VmRSS after ${IDLE}s idle, VmHWM (peak)"
    printf '%-6s %-9s %8s %9s %6s %8s\n' round server rss_now rss_idle hwm failed
} | tee "$OUT"
for round in $(seq "$ROUNDS"); do
    for s in moongate nginx; do
        if [ $s = moongate ]; then port=$MG_PORT pid=$MG_PID; else port=$NG_PORT pid=$NG_PID; fi
        out=$(taskset -c 1 h2load -t1 -c"$CONNS" -m"$STREAMS" -n"$REQUESTS" \
            "https://127.0.0.1:$port$URL" 2>&1)
        now=$(kib "$pid" VmRSS)
        sleep "$IDLE"
        idle=$(kib "$pid" VmRSS)
        failed=$(echo "$out" | awk '/^requests:/ { n += $10 + $12 + $14 } END { print n + 0 }')
        printf '%-6s %-9s %8s %9s %6s %8s\n' "$round" "$s" "$now" "$idle" "$(kib "$pid" VmHWM)" \
            "$failed" | tee -a "$OUT"
    done
done
