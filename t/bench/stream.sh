#!/bin/bash
# stream{} moongate against nginx's stream module, through a proxy_pass to an echo peer
# (t/bench/streamload.c, built here, also the client): TCP sessions per second (connect, 16
# bytes there and back, close; THREADS client threads), bulk throughput (BULK_MB megabytes
# there and back on one session) and UDP datagrams per second (THREADS sockets, a datagram and
# its answer each turn; proxy_responses 1). One worker each, pinned to core 0; the client and
# the peer on core 1. ROUNDS rounds alternating the servers; per metric the median of each
# server and the ratio moongate/nginx with its min-max over the rounds. Bounded: each run is
# DURATION seconds (bulk: BULK_MB). Writes t/bench/results-stream-<date>.txt.
#
#   t/bench/stream.sh   (ROUNDS=3 DURATION=3 THREADS=8 BULK_MB=256 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-stream
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
THREADS=${THREADS:-8}
BULK_MB=${BULK_MB:-256}
OUT=$ROOT/t/bench/results-stream-$(date +%Y%m%d-%H%M%S).txt
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
    die "no stream module for nginx (apt-get install libnginx-mod-stream)"

stream_peer

write_conf() { # name port
    local pre=
    [ "$1" = nginx ] && pre="load_module /usr/lib/nginx/modules/ngx_stream_module.so;"
    conf_write "$1" 16384 "$pre" <<EOF
worker_rlimit_nofile 65536;
stream {
    server { listen 127.0.0.1:$2 backlog=4096; proxy_pass 127.0.0.1:$PEER; }
    server { listen 127.0.0.1:$2 udp; proxy_pass 127.0.0.1:$PEER; proxy_responses 1;
             proxy_timeout 5s; }
}
EOF
}

start_both

# metric port -> value (and failures on stderr)
measure() {
    local out
    case $1 in
    conn) out=$(taskset -c 1 "$LOAD" conn "$2" "$DURATION" "$THREADS") ;;
    bulk) out=$(taskset -c 1 "$LOAD" bulk "$2" "$BULK_MB") ;;
    udp) out=$(taskset -c 1 "$LOAD" udp "$2" "$DURATION" "$THREADS") ;;
    esac
    set -- $out
    [ "${2:-0}" != 0 ] && echo "  ($2 failed)" >&2
    echo "$1"
}

declare -A MG NG
{
    machine_line
    echo "stream proxy to an echo peer; rounds=$ROUNDS duration=${DURATION}s threads=$THREADS bulk=${BULK_MB}MB"
    for r in $(seq "$ROUNDS"); do
        for m in conn bulk udp; do
            # alternate which server goes first
            if [ $((r % 2)) = 1 ]; then
                MG[$m,$r]=$(measure $m "$MG_PORT"); NG[$m,$r]=$(measure $m "$NG_PORT")
            else
                NG[$m,$r]=$(measure $m "$NG_PORT"); MG[$m,$r]=$(measure $m "$MG_PORT")
            fi
            echo "round $r $m: moongate ${MG[$m,$r]} nginx ${NG[$m,$r]}"
        done
    done
    echo
    printf "%-6s %-22s %12s %12s %8s %12s\n" metric unit moongate nginx ratio "min-max"
    for m in conn bulk udp; do
        mv=() nv=() rs=()
        for r in $(seq "$ROUNDS"); do
            mv+=("${MG[$m,$r]}"); nv+=("${NG[$m,$r]}"); rs+=("$(ratio "${MG[$m,$r]}" "${NG[$m,$r]}")")
        done
        med() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
        unit=$([ $m = conn ] && echo "sessions/s" || { [ $m = bulk ] && echo "MB/s both ways"; } || echo "datagrams/s")
        [ $m = udp ] && unit="datagrams/s"
        lo=$(printf '%s\n' "${rs[@]}" | sort -g | head -1)
        hi=$(printf '%s\n' "${rs[@]}" | sort -g | tail -1)
        printf "%-6s %-22s %12s %12s %8s %12s\n" $m "$unit" "$(med "${mv[@]}")" "$(med "${nv[@]}")" \
            "$(ratio "$(med "${mv[@]}")" "$(med "${nv[@]}")")" "$lo-$hi"
    done
} | tee "$OUT"
echo "written: $OUT"
