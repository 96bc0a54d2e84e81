#!/bin/bash
# UDP session lookup with many live sessions: N client sockets (N source ports) each start a
# session (proxy_timeout 120s, no proxy_responses: they stay), then one thread sends a datagram
# from each in turn and waits its answer for 5 s (t/bench/streamload.c udpmany). Prints the
# datagrams/s and the server's CPU microseconds per datagram (the N session starts included).
# Server on core 0, client and echo peer on core 1.
#
#   t/bench/udp-sessions.sh BINARY N
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:?binary}; N=${2:?sessions}
W=$(mktemp -d /tmp/mg-udp-sessions.XXXXXX); mkdir -p "$W/logs" "$W/conf"
cc -O2 -pthread -o "$W/streamload" "$ROOT/t/bench/streamload.c" || exit 1
PEER=$((20000 + RANDOM % 10000)); PORT=$((PEER + 1))
taskset -c 1 "$W/streamload" echo $PEER & EP=$!
cat >"$W/conf/b.conf" <<EOC
daemon off; master_process off; worker_processes 1;
error_log logs/error.log error; pid logs/b.pid;
events { worker_connections 30000; }
stream { server { listen 127.0.0.1:$PORT udp; proxy_pass 127.0.0.1:$PEER; proxy_timeout 120s; } }
EOC
taskset -c 0 "$BIN" -p "$W/" -c "$W/conf/b.conf" & SP=$!
sleep 0.5
cpu() { awk '{ print $14 + $15 }' /proc/$SP/stat; }
c0=$(cpu)
set -- $(taskset -c 1 "$W/streamload" udpmany $PORT 5 "$N")
c1=$(cpu)
echo "N=$N: $1 datagrams/s, $2 failed, $(echo "($c1 - $c0) * 10000 / ($1 * 5 + $N)" | bc -l | cut -c1-6) us of server CPU a datagram"
kill $SP $EP; wait 2>/dev/null; rm -rf "$W"
