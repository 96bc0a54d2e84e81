#!/bin/bash
# The most moongate could gain over nginx on this machine, case by case: where each server's
# CPU time goes under load, by the object it runs in (perf record -e cpu-clock, a software
# clock, so it works in a VM without a PMU), sorted into
#   kernel  the kernel (system calls, TCP over loopback, epoll, the page cache)
#   libs    the libraries both servers call for the same work: OpenSSL (libcrypto, libssl),
#           zlib, LuaJIT (its VM, and the code it compiled: perf's unknown/[JIT] objects)
#   own     the server itself: its binary, its modules (nginx's ngx_*.so), libc, the rest
# and the ceiling: nginx's time over its kernel + libs time, the requests/s ratio moongate
# would reach if its own part cost nothing while the kernel and the libraries cost what they
# cost nginx (an upper bound: libc counts as "own", though much of it is memcpy both need).
# Cases: return 200, a 1 KiB and a 64 KiB file, a 64 KiB text file gzipped (level 1), proxy
# keepalive (an nginx upstream on the client's core), Lua content saying hello, and HTTPS
# keepalive "return 200" (TLS 1.3, ECDSA P-256), and a 64 KiB file over h2 and TLS (h2load -c10 -m1). Each server pinned to core 0, wrk on core 1,
# ROUNDS rounds per case alternating the servers, WARMUP s then DURATION s sampled. Writes
# t/bench/results-ceiling-<date>.txt. Everything it starts is killed on exit.
#
#   t/bench/ceiling.sh   (DURATION=4 ROUNDS=2 CONNS=50 NGINX=/usr/sbin/nginx ONLY=REGEX)

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-4}
. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/results-ceiling-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-ceiling
need_pkg perf linux-perf
need_pkg wrk wrk
need_pkg openssl openssl
need_pkg h2load nghttp2-client
mkdir -p "$WORK/html"
perl -e 'print "x" x 1023, "\n"' >"$WORK/html/1k.bin"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
perl -e 'for (1 .. 1024) { printf "line %05d of a text file the gzip filter packs, %s\n", $_, "abc" x 2 }' |
    head -c 65536 >"$WORK/html/64k.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"

MODS=/usr/lib/nginx/modules
[ -f $MODS/ngx_http_lua_module.so ] || need_pkg $MODS/ngx_http_lua_module.so libnginx-mod-http-lua
UP_PORT=$(free_port)

