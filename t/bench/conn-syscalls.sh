#!/bin/bash
# The cost of a connection's life, moongate against nginx on the same configuration and
# certificates (ECDSA P-256), in counts a loaded machine cannot move: system calls per
# connection (strace -c -f over the whole run, divided by its accept4 calls) and user-space
# instructions per connection (callgrind between callgrind_control -z and -d, divided by the
# same). One process each (master_process off), access_log off, a 3-byte file. Cases:
#   http10       plain HTTP/1.0 GET, the server closes after the response
#   ka-close     plain HTTP/1.1 GET on a keepalive connection that the client then closes
#   tls13-full   openssl s_time -new -tls1_3 -www (HTTP/1.0 GET, full handshake)
#   tls12-full   s_time -new -tls1_2, ECDHE-ECDSA-AES128-GCM-SHA256
#   tls12-resume s_time -reuse -tls1_2 (session id from the shared cache)
#   tls13-resume s_time -reuse -tls1_3 (ticket)
# Then the busiest calls of each case per connection. BEFORE=binary adds a moongate column
# (e.g. the previous commit's build). SEQ=1 adds each server's commonest system call sequences
# per connection (the calls' names from one accept4 to the next, under a full strace): the
# calls a server makes apart from timing, since whether the client's next flight is there when
# a read comes (an EAGAIN and an epoll_wait more, or not) moves the counts above between runs.
# Writes t/bench/results-conn-syscalls-DATE.txt.
#
#   t/bench/conn-syscalls.sh   (K=200 STIME=2 BEFORE= INSTR=1 SEQ=0 ONLY=REGEX NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-conn-syscalls
K=${K:-200}
STIME=${STIME:-2}
BEFORE=${BEFORE:-}
ONLY=${ONLY:-.}
OUT=$ROOT/t/bench/results-conn-syscalls-$(date -u +%Y%m%d-%H%M%S).txt
need_pkg strace strace
need_pkg openssl openssl
[ "${INSTR:-1}" = 0 ] || need_pkg valgrind valgrind
mkdir -p "$WORK/html"
printf 'ok\n' >"$WORK/html/small.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"

write_conf() { # name port: plain on port, TLS on port + 1
    conf_write "$1" <<EOF
http {
    access_log off;
    default_type application/octet-stream;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:10m;
    root $WORK/html;
    server {
        listen 127.0.0.1:$2;
        listen 127.0.0.1:$(($2 + 1)) ssl;
        ssl_certificate $WORK/ec.crt;
        ssl_certificate_key $WORK/ec.key;
    }
}
EOF
}

# plain PORT K MODE: K connections one after the other, each one GET /small.txt read whole;
# MODE http10 (the server closes) or ka (HTTP/1.1, the client closes once it read the answer)
plain() {
    taskset -c 1 perl -MIO::Socket::INET -e '
        my ($port, $k, $mode) = @ARGV;
        my $req = $mode eq "ka" ? "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n" : "GET /small.txt HTTP/1.0\r\n\r\n";
        for (1 .. $k) {
            my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!";
            syswrite($s, $req);
            my $buf = "";
            while (1) {
                my $n = sysread($s, $buf, 4096, length $buf);
                last unless $n;
                last if $mode eq "ka" && $buf =~ /\r\n\r\nok\n\z/;
            }
            close $s;
        }' "$@"
}

# one CASE PORT: run the case's client against the server on PORT (plain) / PORT + 1 (TLS)
one() {
    local c=$1 port=$2
    case $c in
    http10) plain "$port" "$K" http10 ;;
    ka-close) plain "$port" "$K" ka ;;
    tls13-full) stime $((port + 1)) -new -tls1_3 ;;
    tls12-full) stime $((port + 1)) -new -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 ;;
    tls12-resume) stime $((port + 1)) -reuse -tls1_2 ;;
    tls13-resume) stime $((port + 1)) -reuse -tls1_3 ;;
    esac
    sleep 0.3 # the server's close of the last connection
}
stime() { taskset -c 1 openssl s_time -connect "127.0.0.1:$1" -time "$STIME" -www /small.txt "${@:2}" >/dev/null 2>&1; }

CASES=(http10 ka-close tls13-full tls12-full tls12-resume tls13-resume)
RUN=()
for c in "${CASES[@]}"; do [[ $c =~ $ONLY ]] && RUN+=("$c"); done

# syscalls BINARY NAME: per case "case calls/conn" in $WORK/sys-NAME, the detail in $WORK/detail-NAME
syscalls() {
    local bin=$1 name=$2 port dir c
    port=$(free_port)
    start_server "$bin" "$name" "$port"
    dir=$WORK/$name
    for c in "${RUN[@]}"; do
        one "$c" "$port" # warm-up: the session cache, the first connection's allocations
        strace_during "$STARTED" "$dir/strace-$c" one "$c" "$port" 2>/dev/null
        awk -v c="$c" '$NF == "accept4" { n = $4 } $NF == "total" { t = $4 }
            END { printf "%s %.2f %d\n", c, n ? t / n : 0, n }' "$dir/strace-$c" >>"$WORK/sys-$name"
        awk -v c="$c" -v name="$name" '$NF == "accept4" { n = $4 }
            $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { calls[$NF] = $4 }
            END { printf "%s %s:", c, name; for (s in calls) printf " %s=%.2f", s, calls[s] / n; print "" }' \
            "$dir/strace-$c" >>"$WORK/detail"
    done
    kill "$STARTED" 2>/dev/null
    wait "$STARTED" 2>/dev/null
}

