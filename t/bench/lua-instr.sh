#!/bin/bash
# A Lua API's cost per call: user-space instructions (valgrind --tool=callgrind's total; perf has
# no hardware counters on this VM) of a single-process server over one request running a loop
# ITER times, minus one running it once, divided by ITER - 1 (the one-time costs cancel; the
# JIT's compiling is counted, spread over the ITER). The readiness probe asks another location,
# so each server runs the loop once. Binaries: moongate (BIN, default objs/moongate), another
# moongate (OLD, optional) and nginx with its Lua module (NGINX_BIN). The loop comes from the
# caller (sema-instr.sh, shdict-instr.sh):
#   WHAT    the label ("wait(0)+post+count iteration")
#   SETUP   Lua run before the loop;  BODY  the loop's body (i is the counter)
#   HTTP    extra lines in http{} (lua_shared_dict ...)
#   JIT=off runs jit.off() before SETUP (the loop interpreted)
#   PER=request: SETUP and BODY run once a request (a handler, not a loop: a content_by_lua
#                chunk is a vararg function, which LuaJIT never starts a trace at), over ITER
#                requests on one keepalive connection less one request; the count per request
# Env: ITER (50000), BIN, OLD, NGINX_BIN (not NGINX: moongate reads that variable for inherited
# sockets).
set -eu
cd "$(dirname "$0")/../.."
ITER=${ITER:-50000}
BIN=${BIN:-objs/moongate}
OLD=${OLD:-}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
JIT=${JIT:-on}
PER=${PER:-iteration}
HTTP=${HTTP:-}
SETUP=${SETUP:-}
WORK=$(mktemp -d /tmp/lua-instr-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() { # binary name -> instructions per iteration
    local bin=$1 name=$2 p total1 totaln mods=""
    [ "$name" = nginx ] && mods="load_module /usr/share/nginx/modules/ndk_http_module.so;
load_module /usr/share/nginx/modules/ngx_http_lua_module.so;"
    for n in 1 "$ITER"; do
        local loops=$n reqs=1
        [ "$PER" = request ] && loops=1 reqs=$n
        p=$(port)
        mkdir -p "$WORK/$name-$n/logs"
        cat >"$WORK/$name-$n/conf" <<EOC
$mods
daemon off; master_process off; error_log $WORK/$name-$n/logs/error.log;
pid $WORK/$name-$n/logs/pid;
events { worker_connections 64; }
http { access_log off;
  client_body_temp_path $WORK/$name-$n/t; proxy_temp_path $WORK/$name-$n/t;
  fastcgi_temp_path $WORK/$name-$n/t; uwsgi_temp_path $WORK/$name-$n/t; scgi_temp_path $WORK/$name-$n/t;
  $HTTP
  server { listen 127.0.0.1:$p;
    location /ready { return 204; }
    location /t { content_by_lua_block {
        $([ "$JIT" = off ] && echo 'jit.off()')
        $SETUP
        for i = 1, $loops do $BODY end
        ngx.say("ok")
    } } } }
EOC
        valgrind -q --tool=callgrind --callgrind-out-file="$WORK/$name-$n/cg" \
            "$bin" -p "$WORK/$name-$n/" -c "$WORK/$name-$n/conf" &
        local pid=$!
        for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$p/ready" && break; sleep 0.1; done
        [ "$(curl -s $(for _ in $(seq "$reqs"); do echo "http://127.0.0.1:$p/t"; done) |
             grep -c '^ok$')" = "$reqs" ] || echo "$name: the loop failed (see below)" >&2
        kill -QUIT "$(cat "$WORK/$name-$n/logs/pid")"
        wait "$pid" || true
        grep -h '\[error\]' "$WORK/$name-$n/logs/error.log" >&2 || true
        eval "total$([ "$n" = 1 ] && echo 1 || echo n)=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$WORK/$name-$n/cg")"
    done
    echo "$name: $(( (totaln - total1) / (ITER - 1) )) instructions per $WHAT"
}

echo "# ${BENCH:-lua-instr.sh} ITER=$ITER JIT=$JIT $(date -u +%Y-%m-%dT%H:%MZ): $SETUP" \
    "$([ "$PER" = request ] && echo "$BODY (once a request)" || echo "for i = 1, ITER do $BODY end")"
run "$BIN" moongate
[ -n "$OLD" ] && run "$OLD" moongate-old
[ -x "$NGINX_BIN" ] && run "$NGINX_BIN" nginx
exit 0
