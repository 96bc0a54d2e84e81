#!/bin/bash
# The cost of map and geo variables, moongate against nginx, set up as t/bench/run.sh is
# (single process, access_log off, server on core 0, wrk on core 1, the same configuration for
# both): a location answers "return 200 $var" for a variable from a map of 2000 exact keys,
# 2000 "*.x" hostname masks and 50 regexes (cases hitting an exact key, a mask, the last regex),
# a geo of 5000 CIDR networks (IPv4 and IPv6) and a geo of 5000 ranges; "return 200" alone is
# the baseline. Rounds alternate the servers; the best round of each counts, and the ratio's
# spread over the rounds (min-max of moongate/nginx per round) is shown beside it, then the
# requests per second of the server's own CPU time (all rounds), steadier on a busy machine,
# and (with valgrind) the instructions each server runs per request, which load cannot move.
# Everything it starts is killed on exit.
#
#   t/bench/vars.sh      (DURATION=5 ROUNDS=3 CONNS=50 NGINX=/usr/sbin/nginx INSTR=1)

ROUNDS=${ROUNDS:-3}
. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/vars-results-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-vars

# the variables' definitions, shared by both servers
{
    echo 'map $arg_k $m_exact {'
    echo '    default none;'
    for i in $(seq 2000); do echo "    host$i.example.com v$i;"; done
    echo '}'
    echo 'map $arg_k $m_host {'
    echo '    hostnames;'
    echo '    default none;'
    for i in $(seq 2000); do echo "    *.site$i.example.org s$i;"; done
    echo '}'
    echo 'map $arg_k $m_regex {'
    echo '    default none;'
    for i in $(seq 50); do echo "    ~^/item$i/(\\d+)\$ \"r$i-\$1\";"; done
    echo '}'
    echo 'geo $arg_ip $g_cidr {'
    echo '    default none;'
    for i in $(seq 0 3999); do echo "    $((10 + i / 250)).$((i % 250)).0.0/16 n$i;"; done
    for i in $(seq 0 999); do printf '    2001:db8:%x::/48 six%d;\n' "$i" "$i"; done
    echo '}'
    echo 'geo $arg_ip $g_ranges {'
    echo '    ranges;'
    echo '    default none;'
    for i in $(seq 0 4999); do echo "    $((10 + i / 250)).$((i % 250)).1.0-$((10 + i / 250)).$((i % 250)).200.255 r$i;"; done
    echo '}'
} >"$WORK/vars.conf"

write_conf() { # name port
    local dir=$WORK/$1
    mkdir -p "$dir/logs" "$dir/conf"
    cp "$WORK/vars.conf" "$dir/conf/vars.conf"
    cat >"$dir/conf/bench.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    map_hash_max_size 8192;
    include vars.conf;
    server {
        listen 127.0.0.1:$2;
        location = /return { return 200 "ok\n"; }
        location = /map-exact { return 200 "\$m_exact\n"; }
        location = /map-host { return 200 "\$m_host\n"; }
        location = /map-regex { return 200 "\$m_regex\n"; }
        location = /geo-cidr { return 200 "\$g_cidr\n"; }
        location = /geo-ranges { return 200 "\$g_ranges\n"; }
    }
}
EOF
}

CASES=(
    "return 200|/return|ok"
    "map exact|/map-exact?k=HOST1234.example.com|v1234"
    "map mask|/map-host?k=www.site1500.example.org|s1500"
    "map regex|/map-regex?k=/item50/777|r50-777"
    "geo cidr v4|/geo-cidr?ip=21.17.5.9|n2767"
    "geo cidr v6|/geo-cidr?ip=2001:db8:2a0::1|six672"
    "geo ranges|/geo-ranges?ip=25.100.150.7|r3850"
)

start_both
{
    echo "map/geo variables, moongate vs nginx, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    machine_line
    echo "setup: servers on core 0, wrk -t1 -c$CONNS on core 1, best of $ROUNDS alternating rounds of ${WARMUP}s warm-up + ${DURATION}s, keepalive"
    echo "variables: map of 2000 exact keys, map of 2000 *.x masks, map of 50 regexes, geo of 4000 IPv4 + 1000 IPv6 networks, geo of 5000 ranges"
    echo
    bench_header
} | tee "$OUT"

bench_cases
instr_table
echo "written to ${OUT#$ROOT/}"
