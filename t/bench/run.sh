#!/bin/bash
# moongate against nginx on one machine, same configuration: access_log off, WORKERS worker
# processes (1: master_process off, a single process), the servers pinned to SERVER_CPUS, wrk
# (WRK_THREADS threads, CONNS connections) and the upstream pinned to CLIENT_CPUS, 127.0.0.1 on
# free ports. Cases: "return 200", a 1 KiB file, a 64 KiB file, proxy_pass to an upstream with
# keepalive (the same nginx upstream for both), a 64 KiB text file with gzip on, and with
# Debian's Lua module for nginx (libnginx-mod-http-lua): content_by_lua_block saying hello,
# an access_by_lua token check in front of the 1 KiB file, and a cosocket round trip to the
# upstream with setkeepalive. Each case: ROUNDS (at least 3) rounds of a WARMUP s warm-up
# then DURATION seconds per server, alternating moongate and nginx, so a slow spell of a
# shared machine hits both. Reported per case: the median and min-max of each server's
# requests/s, the median and min-max of the per-round ratio, the median p99 latency, requests
# per CPU second of the server's processes (all rounds; less moved by other load than req/s)
# and RSS. Written to t/bench/results-<date>.txt with the machine, the versions, the load
# average and the exact commands. Everything it starts is killed on exit.
#
# Scaling: WORKERS=N runs master_process on with N workers (both servers) and adds each
# server's req/s per worker; REUSEPORT=1 gives the listen a reuseport (a socket per worker)
# and ACCEPT_MUTEX=on|off sets events' accept_mutex (nginx's default: off), so the same
# script measures 1 worker here and 16 on a larger machine, each way. ONLY=REGEX runs the
# cases whose name matches.
#
#   make bench   or   t/bench/run.sh
#   (WORKERS=1 CONNS=50 DURATION=5 ROUNDS=3 WARMUP=1 SERVER_CPUS=0 CLIENT_CPUS=1 WRK_THREADS=1
#    REUSEPORT=0 ACCEPT_MUTEX=off ONLY= NGINX=/usr/sbin/nginx)
#   e.g. WORKERS=8 SERVER_CPUS=0-7 CLIENT_CPUS=8-15 WRK_THREADS=8 CONNS=400 REUSEPORT=1

. "$(dirname "$0")/lib.sh"
BENCH=bench
ROUNDS=${ROUNDS:-3}
[ "$ROUNDS" -ge 3 ] || ROUNDS=3
WORKERS=${WORKERS:-1}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
WRK_THREADS=${WRK_THREADS:-1}
REUSEPORT=${REUSEPORT:-0}
ACCEPT_MUTEX=${ACCEPT_MUTEX:-off}
ONLY=${ONLY:-}
case "$ACCEPT_MUTEX" in on | off) ;; *) die "ACCEPT_MUTEX is on or off" ;; esac
LISTEN_OPTS=
[ "$REUSEPORT" = 1 ] && LISTEN_OPTS=" reuseport"
OUT=$ROOT/t/bench/results-$(date +%Y%m%d-%H%M%S).txt
COMMANDS=()

need_pkg "$NGINX" nginx-light
need_pkg wrk wrk
need_pkg taskset util-linux
need_pkg curl curl
[ -x "$MOONGATE" ] || die "$MOONGATE is not built (make)"
taskset -c "$SERVER_CPUS" true 2>/dev/null || die "SERVER_CPUS=$SERVER_CPUS is not a CPU list here"
taskset -c "$CLIENT_CPUS" true 2>/dev/null || die "CLIENT_CPUS=$CLIENT_CPUS is not a CPU list here"

WORK=$(mktemp -d /tmp/mg-bench.XXXXXX)
chmod 755 "$WORK" # workers under master_process on run as nobody and read the files
mkdir -p "$WORK/html"
head -c 1024 /dev/urandom >"$WORK/html/1k.bin"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
# compressible text, as a page or a log would be
perl -e 'my $s = ""; my $i = 0; $s .= "line " . $i++ . ": the quick brown fox jumps over the lazy dog\n" while length $s < 65536; print substr($s, 0, 65536)' >"$WORK/html/64k.txt"

