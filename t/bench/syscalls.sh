#!/bin/bash
# System calls per request, moongate against nginx, same configuration: one process each
# (master_process off), access_log off, the servers on SERVER_CPUS, the upstream (one nginx,
# the same for both) and the client on CLIENT_CPUS. The client is one keepalive connection
# that sends N requests one after the other (each answer read whole before the next); the
# server is traced with `strace -c -f` for exactly those N requests, after a warm-up that
# fills the upstream keepalive pool. Unlike times, these counts are exact on a loaded machine.
# Cases: "return 200" (return-log: with access_log to a file, the default combined format;
# return-log-timed: a format with $request_time $msec $request_length $connection...;
# return-reqid: one with $request_id), a 1 KiB and a 64 KiB file (static-1k, static-64k: no open_file_cache,
# sendfile off, the defaults of both), proxy_pass GET (Host alone, and a browser's ten header
# lines: proxy-get-10h; proxy-log: Host alone, access_log with $upstream_* times to a file) and POST (1 KiB body) over upstream keepalive (its
# keepalive_requests high, so no reconnect falls inside the run), proxy_pass GET with a new
# upstream connection per request (proxy-new: no upstream keepalive), and when Debian's Lua module
# for nginx is there content_by_lua hello and a cosocket round trip to the upstream with
# setkeepalive (run.sh's "lua cosocket" case); https-return is "return 200" over TLS (ECDSA P-256,
# TLS 1.3, the client IO::Socket::SSL; its one handshake is counted, spread over the N requests);
# gzip-16k is a 16 KiB text file sent gzipped (gzip_comp_level 1, both servers' default; the client
# asks with Accept-Encoding: gzip; the answer is chunked).
# Then (INSTR=1, with valgrind) each server's user-space
# instructions per request for the same cases, under callgrind over INSTR_REQUESTS requests.
# Writes t/bench/syscalls-results-<date>.txt (OUT=FILE: there instead); CG_KEEP=DIR keeps the
# callgrind profiles there (DIR/NAME-CASE.cg.out, for callgrind_annotate).
#
#   t/bench/syscalls.sh   (ONLY=REGEX N=2000 SERVER_CPUS=0 CLIENT_CPUS=1 NGINX=/usr/sbin/nginx INSTR=1
#                          INSTR_REQUESTS=1000 OUT=FILE CG_KEEP=DIR GZIP=0)

. "$(dirname "$0")/lib.sh"
OUT=${OUT:-$ROOT/t/bench/syscalls-results-$(date +%Y%m%d-%H%M%S).txt}
N=${N:-2000}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
bench_init bench-syscalls
need_pkg strace strace
need_pkg perl perl-base
need_pkg openssl openssl
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"

NGINX_LUA_MODULES=/usr/lib/nginx/modules
if [ ! -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ]; then
    echo "$BENCH: installing libnginx-mod-http-lua"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libnginx-mod-http-lua >/dev/null 2>&1
fi
LUA=no
[ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ] && LUA=yes

mkdir -p "$WORK/html"
head -c 1024 /dev/urandom >"$WORK/html/1k.bin"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
perl -e 'my $s = ""; my $i = 0; $s .= "line " . $i++ . ": the quick brown fox jumps over the lazy dog\n" while length $s < 16384; print substr($s, 0, 16384)' >"$WORK/html/16k.txt"

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
    client_body_buffer_size 16k;
    server {
        listen 127.0.0.1:$UP_PORT;
        location / { return 200 "ok\n"; }
    }
}
EOF
taskset -c "$CLIENT_CPUS" "$NGINX" -p "$WORK/upstream/" -e logs/error.log \
    -c "$WORK/upstream/conf/bench.conf" >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")

write_conf() { # name port [tls-port (default CG_TLS_PORT: cg_start's)]
    local dir=$WORK/$1 main= lua= tls_port=${3:-$CG_TLS_PORT}
    mkdir -p "$dir/logs" "$dir/conf"
    if [ "$LUA" = yes ]; then
        case $1 in nginx*) main="load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;" ;; esac
        lua='location = /lua { content_by_lua_block { ngx.say("hello") } }
