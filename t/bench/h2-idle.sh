#!/bin/bash
# What an idle cleartext h2 connection costs each server: one process (master_process off,
# access_log off), a plain listener speaking h2 (moongate "http2 on", nginx 1.22 "listen ...
# http2"), location / { return 200 }. A warm-up connection with one request, then N h2c
# connections (python3-h2, t/lib/h2util.py's Client) that each send one request, read the
# answer and stay open; the server's VmRSS, [heap] Rss and anonymous memory (smaps_rollup)
# before them and SETTLE seconds after, per connection. Exact counts, not timing: a loaded
# machine gives the same. MOONGATE_CONF adds lines to moongate's server{} (e.g.
# "connection_pool_size 2k;"), NGINX_CONF to nginx's. PROTO=h1: HTTP/1.1 keepalive connections
# instead (the same request, no h2 on the listener). CHURN=1: h2load's 20,000 requests on 200
# connections first (h2c; PROTO=h1: HTTP/1.1), so the heap has been used and freed before
# the idle connections come. TLS=1 (with PROTO=h1): HTTPS keepalive connections (ECDSA P-256,
# no session cache; TLS 1.2, nginx 1.22's ssl_protocols having no TLSv1.3, or what
# SSL_PROTOCOLS says, e.g. "TLSv1.2 TLSv1.3"), the churn skipped. LUA=1: the location answers
# with content_by_lua_block (Content-Length and ngx.print) instead of return, nginx with Debian's lua-nginx-module
# loaded (load_module; a Lua configuration's base against nginx's). Writes
# t/bench/results-h2-idle-DATE.txt.
#
#   t/bench/h2-idle.sh   (N=1000 SETTLE=2 PROTO=h2 TLS=0 LUA=0 SSL_PROTOCOLS= MOONGATE_CONF= NGINX_CONF= NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
N=${N:-1000}
SETTLE=${SETTLE:-2}
PROTO=${PROTO:-h2}
CHURN=${CHURN:-0}
TLS=${TLS:-0}
LUA=${LUA:-0}
NGINX_LUA_MODULES=/usr/lib/nginx/modules
SSL_PROTOCOLS=${SSL_PROTOCOLS:-}
MOONGATE_CONF=${MOONGATE_CONF:-}
NGINX_CONF=${NGINX_CONF:-}
OUT=$ROOT/t/bench/results-h2-idle-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-h2-idle
need_pkg h2load nghttp2-client
if [ "$TLS" = 1 ]; then
    [ "$PROTO" = h1 ] || die "TLS=1 needs PROTO=h1"
    need_pkg openssl openssl
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
        -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"
    CHURN=0
fi
if [ "$LUA" = 1 ]; then
    [ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ] ||
        die "no Lua module for nginx (apt-get install libnginx-mod-http-lua)"
fi
# Debian's python3 has python3-h2 (a python3 earlier on PATH may not)
PY3=python3
[ -x /usr/bin/python3 ] && PY3=/usr/bin/python3
"$PY3" -c 'import h2' 2>/dev/null || need_pkg /nonexistent python3-h2

write_conf() { # name port
    local listen="listen 127.0.0.1:$2; http2 on;" extra=$MOONGATE_CONF
    [ "$1" = nginx ] && listen="listen 127.0.0.1:$2 http2;" extra=$NGINX_CONF
    [ "$PROTO" = h1 ] && listen="listen 127.0.0.1:$2;"
    [ "$TLS" = 1 ] && listen="listen 127.0.0.1:$2 ssl; ssl_certificate $WORK/ec.crt; ssl_certificate_key $WORK/ec.key;"
    [ "$TLS" = 1 ] && [ -n "$SSL_PROTOCOLS" ] && listen="$listen ssl_protocols $SSL_PROTOCOLS;"
    local answer='return 200 "ok\n";' main=
    [ "$LUA" = 1 ] && answer='content_by_lua_block { ngx.header.content_length = 3 ngx.print("ok\n") }'
    [ "$LUA" = 1 ] && [ "$1" = nginx ] && main="load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;"
    conf_write "$1" $((N + 64)) "$main" <<EOC
http {
    access_log off;
    server {
        $listen
        $extra
        location / { $answer }
    }
}
EOC
}

