#!/bin/bash
# Latency tail, moongate against nginx, same configuration (run.sh's cases: "return 200", a
# 1 KiB file, a 64 KiB file, a 64 KiB text file with gzip, Lua hello, an access_by_lua check in
# front of the 1 KiB file): one process each on core 0, wrk -t1 -cCONNS on core 1, keepalive.
# At equal throughput the mean latency is the same for both (CONNS / req/s); the tail says
# whether some connections wait for others. Two parts per case:
#  - the order connections are served in, counted (other load cannot move it): the server is
#    traced (strace -e recvfrom) for ORDER_SECONDS of wrk, and for each request read the
#    number of requests the server read from other connections since the previous one on the
#    same connection. Served in arrival order, every connection waits for each of the others
#    once: CONNS-1 at p50 and p99 alike; a p99 near 2 x (CONNS-1) means some connections wait
#    two turns of the others, which is what a p99 latency near twice the median comes from.
#  - the wall clock (ORDER_ONLY=1 skips it): ROUNDS alternating rounds of WARMUP s + DURATION s
#    per server, wrk --latency; the median over the rounds of req/s, p50, p90 and p99, and of
#    the per-round p99 ratio (moongate/nginx: below 1 is better for moongate).
# The https-* cases are return and the 1 KiB file over TLS (ECDSA P-256, port + 1 of each server;
# wrk's OpenSSL; the order counted over read() too, which OpenSSL reads with).
# The proxy-ka and lua-cosocket cases are run.sh's "proxy keepalive" and "lua cosocket": one
# nginx upstream on the client's core (return 200), keepalive 32, and lib.sh's
# lua_cosocket_location; their order counts only the reads from client connections (strace -yy
# names each socket; its local port is the server's), not the ones from the upstream.
# CASES="gzip,1k" picks cases by name. Writes t/bench/tail-results-<date>.txt.
#
#   t/bench/tail.sh   (ROUNDS=5 DURATION=3 WARMUP=1 CONNS=50 ORDER_SECONDS=2 ORDER_ONLY=0
#                      CASES=all NGINX=/usr/sbin/nginx MOONGATE=objs/moongate)

. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/tail-results-$(date +%Y%m%d-%H%M%S).txt
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-3}
CASES_WANTED=${CASES:-all}
ORDER_SECONDS=${ORDER_SECONDS:-2}
ORDER_ONLY=${ORDER_ONLY:-0}
bench_init bench-tail
need_pkg wrk wrk
need_pkg strace strace
need_pkg perl perl-base
need_pkg openssl openssl

NGINX_LUA_MODULES=/usr/lib/nginx/modules
LUA=no
[ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ] && LUA=yes

# the upstream the proxy-ka and lua-cosocket cases go to (run.sh's): one nginx on the client's core
UP_PORT=$(free_port)
conf_write upstream <<EOF
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$UP_PORT;
        location / { return 200 "ok\n"; }
    }
}
EOF
taskset -c 1 "$NGINX" -p "$WORK/upstream/" -e logs/error.log -c "$WORK/upstream/conf/bench.conf" \
    >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")

mkdir -p "$WORK/html"
head -c 1024 /dev/urandom >"$WORK/html/1k.bin"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
perl -e 'my $s = ""; my $i = 0; $s .= "line " . $i++ . ": the quick brown fox jumps over the lazy dog\n" while length $s < 65536; print substr($s, 0, 65536)' >"$WORK/html/64k.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"
chmod -R a+rX "$WORK"

write_conf() { # name port (TLS on port + 1)
    local main= lua=
    if [ "$LUA" = yes ]; then
        case $1 in nginx*) main="load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;" ;; esac
        lua="location = /lua { content_by_lua_block { ngx.say(\"hello\") } }
        location /lua-access/ {
            alias $WORK/html/;
            access_by_lua_block {
                if ngx.var.http_x_token ~= \"secret\" then return ngx.exit(403) end
            }
        }
$(lua_cosocket_location "$UP_PORT")"
    fi
    conf_write "$1" 1024 "$main" <<EOF