# $1 name, $2 port, $3 gzip block (may be empty), $4 main-level lines (nginx's load_module)
write_conf() {
    local dir=$WORK/$1
    mkdir -p "$dir/logs" "$dir/conf"
    local procs="master_process off;
worker_processes 1;"
    [ "$WORKERS" -gt 1 ] && procs="master_process on;
worker_processes $WORKERS;"
    cat >"$dir/conf/bench.conf" <<EOF
${4:-}
daemon off;
$procs
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections 1024; accept_mutex $ACCEPT_MUTEX; }
http {
    access_log off;
    types { text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    keepalive_requests 1000000;
$3
    upstream bench_backend {
        server 127.0.0.1:$UP_PORT;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$2$LISTEN_OPTS;
        root $WORK/html;
        location = /return { return 200 "ok\n"; }
        location = /proxy {
            proxy_pass http://bench_backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location / { }
$LUA_LOCATIONS
    }
}
EOF
}

# the upstream both servers proxy to: one nginx on the client's core, so it weighs the same
# on both runs
UP_PORT=$(free_port)
mkdir -p "$WORK/upstream/logs" "$WORK/upstream/conf"
cat >"$WORK/upstream/conf/bench.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$UP_PORT;
        location / { return 200 "ok\n"; }
    }
}
EOF

# Lua: moongate has it built in; nginx needs Debian's dynamic module
NGINX_LUA_MODULES=/usr/lib/nginx/modules
if [ ! -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ]; then
    echo "bench: installing libnginx-mod-http-lua"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libnginx-mod-http-lua >/dev/null 2>&1
fi
LUA=no
NGINX_MAIN=
LUA_LOCATIONS=
if [ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ]; then
    LUA=yes
    NGINX_MAIN="load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;"
    LUA_LOCATIONS='        location = /lua { content_by_lua_block { ngx.say("hello") } }
'"$(lua_cosocket_location "$UP_PORT")"'
        location /lua-access/ {
            alias '"$WORK"'/html/;
            access_by_lua_block {
                if ngx.var.http_x_token ~= "secret" then return ngx.exit(403) end
            }
        }'
fi

GZIP_BLOCK='    gzip on;
    gzip_types text/plain;
    gzip_comp_level 1;'

# $1 binary, $2 name, $3 port -> STARTED (the pid) once the port answers
STARTED=
start_server() {
    local bin=$1 name=$2 port=$3
    local main=
    [ "$name" = nginx ] && main=$NGINX_MAIN
    write_conf "$name" "$port" "$GZIP_BLOCK" "$main"
    COMMANDS+=("taskset -c $SERVER_CPUS $bin -p $WORK/$name/ -e logs/error.log -c $WORK/$name/conf/bench.conf")
    taskset -c "$SERVER_CPUS" "$bin" -p "$WORK/$name/" -e logs/error.log -c "$WORK/$name/conf/bench.conf" \
        >"$WORK/$name/logs/stdout" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 250); do
        if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
            STARTED=$pid
            return
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    cat "$WORK/$name/logs/stdout" "$WORK/$name/logs/error.log" >&2 2>/dev/null
    die "$name did not start"
}

COMMANDS+=("taskset -c $CLIENT_CPUS $NGINX -p $WORK/upstream/ -e logs/error.log -c $WORK/upstream/conf/bench.conf  (the upstream)")
taskset -c "$CLIENT_CPUS" "$NGINX" -p "$WORK/upstream/" -e logs/error.log -c "$WORK/upstream/conf/bench.conf" \
    >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")

MG_PORT=$(free_port)
NG_PORT=$(free_port)
[ "$MG_PORT" = "$NG_PORT" ] && NG_PORT=$((MG_PORT + 1))
start_server "$MOONGATE" moongate "$MG_PORT"
MG_PID=$STARTED
start_server "$NGINX" nginx "$NG_PORT"
NG_PID=$STARTED

