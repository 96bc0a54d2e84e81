# What the benches share, sourced by each: bench_init NAME (the tree, the binaries, a work
# directory and the cleanup that kills everything started), free_port, need_pkg, start_server
# and start_both, keep_round (a round's best and ratio spread), check_alive, stream_peer (the
# stream benches' echo peer), and for the wrk benches that compare the two servers case by
# case: run_wrk, bench_case and instr_table (instructions per request under callgrind, which other load cannot move);
# conf_write (the configuration's common lines), cg_start (a server under callgrind), cg_calls (a
# function's calls in a callgrind dump) and
# strace_during (a syscall count) for the benches that count, and for those that count
# CASES on both servers: curl_requests, syscall_pass and counts_table; cache_upstream (the
# proxy cache benches' upstream).
#
# A bench defines write_conf NAME PORT (the configuration at $WORK/NAME/conf/bench.conf) and,
# for bench_case, CASES ("name|path|expected body" lines) before calling them.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
MOONGATE=${MOONGATE:-$ROOT/objs/moongate}
NGINX=${NGINX:-/usr/sbin/nginx}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-50}

PIDS=()
WORK=
BENCH=bench
cleanup() {
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.02; done
        kill -KILL "$p" 2>/dev/null
    done
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() { echo "$BENCH: $*" >&2; exit 1; }

need_pkg() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    [ -x "$1" ] && return 0
    echo "$BENCH: installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1; } ||
        die "cannot install $2"
}

# bench_init NAME: the checks every bench needs and its work directory
bench_init() {
    BENCH=$1
    need_pkg "$NGINX" nginx-light
    need_pkg taskset util-linux
    need_pkg curl curl
    [ -x "$MOONGATE" ] || die "$MOONGATE is not built (make)"
    [ "$(nproc)" -ge 2 ] || die "needs two cores (servers on 0, the client on 1)"
    WORK=$(mktemp -d "/tmp/mg-$BENCH.XXXXXX")
}

# a port nobody listens on, away from the ephemeral range the clients' connections use
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 10000))
        (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
    done
    die "no free port"
}

machine_line() {
    echo "machine: nproc=$(nproc), cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel=$(uname -r)"
    echo "moongate: $("$MOONGATE" -v 2>&1 | head -1), nginx: $("$NGINX" -v 2>&1 | head -1)"
}

# start_server BINARY NAME PORT: write_conf NAME PORT, the server on core 0, in the
# foreground (daemon off in the configuration); its pid in STARTED
STARTED=
start_server() {
    local bin=$1 name=$2 port=$3
    write_conf "$name" "$port"
    taskset -c 0 "$bin" -p "$WORK/$name/" -e logs/error.log -c "$WORK/$name/conf/bench.conf" \
        >"$WORK/$name/logs/stdout" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 500); do
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

# conf_write NAME [CONNECTIONS [MAIN-LINES]]: $WORK/NAME/conf/bench.conf (and logs/) with the
# main context every bench runs with (one process in the foreground, errors only, CONNECTIONS
# worker_connections, 1024 by default; MAIN-LINES before events{}, as load_module must be),
# then what stdin holds (the http{} or stream{} block)
conf_write() {
    local dir=$WORK/$1
    mkdir -p "$dir/logs" "$dir/conf"
    {
        [ -n "${3:-}" ] && printf '%s\n' "$3"
        cat <<EOC
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections ${2:-1024}; }
EOC
        cat
    } >"$dir/conf/bench.conf"
}

# strace_during PID FILE COMMAND...: the system calls of PID (strace -c -f, into FILE) while
# COMMAND runs; COMMAND's output passes through
strace_during() {
    local pid=$1 file=$2 tp
    shift 2
    strace -c -f -p "$pid" -o "$file" &
    tp=$!
    sleep 0.5 # attached (strace has no ready signal)
    "$@"
    kill -INT "$tp"
    wait "$tp" 2>/dev/null
}

# curl_requests PORT PATH: N requests (N=20 if unset) one after the other on one keepalive
# client connection
curl_requests() {
    for _ in $(seq "${N:-20}"); do
        printf 'url = "http://127.0.0.1:%s%s"\noutput = "/dev/null"\n' "$1" "$2"
    done | curl -s -K -
}