http {
    access_log off;
    types { text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    keepalive_requests 1000000;
    upstream bench_backend {
        server 127.0.0.1:$UP_PORT;
        keepalive 32;
    }
    gzip on;
    gzip_types text/plain;
    gzip_comp_level 1;
    server {
        listen 127.0.0.1:$2;
        root $WORK/html;
        location = /return { return 200 "ok\n"; }
        location = /proxy {
            proxy_pass http://bench_backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location / { }
        $lua
    }
    server {
        listen 127.0.0.1:$(($2 + 1)) ssl;
        ssl_certificate $WORK/ec.crt;
        ssl_certificate_key $WORK/ec.key;
        root $WORK/html;
        location = /return { return 200 "ok\n"; }
        location / { }
    }
}
EOF
}
start_both 2

# url PORT PATH: a path "https:/x" is /x over TLS, on port + 1
url() {
    case $2 in
    https:*) echo "https://127.0.0.1:$(($1 + 1))${2#https:}" ;;
    *) echo "http://127.0.0.1:$1$2" ;;
    esac
}

# latency in wrk's units -> microseconds
to_us() {
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        m = u == "ms" ? 1000 : u == "s" ? 1000000 : 1; printf "%.0f", n * m }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# $1 port, $2 path, then wrk's extra args -> "rps p50 p90 p99" (us)
tail_wrk() {
    local port=$1 path=$2
    shift 2
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$@" "$(url "$port" "$path")" >/dev/null 2>&1
    local out
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$(url "$port" "$path")" 2>&1)
    echo "$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')" \
        "$(to_us "$(echo "$out" | awk '$1 == "50%" { print $2 }')")" \
        "$(to_us "$(echo "$out" | awk '$1 == "90%" { print $2 }')")" \
        "$(to_us "$(echo "$out" | awk '$1 == "99%" { print $2 }')")"
}