# latency in wrk's units -> microseconds
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") m = 1; else if (u == "ms") m = 1000; else if (u == "s") m = 1000000;
        else m = 1;
        printf "%.0f", n * m }'
}

# CPU ticks (utime + stime) of a server: the process and its workers
tree_ticks() {
    local p t=0
    for p in "$1" $(pgrep -P "$1"); do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}

# RSS of a server: the worker's, or with WORKERS > 1 the sum of the workers'
rss_kb() {
    local p k=0 procs=$1
    [ "$WORKERS" -gt 1 ] && procs=$(pgrep -P "$1")
    for p in $procs; do
        k=$((k + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo "$k"
}

# $1 port, $2 server pid, $3 path, then extra wrk args -> "rps p99_us errors requests ticks"
run_wrk() {
    local port=$1 pid=$2 path=$3
    shift 3
    taskset -c "$CLIENT_CPUS" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" "$@" \
        "http://127.0.0.1:$port$path" >/dev/null 2>&1
    local out t0 t1
    t0=$(tree_ticks "$pid")
    out=$(taskset -c "$CLIENT_CPUS" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$@" \
          "http://127.0.0.1:$port$path" 2>&1)
    t1=$(tree_ticks "$pid")
    local rps p99 errs n
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
    n=$(echo "$out" | awk '/requests in/ { print $1 }')
    errs=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { n += 1 } END { print n + 0 }')
    echo "${rps:-0} $(to_us "${p99:-0}") $errs ${n:-0} $((t1 - t0))"
}

# a status and size check, so a server answering 404 quickly is not taken for fast
check_case() { # port path expected-bytes [header]
    local got
    if [ -n "${4:-}" ]; then
        got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "$4" "http://127.0.0.1:$1$2")
    else
        got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$1$2")
    fi
    case "$got" in "200 "*) [ -z "$3" ] || [ "${got#200 }" = "$3" ] ;; *) return 1 ;; esac
}

# with WORKERS > 1, two more columns (printf'd as one string), else nothing
per_worker_cols() {
    [ "$WORKERS" -gt 1 ] && printf ' %10s %10s' "$1" "$2"
    return 0
}

# median and "min-max" of the numbers given
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "-" hi }'; }

{
    echo "moongate vs nginx, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other sessions run beside; read the ratios, not the absolute numbers)"
    echo "setup: WORKERS=$WORKERS REUSEPORT=$REUSEPORT ACCEPT_MUTEX=$ACCEPT_MUTEX CONNS=$CONNS DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS SERVER_CPUS=$SERVER_CPUS CLIENT_CPUS=$CLIENT_CPUS WRK_THREADS=$WRK_THREADS, keepalive, access_log off"
    echo "rounds alternate moongate and nginx; each round: wrk warm-up ${WARMUP}s, then ${DURATION}s measured"
    echo "commands:"
    for c in "${COMMANDS[@]}"; do echo "  $c"; done
    echo "  taskset -c $CLIENT_CPUS wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency [-H HEADER] http://127.0.0.1:PORT/PATH"
    echo
    echo "req/s: median (min-max) of the rounds; ratio: moongate/nginx, median (min-max) of the per-round ratios;"
    echo "p99: median of the rounds, us; req/cpu-s: all rounds' requests over the server processes' CPU time"
    [ "$WORKERS" -gt 1 ] && echo "mg/worker, ng/worker: the median req/s over the $WORKERS workers; rss: the workers' sum"
    printf '%-16s %18s %18s %16s %8s %8s %9s %9s %6s %9s %9s%s\n' case "mg req/s" "ng req/s" "ratio" \
        mg_p99 ng_p99 mg_req/cpu ng_req/cpu ratio mg_rss_kB ng_rss_kB "$(per_worker_cols mg/worker ng/worker)"
} | tee "$OUT"