'"$(lua_cosocket_location "$UP_PORT")"
    fi
    # GZIP=0: no location turns gzip on, so the generation links no gzip filter (the gzip-16k
    # case then fails: leave it out with ONLY)
    local gzip='location /gzip/ {
            alias '"$WORK"'/html/;
            default_type text/plain;
            gzip on;
            gzip_types text/plain;
        }'
    [ "${GZIP:-1}" = 0 ] && gzip=
    cat >"$dir/conf/bench.conf" <<EOF
$main
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_buffer_size 16k;
    log_format timed '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                     '\$request_time \$msec \$request_length \$connection \$connection_requests';
    log_format upstream '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                        '\$request_time \$upstream_addr \$upstream_status '
                        '\$upstream_response_time \$upstream_connect_time \$upstream_header_time';
    log_format reqid '\$remote_addr [\$time_local] "\$request" \$status \$request_id';
    upstream bench_backend {
        server 127.0.0.1:$UP_PORT;
        keepalive 32;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$2;
        location = /return { return 200 "ok\n"; }
        location = /return-log {
            access_log logs/access.log;
            return 200 "ok\n";
        }
        location = /return-log-timed {
            access_log logs/timed.log timed;
            return 200 "ok\n";
        }
        location = /return-reqid {
            access_log logs/reqid.log reqid;
            return 200 "ok\n";
        }
        location = /proxy {
            proxy_pass http://bench_backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location = /proxy-log {
            proxy_pass http://bench_backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            access_log logs/proxy.log upstream;
        }
        location = /proxy-new { proxy_pass http://127.0.0.1:$UP_PORT/; }
        location /static/ { alias $WORK/html/; }
        $gzip
        $lua
    }
    server {
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $WORK/ec.crt;
        ssl_certificate_key $WORK/ec.key;
        location = /return { return 200 "ok\n"; }
    }
}
EOF
}