# instr BINARY NAME: per case "case Ir/conn" in $WORK/ir-NAME
instr() {
    local bin=$1 name=cg-$2 port dir c k=0 conns
    port=$(free_port)
    dir=$WORK/$name
    cg_start "$bin" "$name" "$port"
    for c in "${RUN[@]}"; do
        one "$c" "$port"
        callgrind_control -z "$CG_PID" >/dev/null 2>&1
        one "$c" "$port"
        callgrind_control -d "$CG_PID" >/dev/null 2>&1
        k=$((k + 1))
        for _ in $(seq 100); do [ -s "$dir/cg.out.$k" ] && break; sleep 0.1; done
        conns=$(cg_calls "$dir/cg.out.$k" accept4)
        awk -v c="$c" -v n="$conns" '/^(summary|totals):/ { printf "%s %d %d\n", c, n ? $2 / n : 0, n; exit }' \
            "$dir/cg.out.$k" >>"$WORK/ir-$2"
    done
    kill "$CG_PID" 2>/dev/null
    wait "$CG_PID" 2>/dev/null
}

# sequences BINARY NAME: with SEQ=1, per case the 3 commonest per-connection sequences into
# $WORK/seq ("case name share% calls...")
sequences() {
    local bin=$1 name=$2 port c tp
    port=$(free_port)
    start_server "$bin" "$name" "$port"
    for c in "${RUN[@]}"; do
        one "$c" "$port"
        strace -f -p "$STARTED" -o "$WORK/$name/seq-$c" &
        tp=$!
        sleep 0.5 # attached
        one "$c" "$port"
        kill -INT "$tp"
        wait "$tp" 2>/dev/null
        sed -E 's/^[0-9]+ +//; s/[( ].*//' "$WORK/$name/seq-$c" | awk -v c="$c" -v name="$name" '
            /^[a-z_0-9]+$/ && $1 != "accept4" { seq = seq " " $1 }
            $1 == "accept4" { if (started) { n[seq]++; all++ } started = 1; seq = "" }
            END { for (s in n) printf "%d %s %s %.0f%%%s\n", n[s], c, name, 100 * n[s] / all, s }' |
            sort -rn | head -3 | cut -d" " -f2- >>"$WORK/seq"
    done
    kill "$STARTED" 2>/dev/null
    wait "$STARTED" 2>/dev/null
}

SERVERS=(moongate nginx)
syscalls "$MOONGATE" moongate
syscalls "$NGINX" nginx
if [ -n "$BEFORE" ]; then
    SERVERS=(before moongate nginx)
    syscalls "$BEFORE" before
fi
if [ "${SEQ:-0}" != 0 ]; then
    sequences "$MOONGATE" moongate
    sequences "$NGINX" nginx
fi
if [ "${INSTR:-1}" != 0 ]; then
    instr "$MOONGATE" moongate
    instr "$NGINX" nginx
    [ -z "$BEFORE" ] || instr "$BEFORE" before
fi

{
    echo "moongate vs nginx: per connection, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "openssl: $(openssl version); plain cases $K connections, s_time cases ${STIME}s each"
    echo
    echo "system calls per connection (strace -c -f total / accept4 calls; connections counted)"
    printf '%-13s' case
    for s in "${SERVERS[@]}"; do printf ' %10s' "$s"; done
    echo
    for c in "${RUN[@]}"; do
        printf '%-13s' "$c"
        for s in "${SERVERS[@]}"; do
            printf ' %10s' "$(awk -v c="$c" '$1 == c { printf "%s(%d)", $2, $3 }' "$WORK/sys-$s")"
        done
        echo
    done
    if [ "${INSTR:-1}" != 0 ]; then
        echo
        echo "user-space instructions per connection (callgrind total / accept4 calls; connections counted)"
        printf '%-13s' case
        for s in "${SERVERS[@]}"; do printf ' %14s' "$s"; done
        echo
        for c in "${RUN[@]}"; do
            printf '%-13s' "$c"
            for s in "${SERVERS[@]}"; do
                printf ' %14s' "$(awk -v c="$c" '$1 == c { printf "%s(%d)", $2, $3 }' "$WORK/ir-$s")"
            done
            echo
        done
    fi
    echo
    echo "system calls per connection, by call:"
    sort "$WORK/detail" | while read -r c s rest; do
        echo "$c $s $(tr ' ' '\n' <<<"$rest" | sort | tr '\n' ' ')"
    done
    if [ "${SEQ:-0}" != 0 ]; then
        echo
        echo "commonest system call sequences per connection (accept4, then the calls to the next accept4):"
        cat "$WORK/seq"
    fi
} | tee "$OUT"
echo "written to ${OUT#$ROOT/}"