# syscall_pass BINARY NAME: the server started (write_conf), each of CASES' paths checked for
# its expected body, then its system calls over N keepalive requests (strace -c -f, after 20
# warm-up requests): one "calls/request" line per case in $WORK/sys-NAME, the busiest calls in
# $WORK/systable
syscall_pass() {
    local bin=$1 server=$2 name=st-$2 port dir sp c cname path want got
    port=$(free_port)
    dir=$WORK/$name
    start_server "$bin" "$name" "$port"
    sp=$STARTED
    for c in "${CASES[@]}"; do
        IFS='|' read -r cname path want <<<"$c"
        got=$(curl -s "http://127.0.0.1:$port$path")
        [ "$got" = "$want" ] || echo "$BENCH: $server $path answers \"${got:0:40}\"" >&2
        N=20 curl_requests "$port" "$path"
        strace_during "$sp" "$dir/strace" curl_requests "$port" "$path"
        awk -v n="$N" '$NF == "total" { printf "%.1f\n", $4 / n }' "$dir/strace" >>"$WORK/sys-$server"
        {
            echo "$server, $cname:"
            awk 'NR > 2 && $1 ~ /^[0-9.]+$/ { print }' "$dir/strace" | sort -k4 -rn | head -12
        } >>"$WORK/systable"
    done
    kill "$sp" 2>/dev/null
    wait "$sp" 2>/dev/null
}

# counts_table: CASES' instructions and system calls per request of both servers (instr_pass
# into $WORK/instr-NAME, syscall_pass), then the system calls' detail
counts_table() {
    local MG_IR NG_IR MG_SC NG_SC i=0 c name
    mapfile -t MG_IR <"$WORK/instr-moongate"
    mapfile -t NG_IR <"$WORK/instr-nginx"
    mapfile -t MG_SC <"$WORK/sys-moongate"
    mapfile -t NG_SC <"$WORK/sys-nginx"
    echo "per request, the server's process alone: user-space instructions (callgrind), system calls (strace -c)"
    printf '%-14s %10s %10s %6s %9s %9s %6s\n' case mg_instr ng_instr ratio mg_sys ng_sys ratio
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
}

# cache_upstream: the proxy cache benches' upstream, one nginx on core 1 listening on UP_PORT:
# /small answers "hello\n", /64k.txt 64 KiB of x (also in X64), both with Cache-Control max-age
cache_upstream() {
    UP_PORT=$(free_port)
    mkdir -p "$WORK/upstream/html"
    head -c 65536 /dev/zero | tr '\0' x >"$WORK/upstream/html/64k.txt"
    X64=$(cat "$WORK/upstream/html/64k.txt")
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
}

# stream_peer: t/bench/streamload.c built as $LOAD (the stream benches' client) and its echo
# peer started on core 1, listening on $PEER
stream_peer() {
    LOAD=$WORK/streamload
    cc -O2 -pthread -o "$LOAD" "$ROOT/t/bench/streamload.c" || die "cannot build streamload"
    PEER=$(free_port)
    taskset -c 1 "$LOAD" echo "$PEER" &
    PIDS+=("$!")
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PEER) 2>/dev/null && break; sleep 0.02; done
}

# start_both [SPAN]: both servers started (write_conf NAME PORT), MG_PORT MG_PID NG_PORT NG_PID;
# SPAN: how many ports from its own each server listens on (1 by default), kept apart
start_both() {
    local span=${1:-1}
    MG_PORT=$(free_port)
    NG_PORT=$(free_port)
    while [ $((MG_PORT - NG_PORT)) -gt $((-span)) ] && [ $((MG_PORT - NG_PORT)) -lt "$span" ]; do
        NG_PORT=$(free_port)
    done
    start_server "$MOONGATE" moongate "$MG_PORT"
    MG_PID=$STARTED
    start_server "$NGINX" nginx "$NG_PORT"
    NG_PID=$STARTED
}

# CPU time a process used (utime + stime, in clock ticks)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

run_wrk() { # port pid path -> "rps errors requests cpu-ticks"
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$1$3" >/dev/null 2>&1
    local out t0 t1
    t0=$(cpu_ticks "$2")
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$1$3" 2>&1)
    t1=$(cpu_ticks "$2")
    local rps errs n
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
    n=$(echo "$out" | awk '/requests in/ { print $1 }')
    errs=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { n += 1 } END { print n + 0 }')
    echo "${rps:-0} $errs ${n:-0} $((t1 - t0))"
}

