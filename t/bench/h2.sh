#!/bin/bash
# HTTP/2 over TLS, moongate against nginx: h2load requests/s for a 64 KiB file with 1 stream per
# connection (CONNS connections) and with 100 streams per connection (CONNS100 connections), and
# h2 to a proxied upstream (proxy_pass to the same server's HTTP/1.1 listener serving the file,
# upstream keepalive, 10 streams per connection). Single process (master_process off,
# access_log off), each server pinned to core 0, h2load -t1 pinned to core 1; ROUNDS
# alternating rounds of a WARMUP-second warm-up and DURATION seconds per server. Prints the best
# round's requests/s of each server and their ratio, the lowest and highest per-round ratio
# (how much a shared machine moved it), each server's requests per second of its own CPU time
# (all rounds), and its resident memory (VmRSS after the case, VmHWM its peak). Any failed
# request is reported. Writes t/bench/results-h2.txt. Everything it starts is killed on exit.
#
#   t/bench/h2.sh   (DURATION=5 ROUNDS=5 CONNS=10 CONNS100=4 NGINX=/usr/sbin/nginx)

ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-10}
CONNS100=${CONNS100:-4}
. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/results-h2.txt
bench_init bench-h2
need_pkg h2load nghttp2-client
need_pkg openssl openssl
mkdir -p "$WORK/html"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || die "openssl failed"

write_conf() { # name port (the upstream listener is port + 1)
    local dir=$WORK/$1 up=$(($2 + 1))
    mkdir -p "$dir/logs" "$dir/conf"
    cat >"$dir/conf/bench.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    upstream back { server 127.0.0.1:$up; keepalive 32; }
    server {
        listen 127.0.0.1:$2 ssl http2;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        http2_max_concurrent_streams 128;
        root $WORK/html;
        location /proxy/ {
            proxy_pass http://back/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
    server {
        listen 127.0.0.1:$up;
        root $WORK/html;
    }
}
EOF
}

MG_PORT=$(free_port)
NG_PORT=$(free_port)
[ $((MG_PORT - NG_PORT)) -ge -1 ] && [ $((MG_PORT - NG_PORT)) -le 1 ] && NG_PORT=$((MG_PORT + 2))
start_server "$MOONGATE" moongate "$MG_PORT"
MG_PID=$STARTED
start_server "$NGINX" nginx "$NG_PORT"
NG_PID=$STARTED

run_h2load() { # port pid path clients streams -> "rps failed requests cpu-ticks"
    local url="https://127.0.0.1:$1$3"
    local out t0 t1
    taskset -c 1 h2load -t1 -c"$4" -m"$5" -D"$WARMUP" "$url" >/dev/null 2>&1
    t0=$(cpu_ticks "$2")
    out=$(taskset -c 1 h2load -t1 -c"$4" -m"$5" -D"$DURATION" "$url" 2>&1)
    t1=$(cpu_ticks "$2")
    local rps failed n
    rps=$(echo "$out" | awk '/^finished in/ { gsub(",", "", $4); printf "%.0f", $4 }')
    n=$(echo "$out" | awk '/^requests:/ { print $8 }')
    # "requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout" and
    # "status codes: N 2xx, N 3xx, N 4xx, N 5xx"
    failed=$(echo "$out" | awk '/^requests:/ { n += $10 + $12 + $14 } /^status codes:/ { n += $7 + $9 }
        END { print n + 0 }')
    echo "${rps:-0} $failed ${n:-0} $((t1 - t0))"
}

rss() { awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "%d/%d", r / 1024, h / 1024 }' "/proc/$1/status"; }

h2_case() { # name path clients streams
    local name=$1 path=$2 clients=$3 streams=$4
    for port in "$MG_PORT" "$NG_PORT"; do
        local got
        got=$(curl -sk --http2 "https://127.0.0.1:$port$path" | cmp - "$WORK/html/64k.bin" 2>&1)
        [ -z "$got" ] || echo "$BENCH: $path on port $port: the body differs from the file" >&2
    done
    local mg_best=0 ng_best=0 mg_n=0 ng_n=0 mg_t=0 ng_t=0 errs=0 rmin= rmax= err mg ng n t rs=()
    for _ in $(seq "$ROUNDS"); do
        read -r mg err n t < <(run_h2load "$MG_PORT" "$MG_PID" "$path" "$clients" "$streams")
        errs=$((errs + err)) mg_n=$((mg_n + n)) mg_t=$((mg_t + t))
        read -r ng err n t < <(run_h2load "$NG_PORT" "$NG_PID" "$path" "$clients" "$streams")
        errs=$((errs + err)) ng_n=$((ng_n + n)) ng_t=$((ng_t + t))
        keep_round "$mg" "$ng"
    done
    local mg_cpu ng_cpu
    mg_cpu=$(per_cpu "$mg_n" "$mg_t")
    ng_cpu=$(per_cpu "$ng_n" "$ng_t")
    printf '%-18s %9s %9s %6s %6s %10s %9s %9s %6s %10s %10s\n' "$name" "$mg_best" "$ng_best" \
        "$(ratio "$mg_best" "$ng_best")" "$(median_ratio "${rs[@]}")" "$rmin-$rmax" "$mg_cpu" "$ng_cpu" \
        "$(ratio "$mg_cpu" "$ng_cpu")" "$(rss "$MG_PID")" "$(rss "$NG_PID")" | tee -a "$OUT"
    [ "$errs" = 0 ] || echo "  (failed requests or non-2xx: $errs)" | tee -a "$OUT"
}

{
    echo "moongate vs nginx: HTTP/2 over TLS, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at the start; the machine is shared with other sessions"
    echo "setup: servers on core 0, h2load -t1 on core 1, best of $ROUNDS alternating rounds of"
    echo "${WARMUP}s warm-up + ${DURATION}s, a 64 KiB file (TLS 1.3, h2 by ALPN)"
    echo "req/cpu-s: all rounds' requests over the server's own CPU time; rss: VmRSS/VmHWM MiB after the case"
    echo
    printf '%-18s %9s %9s %6s %6s %10s %9s %9s %6s %10s %10s\n' case mg_req/s ng_req/s ratio median min-max \
        mg_req/cpu ng_req/cpu ratio mg_rss ng_rss
} | tee "$OUT"

h2_case "1 stream x$CONNS" /64k.bin "$CONNS" 1
h2_case "100 streams x$CONNS100" /64k.bin "$CONNS100" 100
h2_case "proxied, 10 x$CONNS" /proxy/64k.bin "$CONNS" 10
kill -0 "$MG_PID" 2>/dev/null || echo "$BENCH: moongate died during the run" | tee -a "$OUT"
kill -0 "$NG_PID" 2>/dev/null || echo "$BENCH: nginx died during the run" | tee -a "$OUT"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at the end" | tee -a "$OUT"
echo "ratio: moongate/nginx (higher is better for moongate)" | tee -a "$OUT"
echo "written to ${OUT#$ROOT/}"