write_conf() { # name port (the TLS listener is port + 1)
    local main=
    [ "$1" = nginx ] && main="load_module $MODS/ndk_http_module.so;
load_module $MODS/ngx_http_lua_module.so;"
    conf_write "$1" 1024 "$main" <<EOF
http {
    access_log off;
    types { text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    keepalive_requests 1000000;
    upstream backend { server 127.0.0.1:$UP_PORT; keepalive 32; }
    server {
        listen 127.0.0.1:$2;
        listen 127.0.0.1:$(($2 + 1)) ssl http2;
        ssl_certificate $WORK/ec.crt;
        ssl_certificate_key $WORK/ec.key;
        ssl_protocols TLSv1.3;
        root $WORK/html;
        location = /return { return 200 "ok\n"; }
        location = /proxy {
            proxy_pass http://backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location = /lua { content_by_lua_block { ngx.say("hello") } }
        location /gz/ { alias $WORK/html/; gzip on; gzip_types text/plain; gzip_comp_level 1; }
        location / { }
    }
}
EOF
}

# the upstream of the proxy case: nginx on the client's core, as run.sh's
conf_write upstream <<EOF
http {
    access_log off;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$UP_PORT; location / { return 200 "ok\n"; } }
}
EOF
taskset -c 1 "$NGINX" -p "$WORK/upstream/" -e logs/error.log -c "$WORK/upstream/conf/bench.conf" \
    >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")

start_both 2

# name|scheme+port offset|path|wrk header
CASES=("return 200|0|/return|" "file 1 KiB|0|/1k.bin|" "file 64 KiB|0|/64k.bin|"
    "64 KiB txt gzip|0|/gz/64k.txt|Accept-Encoding: gzip" "proxy keepalive|0|/proxy|"
    "lua say hello|0|/lua|" "https return 200|1|/return|" "h2 64 KiB file|1|/64k.bin|h2")
if [ -n "${ONLY:-}" ]; then
    KEEP=()
    for c in "${CASES[@]}"; do [[ ${c%%|*} =~ $ONLY ]] && KEEP+=("$c"); done
    CASES=("${KEEP[@]}")
fi

# load SECONDS URL HEADER: wrk (h2load -c10 -m1 for HEADER "h2"), the requests made
load() {
    if [ "$3" = h2 ]; then
        taskset -c 1 h2load -t1 -c10 -m1 -D "$1" "$2" 2>&1 | awk '/^requests:/ { print $8 }'
        return
    fi
    local h=()
    [ -n "$3" ] && h=(-H "$3")
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${1}s" "${h[@]}" "$2" | awk '/requests in/ { print $1 }'
}

# profile NAME PID URL HEADER: "requests kernel% libs% own%" of the samples of PID
profile() {
    local name=$1 pid=$2 url=$3 hdr=$4 data=$WORK/$1.perf n
    load "$WARMUP" "$url" "$hdr" >/dev/null 2>&1
    perf record -q -e cpu-clock -F 4999 -p "$pid" -o "$data" -- sleep "$DURATION" >/dev/null 2>&1 &
    local pp=$!
    n=$(load "$DURATION" "$url" "$hdr")
    wait "$pp"
    perf report -i "$data" --stdio --sort dso -g none 2>/dev/null |
        awk -v n="${n:-0}" '
        /^ *[0-9.]+%/ {
            p = $1; sub("%", "", p); d = $2
            if (d ~ /kernel/) k += p
            else if (d ~ /libcrypto|libssl|libz\.|libluajit|unknown|JIT|perf-[0-9]+\.map/) l += p
            else o += p
        }
        END { printf "%d %.1f %.1f %.1f\n", n, k, l, o }'
}

{
    echo "moongate vs nginx: where the CPU goes, and the most moongate could gain, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at the start"
    echo "setup: servers on core 0, wrk -t1 -c$CONNS on core 1, $ROUNDS rounds of ${WARMUP}s warm-up + ${DURATION}s sampled (perf cpu-clock) per server and case"
    echo "kernel/libs/own: % of the server's samples (libs: OpenSSL, zlib, LuaJIT and its compiled code; own: the binary, its modules, libc)"
    echo "ceiling: nginx's samples over its kernel + libs samples = moongate/nginx req/s if moongate's own part were free"
    echo
    printf '%-17s %-8s %9s %7s %6s %6s %8s\n' case server requests kernel libs own ceiling
} | tee "$OUT"
for c in "${CASES[@]}"; do
    IFS='|' read -r name off path hdr <<<"$c"
    for r in $(seq "$ROUNDS"); do
        for s in moongate nginx; do
            if [ $s = moongate ]; then pid=$MG_PID port=$((MG_PORT + off)); else pid=$NG_PID port=$((NG_PORT + off)); fi
            scheme=http
            [ "$off" = 1 ] && scheme=https
            read -r n k l o <<<"$(profile $s "$pid" "$scheme://127.0.0.1:$port$path" "$hdr")"
            ceil=$(awk -v k="$k" -v l="$l" -v o="$o" 'BEGIN { if (k + l > 0) printf "%.2f", (k + l + o) / (k + l); else print "-" }')
            [ $s = moongate ] && ceil=
            printf '%-17s %-8s %9d %6s%% %5s%% %5s%% %8s\n' "$name" $s "$n" "$k" "$l" "$o" "$ceil" | tee -a "$OUT"
        done
    done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at the end" | tee -a "$OUT"
echo "written to ${OUT#$ROOT/}"