per_cpu() { awk -v n="$1" -v t="$2" -v hz="$HZ" 'BEGIN { if (t > 0) printf "%.0f", n * hz / t; else print 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }

bench_header() {
    echo "req/cpu-s: all rounds' requests over the server's own CPU time (utime+stime) in them,"
    echo "which other load on a shared machine disturbs less than req/s"
    echo
    printf '%-12s %11s %11s %6s %6s %10s %12s %12s %6s\n' case mg_req/s ng_req/s ratio median min-max \
        mg_req/cpu-s ng_req/cpu-s ratio
}

# keep_round MG NG: one round's results into the caller's mg_best, ng_best (the best of each),
# rmin, rmax (the spread of the ratio) and rs (every round's ratio, for median_ratio), which
# bash's dynamic scope lets it set
keep_round() {
    local r
    awk -v a="$1" -v b="$mg_best" 'BEGIN { exit !(a > b) }' && mg_best=$1
    awk -v a="$2" -v b="$ng_best" 'BEGIN { exit !(a > b) }' && ng_best=$2
    r=$(ratio "$1" "$2")
    rs+=("$r")
    if [ -z "$rmin" ] || awk -v a="$r" -v b="$rmin" 'BEGIN { exit !(a < b) }'; then rmin=$r; fi
    if [ -z "$rmax" ] || awk -v a="$r" -v b="$rmax" 'BEGIN { exit !(a > b) }'; then rmax=$r; fi
}

# median_ratio RATIO...: the median of the rounds' ratios. Each round runs both servers back to
# back, so a round's ratio sees nearly the same machine; the median of those is steadier than the
# ratio of the two best rounds when other load comes and goes (one lucky round decides a best)
median_ratio() {
    [ $# -gt 0 ] || { printf -; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "-"; else if (NR % 2) printf "%.2f", v[(NR + 1) / 2];
              else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# whether both servers outlived the run (a line in $OUT for one that did not)
check_alive() {
    kill -0 "$MG_PID" 2>/dev/null || echo "$BENCH: moongate died during the run" | tee -a "$OUT"
    kill -0 "$NG_PID" 2>/dev/null || echo "$BENCH: nginx died during the run" | tee -a "$OUT"
}

# bench_case NAME PATH EXPECTED-BODY: ROUNDS alternating rounds; the best of each server, the
# median and spread of the rounds' ratios, and the requests per CPU second of all rounds
bench_case() {
    local name=$1 path=$2 want=$3
    for port in "$MG_PORT" "$NG_PORT"; do
        local got
        got=$(curl -s "http://127.0.0.1:$port$path")
        [ "$got" = "$want" ] || echo "$BENCH: $path on port $port answers \"$got\", not \"$want\"" >&2
    done
    local mg_best=0 ng_best=0 mg_n=0 ng_n=0 mg_t=0 ng_t=0 errs=0 rmin= rmax= err mg ng n t
    local rs=()
    for _ in $(seq "$ROUNDS"); do
        read -r mg err n t < <(run_wrk "$MG_PORT" "$MG_PID" "$path")
        errs=$((errs + err)) mg_n=$((mg_n + n)) mg_t=$((mg_t + t))
        read -r ng err n t < <(run_wrk "$NG_PORT" "$NG_PID" "$path")
        errs=$((errs + err)) ng_n=$((ng_n + n)) ng_t=$((ng_t + t))
        keep_round "$mg" "$ng"
    done
    local mg_cpu ng_cpu
    mg_cpu=$(per_cpu "$mg_n" "$mg_t")
    ng_cpu=$(per_cpu "$ng_n" "$ng_t")
    printf '%-12s %11s %11s %6s %6s %10s %12s %12s %6s\n' "$name" "$mg_best" "$ng_best" \
        "$(ratio "$mg_best" "$ng_best")" "$(median_ratio "${rs[@]}")" "$rmin-$rmax" "$mg_cpu" "$ng_cpu" "$(ratio "$mg_cpu" "$ng_cpu")" |
        tee -a "$OUT"
    [ "$errs" = 0 ] || echo "  (errors or non-2xx: $errs)" | tee -a "$OUT"
}

bench_cases() {
    local c name path want
    need_pkg wrk wrk
    for c in "${CASES[@]}"; do
        IFS='|' read -r name path want <<<"$c"
        [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]] && continue # ONLY=REGEX: some cases
        bench_case "$name" "$path" "$want"
    done
    check_alive
    echo "ratio: moongate/nginx (higher is better for moongate)" | tee -a "$OUT"
}

# Instructions per request under callgrind (user space, no syscalls): what each server's own
# code costs, whatever else the machine runs. INSTR=0 skips it.
# Start a binary under callgrind with $WORK/NAME's configuration (write_conf NAME PORT) and wait
# until PORT accepts: its pid in CG_PID, its dumps $WORK/NAME/cg.out.N (callgrind_control -d).
cg_start() { # binary name port
    local bin=$1 name=$2 port=$3 dir=$WORK/$2
    write_conf "$name" "$port"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin" -p "$dir/" \
        -c "$dir/conf/bench.conf" >"$dir/logs/valgrind" 2>&1 &
    CG_PID=$!
    PIDS+=("$CG_PID")
    for _ in $(seq 1200); do
        (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
        kill -0 "$CG_PID" 2>/dev/null || die "$name did not start under valgrind"
        sleep 0.1
    done
}

# calls to FUNCTION in a callgrind dump (fn= and cfn= lines name it once, then by number)
cg_calls() { # file function
    awk -v f="$2" '
        /^c?fn=/ {
            id = $1; sub(/^c?fn=/, "", id)
            if (NF > 1) { name = $0; sub(/^c?fn=\([0-9]+\) /, "", name); names[id] = name }
            if ($0 ~ /^cfn=/) cur = names[id]
            next
        }
        /^calls=/ && cur == f { split($1, a, "="); n += a[2] }
        END { print n + 0 }' "$1"
}
instr_pass() { # binary name port -> one "Ir/request" per case
    local bin=$1 name=$2 port=$3 dir=$WORK/cg-$2
    cg_start "$bin" "cg-$name" "$port"
    local vp=$CG_PID
    local c path n=${INSTR_REQUESTS:-1000} k=0
    for c in "${CASES[@]}"; do
        IFS='|' read -r _ path _ <<<"$c"
        curl -s -o /dev/null "http://127.0.0.1:$port$path"
        callgrind_control -z "$vp" >/dev/null 2>&1
        N=$n curl_requests "$port" "$path"
        callgrind_control -d "$vp" >/dev/null 2>&1
        k=$((k + 1))
        awk -v n="$n" '/^(summary|totals):/ { printf "%d\n", $2 / n; exit }' "$dir/cg.out.$k"
    done
    kill "$vp" 2>/dev/null
    wait "$vp" 2>/dev/null
}

instr_table() {
    [ "${INSTR:-1}" != 0 ] || return 0
    command -v valgrind >/dev/null 2>&1 || { echo "(no valgrind: no instruction counts)" | tee -a "$OUT"; return 0; }
    local MG_IR NG_IR i=0 c name
    mapfile -t MG_IR < <(instr_pass "$MOONGATE" moongate "$(free_port)")
    mapfile -t NG_IR < <(instr_pass "$NGINX" nginx "$(free_port)")
    {
        echo
        echo "instructions per request (callgrind, user space, ${INSTR_REQUESTS:-1000} keepalive requests per case)"
        printf '%-12s %12s %12s %6s\n' case mg_instr ng_instr ratio
    } | tee -a "$OUT"
    for c in "${CASES[@]}"; do
        IFS='|' read -r name _ _ <<<"$c"
        printf '%-12s %12s %12s %6s\n' "$name" "${MG_IR[$i]:-?}" "${NG_IR[$i]:-?}" \
            "$(ratio "${NG_IR[$i]:-0}" "${MG_IR[$i]:-0}")" | tee -a "$OUT"
        i=$((i + 1))
    done
    echo "ratio: nginx/moongate instructions (higher is better for moongate)" | tee -a "$OUT"
}

# lua_cosocket_location PORT: the "lua cosocket" case's location (run.sh, syscalls.sh): a
# cosocket round trip to the upstream at PORT (the head by lines, the body by its length) on a
# connection kept with setkeepalive
lua_cosocket_location() {
    cat <<EOL
        location = /lua-cosocket {
            content_by_lua_block {
                local sock = ngx.socket.tcp()
                local ok, err = sock:connect("127.0.0.1", $1)
                if not ok then ngx.log(ngx.ERR, err) return ngx.exit(502) end
                sock:send("GET / HTTP/1.1\\r\\nHost: upstream\\r\\n\\r\\n")
                local len
                while true do
                    local line = sock:receive("*l")
                    if not line then return ngx.exit(502) end
                    if line == "" then break end
                    local n = line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
                    if n then len = tonumber(n) end
                end
                local body = sock:receive(len)
                sock:setkeepalive(60000, 32)
                ngx.print(body)
            }
        }
EOL
}
