#!/bin/bash
# Allocations per upstream TLS connection: the proxy (one process, t/bench/malloc-count.c
# preloaded) passes N requests of one keepalive client to a TLS upstream (an nginx on core 1,
# unpreloaded, that asks for a client certificate) without upstream keepalive, so that each
# request makes one upstream TLS connection; malloc/calloc/realloc/memalign calls counted
# around them, per request. Cases, with a client certificate: full, each connection a full
# handshake (proxy_ssl_session_reuse off); resumed, each resuming the last session (on);
# nocert: none, resuming (the upstream named otherwise: nginx would resume the session made
# with the certificate, which it keeps on the peer). Counts, not timings: a loaded machine
# gives the same. INSTR=1 adds the proxy's instructions per request under callgrind
# (INSTR_REQUESTS of each case). Both servers; writes
# t/bench/results-upstream-tls-mallocs-DATE-LABEL.txt.
#
#   t/bench/upstream-tls-mallocs.sh   (N=200 LABEL=now MOONGATE=objs/moongate INSTR=0
#                                      INSTR_REQUESTS=100)

. "$(dirname "$0")/lib.sh"
N=${N:-200}
LABEL=${LABEL:-now}
OUT=$ROOT/t/bench/results-upstream-tls-mallocs-$(date +%Y%m%d-%H%M%S)-$LABEL.txt
bench_init bench-upstream-tls-mallocs
need_pkg gcc gcc
need_pkg openssl openssl
gcc -O1 -shared -fPIC -o "$WORK/malloc-count.so" "$ROOT/t/bench/malloc-count.c" ||
    die "cannot build the library"

# a CA, the upstream's certificate and a client certificate it signed
C=$WORK/certs
mkdir -p "$C"
(
    cd "$C" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=ca
    for n in server client; do
        openssl req -new -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj /CN=$n
        openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -set_serial $RANDOM -days 30 -out $n.crt
    done
) >/dev/null 2>&1 || die "cannot make the certificates"

UP_PORT=$(free_port)
conf_write upstream <<EOC
http {
    access_log off;
    server {
        listen 127.0.0.1:$UP_PORT ssl;
        ssl_certificate $C/server.crt;
        ssl_certificate_key $C/server.key;
        ssl_verify_client optional_no_ca;
        location / { return 200 "\$ssl_client_s_dn\n"; }
    }
}
EOC
taskset -c 1 "$NGINX" -p "$WORK/upstream/" -c "$WORK/upstream/conf/bench.conf" \
    >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")
for _ in $(seq 250); do (exec 3<>/dev/tcp/127.0.0.1/$UP_PORT) 2>/dev/null && break; sleep 0.02; done

write_conf() {
    conf_write "$1" <<EOC
http {
    access_log off;
    server {
        listen 127.0.0.1:$2;
        proxy_ssl_trusted_certificate $C/ca.crt;
        location /full/ {
            proxy_ssl_certificate $C/client.crt;
            proxy_ssl_certificate_key $C/client.key;
            proxy_ssl_session_reuse off;
            proxy_pass https://127.0.0.1:$UP_PORT/;
        }
        location /resumed/ {
            proxy_ssl_certificate $C/client.crt;
            proxy_ssl_certificate_key $C/client.key;
            proxy_pass https://127.0.0.1:$UP_PORT/;
        }
        location /nocert/ { proxy_pass https://localhost:$UP_PORT/; } # a peer of its own
    }
}
EOC
}

count() { # pid -> the calls so far
    rm -f "/tmp/malloc-count.$1"
    kill -s RTMIN+4 "$1"
    for _ in $(seq 100); do [ -s "/tmp/malloc-count.$1" ] && break; sleep 0.02; done
    cat "/tmp/malloc-count.$1"
}

pass() { # binary name
    local port pid a b c got
    port=$(free_port)
    LD_PRELOAD=$WORK/malloc-count.so start_server "$1" "$2" "$port"
    pid=$STARTED
    for c in full resumed nocert; do
        got=$(curl -s "http://127.0.0.1:$port/$c/")
        [ "$got" = "$([ $c = nocert ] || echo CN=client)" ] || echo "$BENCH: $2 /$c/ answers \"${got:0:40}\"" >&2
        N=20 curl_requests "$port" "/$c/"
        a=$(count "$pid")
        curl_requests "$port" "/$c/"
        b=$(count "$pid")
        printf '%-9s %-8s %8.1f mallocs/request\n' "$2" "$c" "$(awk -v a="$a" -v b="$b" -v n="$N" \
            'BEGIN { print (b - a) / n }')" | tee -a "$OUT"
    done
    rm -f "/tmp/malloc-count.$pid"
}

{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC') ($LABEL)"
    machine_line
    echo "command: N=$N LABEL=$LABEL MOONGATE=$MOONGATE t/bench/upstream-tls-mallocs.sh"
    echo "per proxied request = one upstream TLS connection (malloc, calloc, realloc, memalign calls)"
} | tee "$OUT"
pass "$MOONGATE" moongate
pass "$NGINX" nginx
if [ "${INSTR:-0}" = 1 ]; then
    need_pkg valgrind valgrind
    CASES=("full|/full/|" "resumed|/resumed/|" "nocert|/nocert/|")
    export INSTR_REQUESTS=${INSTR_REQUESTS:-100}
    for s in moongate nginx; do
        bin=$MOONGATE
        [ $s = nginx ] && bin=$NGINX
        mapfile -t IR < <(instr_pass "$bin" "$s" "$(free_port)")
        for i in 0 1 2; do
            printf '%-9s %-8s %10s instructions/request (callgrind, %s requests)\n' "$s" \
                "${CASES[$i]%%|*}" "${IR[$i]:-?}" "$INSTR_REQUESTS" | tee -a "$OUT"
        done
    done
fi