# clients PORT N: N idle h2c (or HTTP/1.1) connections, each after one request; "ready" once all are up,
# then held until stdin closes
clients() {
    taskset -c 1 "$PY3" -c '
import socket, ssl, sys
sys.path.insert(0, sys.argv[3])
from h2util import Client
port, n = int(sys.argv[1]), int(sys.argv[2])
tls = None
if sys.argv[5] == "1":
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
held = []
for i in range(n):
    if sys.argv[4] == "h1":
        s = socket.create_connection(("127.0.0.1", port))
        if tls:
            s = tls.wrap_socket(s)
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        got = b""
        while not got.endswith(b"ok\n"):
            d = s.recv(4096)
            if not d:
                break
            got += d
        if not got.startswith(b"HTTP/1.1 200"):
            print("connection %d: %r" % (i, got[:40]), file=sys.stderr)
        held.append(s)
        continue
    c = Client(port)
    sid = c.request("/")
    c.run(lambda: c.streams[sid].ended, 5)
    if c.streams[sid].status != "200":
        print("connection %d: status %s" % (i, c.streams[sid].status), file=sys.stderr)
    held.append(c)
print("ready", flush=True)
sys.stdin.read()
' "$1" "$2" "$ROOT/t/lib" "$PROTO" "$TLS"
}

# mem PID -> "VmRSS heap-Rss Anonymous" in KiB
mem() {
    local rss heap anon
    rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status")
    heap=$(awk '/\[heap\]/ { h = 1; next } /^[0-9a-f]+-/ { h = 0 } h && $1 == "Rss:" { s += $2 } END { print s + 0 }' "/proc/$1/smaps")
    anon=$(awk '$1 == "Anonymous:" { print $2 }' "/proc/$1/smaps_rollup")
    echo "$rss $heap $anon"
}

measure() { # name pid port -> a table line
    local name=$1 pid=$2 port=$3 b_rss b_heap b_anon a_rss a_heap a_anon
    clients "$port" 1 </dev/null >/dev/null # warm-up: one connection, closed
    if [ "$CHURN" = 1 ]; then
        local h1=
        [ "$PROTO" = h1 ] && h1=--h1
        taskset -c 1 h2load $h1 -c200 -m10 -n20000 "http://127.0.0.1:$port/" | grep -q "20000 succeeded" ||
            echo "$BENCH: $name: the churn's requests did not all succeed" >&2
    fi
    sleep "$SETTLE"
    read -r b_rss b_heap b_anon < <(mem "$pid")
    exec 7> >(clients "$port" "$N" >"$WORK/ready.$name")
    for _ in $(seq 600); do
        grep -q ready "$WORK/ready.$name" 2>/dev/null && break
        sleep 0.1
    done
    grep -q ready "$WORK/ready.$name" || die "$name: the clients did not connect"
    sleep "$SETTLE"
    read -r a_rss a_heap a_anon < <(mem "$pid")
    exec 7>&- # the clients go
    awk -v s="$name" -v n="$N" -v br="$b_rss" -v bh="$b_heap" -v ba="$b_anon" \
        -v ar="$a_rss" -v ah="$a_heap" -v aa="$a_anon" 'BEGIN {
        printf "%-9s %8d %8d %8d %8d %9.2f %9.2f %9.2f\n", s, br, ar, bh, ah,
            (ar - br) / n, (ah - bh) / n, (aa - ba) / n }' | tee -a "$OUT"
}

start_both
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "command: N=$N SETTLE=$SETTLE PROTO=$PROTO TLS=$TLS LUA=$LUA SSL_PROTOCOLS=\"$SSL_PROTOCOLS\" CHURN=$CHURN MOONGATE_CONF=\"$MOONGATE_CONF\" NGINX_CONF=\"$NGINX_CONF\" t/bench/h2-idle.sh"
    echo "KiB: VmRSS and [heap] Rss before and ${SETTLE}s after $N idle $PROTO connections (TLS=$TLS); per connection: VmRSS, heap, Anonymous"
    printf '%-9s %8s %8s %8s %8s %9s %9s %9s\n' server rss_0 rss_n heap_0 heap_n rss/conn heap/conn anon/conn
} | tee "$OUT"
measure moongate "$MG_PID" "$MG_PORT"
measure nginx "$NG_PID" "$NG_PORT"
check_alive