# client PORT PATH COUNT [BODY-BYTES [tls|hdrs]]: COUNT requests on one keepalive connection, each
# answer read whole (Content-Length or chunked) before the next is sent; prints the 200s it got.
# hdrs: the request carries a browser's ten header lines (User-Agent, Accept, Cookie...), not Host alone;
# gzip: it carries Accept-Encoding: gzip
client() {
    taskset -c "$CLIENT_CPUS" perl -MIO::Socket::INET -MIO::Socket::SSL -e '
        my ($port, $path, $n, $blen, $opt) = @ARGV;
        my $tls = ($opt // "") eq "tls";
        my $s = $tls ? IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$port", SSL_verify_mode => 0)
                     : IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        $s or die "connect: $! $SSL_ERROR";
        my $body = "x" x $blen;
        my $req = ($blen ? "POST" : "GET") . " $path HTTP/1.1\r\nHost: bench\r\n"
            . ($blen ? "Content-Length: $blen\r\n" : "")
            . (($opt // "") eq "gzip" ? "Accept-Encoding: gzip\r\n" : "")
            . (($opt // "") eq "hdrs" ? "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
                . "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                . "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
                . "Referer: https://bench.example/index.html\r\n"
                . "Cookie: session=3f2a9c81d7e64b05a1c2; theme=dark; lang=en\r\n"
                . "Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n"
                : "")
            . "\r\n" . $body;
        my ($buf, $ok) = ("", 0);
        my $fill = sub { my $r = $s->sysread($buf, 65536, length $buf); die "eof\n" unless $r; };
        for (1 .. $n) {
            $s->syswrite($req) == length $req or die "write: $!";
            $fill->() until $buf =~ /\r\n\r\n/;
            my $hl = index($buf, "\r\n\r\n") + 4;
            my $head = substr($buf, 0, $hl, "");
            $ok++ if $head =~ m{^HTTP/1\.1 200 };
            if ($head =~ /^content-length:\s*(\d+)/mi) {
                $fill->() while length $buf < $1;
                substr($buf, 0, $1, "");
            } else {
                $fill->() until $buf =~ /(?:^|\r\n)0\r\n\r\n/;
                $buf =~ s/^.*?(?:^|\r\n)0\r\n\r\n//s;
            }
        }
        print "$ok\n";
    ' "$@"
}

# count PID PORT PATH BODY [tls] -> "total epoll_ctl epoll_wait reads writes other" per request
count() {
    local pid=$1 port=$2 path=$3 blen=$4 tls=${5:-} f=$WORK/strace.$2.$RANDOM
    client "$port" "$path" 20 "$blen" $tls >/dev/null
    strace -c -f -p "$pid" -o "$f" 2>/dev/null &
    local sp=$!
    # strace is attached once the tracee shows a tracer
    for _ in $(seq 250); do
        awk '/^TracerPid:/ { exit !($2 > 0) }' "/proc/$pid/status" && break
        sleep 0.02
    done
    local ok
    ok=$(client "$port" "$path" "$N" "$blen" $tls)
    kill -INT "$sp"
    wait "$sp" 2>/dev/null
    [ "$ok" = "$N" ] || echo "$BENCH: $path on port $port: $ok of $N answers were 200" >&2
    awk -v n="$N" '
        $1 ~ /^[0-9.]+$/ && NF >= 5 {
            c = $4; s = $NF
            if (s == "total") { t = c; next }
            if (s == "epoll_ctl") ec += c
            else if (s == "epoll_wait" || s == "epoll_pwait") ew += c
            else if (s ~ /^(read|readv|recvfrom|recvmsg)$/) rd += c
            else if (s ~ /^(write|writev|sendto|sendmsg|sendfile)$/) wr += c
            else ot += c
        }
        END { printf "%.2f %.2f %.2f %.2f %.2f %.2f\n", t / n, ec / n, ew / n, rd / n, wr / n, ot / n }
    ' "$f"
    cp "$f" "$WORK/last-strace-$port-${path//\//_}-$blen.txt"
}

MG_PORT=$(free_port)
NG_PORT=$(free_port)
[ "$MG_PORT" = "$NG_PORT" ] && NG_PORT=$((MG_PORT + 1))
start_server() { # binary name port tls-port
    write_conf "$2" "$3" "$4"
    taskset -c "$SERVER_CPUS" "$1" -p "$WORK/$2/" -e logs/error.log -c "$WORK/$2/conf/bench.conf" \
        >"$WORK/$2/logs/stdout" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 500); do
        (exec 3<>/dev/tcp/127.0.0.1/"$3") 2>/dev/null && { STARTED=$pid; return; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    cat "$WORK/$2/logs/stdout" "$WORK/$2/logs/error.log" >&2 2>/dev/null
    die "$2 did not start"
}
MG_TLS_PORT=$(free_port)
NG_TLS_PORT=$(free_port)
start_server "$MOONGATE" moongate "$MG_PORT" "$MG_TLS_PORT"
MG_PID=$STARTED
start_server "$NGINX" nginx "$NG_PORT" "$NG_TLS_PORT"
NG_PID=$STARTED

CASES=("return|/return|0" "return-log|/return-log|0" "return-log-timed|/return-log-timed|0"
       "return-reqid|/return-reqid|0" "static-1k|/static/1k.bin|0" "static-64k|/static/64k.bin|0"
       "proxy-get|/proxy|0" "proxy-log|/proxy-log|0" "proxy-get-10h|/proxy|0|hdrs" "proxy-post-1k|/proxy|1024"
       "proxy-new|/proxy-new|0")
[ "$LUA" = yes ] && CASES+=("lua-hello|/lua|0" "lua-cosocket|/lua-cosocket|0")
CASES+=("https-return|/return|0|tls" "gzip-16k|/gzip/16k.txt|0|gzip")
if [ -n "${ONLY:-}" ]; then # ONLY=REGEX: the cases whose name matches
    KEEP=()
    for c in "${CASES[@]}"; do [[ ${c%%|*} =~ $ONLY ]] && KEEP+=("$c"); done
    CASES=("${KEEP[@]}")
fi

{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "command: N=$N SERVER_CPUS=$SERVER_CPUS CLIENT_CPUS=$CLIENT_CPUS MOONGATE=$MOONGATE t/bench/syscalls.sh"
    echo "tracing: strace -c -f -p PID over $N requests on one keepalive client connection"
    echo "system calls per request (reads: read/recv*, writes: write*/send*)"
    printf '%-14s %-8s %7s %9s %10s %6s %6s %6s\n' case server total epoll_ctl epoll_wait reads writes other
} | tee "$OUT"
for c in "${CASES[@]}"; do
    IFS='|' read -r name path blen tls <<<"$c"
    for s in moongate nginx; do
        if [ $s = moongate ]; then pid=$MG_PID port=$MG_PORT; else pid=$NG_PID port=$NG_PORT; fi
        if [ "$tls" = tls ]; then
            if [ $s = moongate ]; then port=$MG_TLS_PORT; else port=$NG_TLS_PORT; fi
        fi
        read -r t ec ew rd wr ot < <(count "$pid" "$port" "$path" "$blen" $tls)
        printf '%-14s %-8s %7s %9s %10s %6s %6s %6s\n' "$name" "$s" "$t" "$ec" "$ew" "$rd" "$wr" \
            "$ot" | tee -a "$OUT"
    done
done

# instructions per request: each server under callgrind, the same client
instr_cases() { # binary name -> one "Ir/request" per case
    local port c path blen tls p n=${INSTR_REQUESTS:-1000} k=0 dir=$WORK/$2
    port=$(free_port)
    CG_TLS_PORT=$(free_port)
    cg_start "$1" "$2" "$port"
    for c in "${CASES[@]}"; do
        IFS='|' read -r _ path blen tls <<<"$c"
        p=$port
        [ "$tls" = tls ] && p=$CG_TLS_PORT
        client "$p" "$path" 20 "$blen" $tls >/dev/null
        callgrind_control -z "$CG_PID" >/dev/null 2>&1
        client "$p" "$path" "$n" "$blen" $tls >/dev/null
        callgrind_control -d "$CG_PID" >/dev/null 2>&1
        k=$((k + 1))
        awk -v n="$n" '/^(summary|totals):/ { printf "%d\n", $2 / n; exit }' "$dir/cg.out.$k"
        [ -n "${CG_KEEP:-}" ] && mkdir -p "$CG_KEEP" && cp "$dir/cg.out.$k" "$CG_KEEP/$2-${c%%|*}.cg.out"
    done
    kill "$CG_PID" 2>/dev/null
    wait "$CG_PID" 2>/dev/null
}
if [ "${INSTR:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
    # (names: write_conf loads the Lua module for nginx*)
    instr_cases "$MOONGATE" moongate-cg >"$WORK/ir-moongate"
    instr_cases "$NGINX" nginx-cg >"$WORK/ir-nginx"
    mapfile -t MG_IR <"$WORK/ir-moongate"
    mapfile -t NG_IR <"$WORK/ir-nginx"
    {
        echo
        echo "instructions per request (callgrind, user space, ${INSTR_REQUESTS:-1000} requests per case)"
        printf '%-14s %10s %10s %6s\n' case moongate nginx ratio
        i=0
        for c in "${CASES[@]}"; do
            IFS='|' read -r name _ _ <<<"$c"
            printf '%-14s %10s %10s %6s\n' "$name" "${MG_IR[$i]:-?}" "${NG_IR[$i]:-?}" \
                "$(ratio "${NG_IR[$i]:-0}" "${MG_IR[$i]:-0}")"
            i=$((i + 1))
        done
        echo "ratio: nginx/moongate (higher is better for moongate)"
    } | tee -a "$OUT"
fi