bench_case() { # name path size [header]
    local name=$1 path=$2 size=$3 hdr=${4:-}
    if [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]]; then
        return 0
    fi
    local args=()
    [ -n "$hdr" ] && args=(-H "$hdr")
    for who in mg ng; do
        local port=$MG_PORT
        [ $who = ng ] && port=$NG_PORT
        if ! check_case "$port" "$path" "$size" "$hdr"; then
            echo "bench: $who: GET $path does not answer 200 with $size bytes" >&2
        fi
    done
    local mg_r=() ng_r=() mg_p=() ng_p=() rr=() mg_err=0 ng_err=0 mg_n=0 ng_n=0 mg_t=0 ng_t=0
    local rps p99 err n t mrps
    for _ in $(seq "$ROUNDS"); do
        read -r rps p99 err n t < <(run_wrk "$MG_PORT" "$MG_PID" "$path" "${args[@]}")
        mg_r+=("$rps") mg_p+=("$p99") mg_err=$((mg_err + err)) mg_n=$((mg_n + n)) mg_t=$((mg_t + t))
        mrps=$rps
        read -r rps p99 err n t < <(run_wrk "$NG_PORT" "$NG_PID" "$path" "${args[@]}")
        ng_r+=("$rps") ng_p+=("$p99") ng_err=$((ng_err + err)) ng_n=$((ng_n + n)) ng_t=$((ng_t + t))
        rr+=("$(ratio "$mrps" "$rps")")
    done
    local mg_cpu ng_cpu
    mg_cpu=$(per_cpu "$mg_n" "$mg_t")
    ng_cpu=$(per_cpu "$ng_n" "$ng_t")
    local mg_med ng_med
    mg_med=$(median "${mg_r[@]}")
    ng_med=$(median "${ng_r[@]}")
    printf '%-16s %18s %18s %16s %8s %8s %9s %9s %6s %9s %9s%s\n' "$name" \
        "$mg_med ($(range "${mg_r[@]}"))" "$ng_med ($(range "${ng_r[@]}"))" \
        "$(median "${rr[@]}") ($(range "${rr[@]}"))" "$(median "${mg_p[@]}")" "$(median "${ng_p[@]}")" \
        "$mg_cpu" "$ng_cpu" "$(ratio "$mg_cpu" "$ng_cpu")" "$(rss_kb "$MG_PID")" "$(rss_kb "$NG_PID")" \
        "$(per_worker_cols "$(awk -v r="$mg_med" -v w="$WORKERS" 'BEGIN { printf "%.0f", r / w }')" \
                           "$(awk -v r="$ng_med" -v w="$WORKERS" 'BEGIN { printf "%.0f", r / w }')")" |
        tee -a "$OUT"
    if [ "$mg_err" != 0 ] || [ "$ng_err" != 0 ]; then
        echo "  (errors or non-2xx: moongate $mg_err, nginx $ng_err)" | tee -a "$OUT"
    fi
}

bench_case "return 200" /return 3
bench_case "file 1 KiB" /1k.bin 1024
bench_case "file 64 KiB" /64k.bin 65536
bench_case "proxy keepalive" /proxy 3
bench_case "64 KiB txt gzip" /64k.txt "" "Accept-Encoding: gzip"

if [ "$LUA" = yes ]; then
    bench_case "lua say hello" /lua 6
    bench_case "lua access+file" /lua-access/1k.bin 1024 "X-Token: secret"
    bench_case "lua cosocket" /lua-cosocket 3
else
    printf '%-16s %12s\n' "lua" "n/a (nginx's Lua module is not installed)" | tee -a "$OUT"
fi

kill -0 "$MG_PID" 2>/dev/null || echo "bench: moongate died during the run" | tee -a "$OUT"
kill -0 "$NG_PID" 2>/dev/null || echo "bench: nginx died during the run" | tee -a "$OUT"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"
echo "ratio: moongate/nginx (req/s and req/cpu-s: higher is better for moongate)" | tee -a "$OUT"
echo "written to ${OUT#$ROOT/}"
