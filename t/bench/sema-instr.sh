#!/bin/bash
# ngx.semaphore's method cost: user-space instructions (valgrind --tool=callgrind's total; perf
# has no hardware counters on this VM) of a single-process server over one request running a wait(0)/post/count loop ITER times, minus
# one running it once, divided by ITER. Binaries: moongate (BIN, default objs/moongate),
# another moongate (OLD, optional) and nginx with its Lua module (NGINX_BIN).
#
#   t/bench/sema-instr.sh   (ITER=50000 OLD=/work/main/objs/moongate NGINX_BIN=/usr/sbin/nginx;
#   not NGINX: moongate reads that variable for inherited sockets; JIT=off: the loop interpreted,
#   jit.off() before it)
set -eu
cd "$(dirname "$0")/../.."
ITER=${ITER:-50000}
BIN=${BIN:-objs/moongate}
OLD=${OLD:-}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
JIT=${JIT:-on}
WORK=$(mktemp -d /tmp/sema-instr-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() { # binary name -> instructions per iteration
    local bin=$1 name=$2 p total1 totaln mods=""
    [ "$name" = nginx ] && mods="load_module /usr/share/nginx/modules/ndk_http_module.so;
load_module /usr/share/nginx/modules/ngx_http_lua_module.so;"
    for n in 1 "$ITER"; do
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
  server { listen 127.0.0.1:$p;
    location /t { content_by_lua_block {
        $([ "$JIT" = off ] && echo 'jit.off()')
        local s = require("ngx.semaphore").new(1)
        for i = 1, $n do s:wait(0); s:post(1); s:count() end
        ngx.say("ok")
    } } } }
EOC
        valgrind -q --tool=callgrind --callgrind-out-file="$WORK/$name-$n/cg" \
            "$bin" -p "$WORK/$name-$n/" -c "$WORK/$name-$n/conf" &
        local pid=$!
        for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$p/t" && break; sleep 0.1; done
        curl -s "http://127.0.0.1:$p/t" >/dev/null
        kill -QUIT "$(cat "$WORK/$name-$n/logs/pid")"
        wait "$pid" || true
        eval "total$([ "$n" = 1 ] && echo 1 || echo n)=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$WORK/$name-$n/cg")"
    done
    echo "$name: $(( (totaln - total1) / (ITER - 1) )) instructions per wait(0)+post+count iteration"
}

echo "# t/bench/sema-instr.sh ITER=$ITER JIT=$JIT $(date -u +%Y-%m-%dT%H:%MZ)"
run "$BIN" moongate
[ -n "$OLD" ] && run "$OLD" moongate-old
[ -x "$NGINX_BIN" ] && run "$NGINX_BIN" nginx