# $1 pid, $2 port, $3 path, then wrk's extra args -> "p50 p90 p99 max requests" of the requests
# read from other connections between two on the same connection
order_wrk() {
    local pid=$1 port=$2 path=$3 tp
    shift 3
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$@" "$(url "$port" "$path")" >/dev/null 2>&1
    local yy=() only=0
    # proxy-ka, lua-cosocket: the client connections only (their local port is the server's)
    [ "${CLIENT_ONLY:-}" = 1 ] && yy=(-yy) only=$port
    strace -f "${yy[@]}" -e trace=recvfrom,read -p "$pid" -o "$WORK/order.strace" 2>/dev/null &
    tp=$!
    sleep 0.5 # attached (strace has no ready signal)
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${ORDER_SECONDS}s" "$@" "$(url "$port" "$path")" >/dev/null 2>&1
    kill -INT "$tp"
    wait "$tp" 2>/dev/null
    ONLY=$only perl -ne 'next unless /^\d+\s+(?:recvfrom|read)\((\d+)(?:<TCP:\[[\d.]+:(\d+)->[^>]*>)?,.*\) = [1-9]\d*$/;
        next if $ENV{ONLY} && (!defined $2 || $2 != $ENV{ONLY});
        $k++; push @g, $k - $l{$1} - 1 if defined $l{$1}; $l{$1} = $k;
        END { @s = sort { $a <=> $b } @g; @s = (0) unless @s;
              print join(" ", (map { $s[int($_ * $#s)] } 0.5, 0.9, 0.99, 1), scalar @g), "\n" }' \
        "$WORK/order.strace"
}

{
    echo "latency tail: moongate vs nginx, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "moongate binary: $MOONGATE (this tree: $(git -C "$ROOT" log -1 --format=%h 2>/dev/null))"
    echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "setup: one process each on core 0, taskset -c 1 wrk -t1 -c$CONNS -d${DURATION}s --latency (warm-up ${WARMUP}s), keepalive, access_log off, ROUNDS=$ROUNDS alternating"
    echo "commands: taskset -c 0 SERVER -p DIR -c DIR/conf/bench.conf; strace -f -e trace=recvfrom -p PID during taskset -c 1 wrk -t1 -c$CONNS -d${ORDER_SECONDS}s [-H HEADER] URL;"
    echo "          taskset -c 1 wrk -t1 -c$CONNS -d${DURATION}s --latency [-H HEADER] URL"
    echo "          (proxy-ka, lua-cosocket: strace -yy, the client connections' reads only; upstream: nginx on core 1, keepalive 32)"
    echo
} | tee "$OUT"

wanted() { case ",$CASES_WANTED," in *",all,"* | *",$1,"*) return 0 ;; esac; return 1; }

# case FUNCTION NAME PATH [HEADER]: FUNCTION NAME PATH [-H HEADER] for a case CASES wants
case_run() {
    local fn=$1 name=$2 path=$3
    shift 3
    wanted "$name" || return 0
    if [ $# -gt 0 ]; then "$fn" "$name" "$path" -H "$1"; else "$fn" "$name" "$path"; fi
}

order_case() { # name path [wrk args]
    local name=$1 path=$2
    shift 2
    printf '%-16s %-26s %-26s\n' "$name" "$(order_wrk "$MG_PID" "$MG_PORT" "$path" "$@")" \
        "$(order_wrk "$NG_PID" "$NG_PORT" "$path" "$@")" | tee -a "$OUT"
}

tail_case() { # name path [wrk args]
    local name=$1 path=$2
    shift 2
    local args=("$@")
    local mr=() nr=() m50=() n50=() m90=() n90=() m99=() n99=() rr=() rps p50 p90 p99
    for _ in $(seq "$ROUNDS"); do
        read -r rps p50 p90 p99 < <(tail_wrk "$MG_PORT" "$path" "${args[@]}")
        mr+=("$rps") m50+=("$p50") m90+=("$p90") m99+=("$p99")
        local mp=$p99
        read -r rps p50 p90 p99 < <(tail_wrk "$NG_PORT" "$path" "${args[@]}")
        nr+=("$rps") n50+=("$p50") n90+=("$p90") n99+=("$p99")
        rr+=("$(ratio "$mp" "$p99")")
    done
    printf '%-16s %9.0f %9.0f %7s %7s %7s %7s %7s %7s %6s\n' "$name" "$(median "${mr[@]}")" \
        "$(median "${nr[@]}")" "$(median "${m50[@]}")" "$(median "${n50[@]}")" \
        "$(median "${m90[@]}")" "$(median "${n90[@]}")" "$(median "${m99[@]}")" \
        "$(median "${n99[@]}")" "$(median "${rr[@]}")" | tee -a "$OUT"
    echo "  per-round p99 ratios: ${rr[*]}" | tee -a "$OUT"
}

all_cases() { # the function to run for each case
    case_run "$1" return /return
    case_run "$1" gzip /64k.txt "Accept-Encoding: gzip"
    case_run "$1" 1k /1k.bin
    case_run "$1" 64k /64k.bin
    CLIENT_ONLY=1 case_run "$1" proxy-ka /proxy
    case_run "$1" https-return https:/return
    case_run "$1" https-1k https:/1k.bin
    if [ "$LUA" = yes ]; then
        case_run "$1" lua /lua
        case_run "$1" lua-access /lua-access/1k.bin "X-Token: secret"
        CLIENT_ONLY=1 case_run "$1" lua-cosocket /lua-cosocket
    fi
}

{
    echo "order: requests read from other connections between two requests of one connection"
    echo "(p50 p90 p99 max, then the number of requests counted; $((CONNS - 1)) everywhere: arrival order)"
    printf '%-16s %-26s %-26s\n' case moongate nginx
} | tee -a "$OUT"
all_cases order_case
if [ "$ORDER_ONLY" != 1 ]; then
    {
        echo
        echo "wall clock: medians over the rounds (us); p99_r: median of the per-round moongate/nginx p99"
        printf '%-16s %9s %9s %7s %7s %7s %7s %7s %7s %6s\n' case mg_req/s ng_req/s mg_p50 ng_p50 \
            mg_p90 ng_p90 mg_p99 ng_p99 p99_r
    } | tee -a "$OUT"
    all_cases tail_case
fi
check_alive
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
echo "written to ${OUT#$ROOT/}"
