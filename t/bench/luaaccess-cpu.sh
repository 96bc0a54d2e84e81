#!/bin/bash
# access_by_lua in front of a 1 KiB file (run.sh's "lua access+file" case), and the same file
# without Lua, moongate against nginx, in the server's own CPU time a request: the process's
# on-CPU nanoseconds (/proc/PID/schedstat, exact, unlike the ticks of /proc/PID/stat) over a
# wrk run, ROUNDS rounds alternating the servers; a shared machine moves req/s much more than
# this. Then (PERF=1) a perf record -e cpu-clock profile of each server over one wrk run of
# each case, given in microseconds a request (samples x period / requests) by object and by
# symbol (kernel included: TOP of them), side by side. Writes t/bench/results-luaaccess-cpu-DATE.txt.
#
#   t/bench/luaaccess-cpu.sh   (ROUNDS=5 DURATION=5 CONNS=50 PERF=1 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-luaaccess-cpu
ROUNDS=${ROUNDS:-5}
OUT=$ROOT/t/bench/results-luaaccess-cpu-$(date +%Y%m%d-%H%M%S).txt
need_pkg wrk wrk
MODS=/usr/lib/nginx/modules
[ -f $MODS/ngx_http_lua_module.so ] || die "no Lua module for nginx (libnginx-mod-http-lua)"
mkdir -p "$WORK/html"
head -c 1024 /dev/urandom >"$WORK/html/1k.bin"

write_conf() { # name port
    local pre=
    case $1 in nginx*) pre="load_module $MODS/ndk_http_module.so;
load_module $MODS/ngx_http_lua_module.so;" ;; esac
    conf_write "$1" 1024 "$pre" <<EOC
http {
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$2;
        location /plain/ { alias $WORK/html/; }
        location /lua-access/ {
            alias $WORK/html/;
            access_by_lua_block {
                if ngx.var.http_x_token ~= "secret" then return ngx.exit(403) end
            }
        }
    }
}
EOC
}

start_both
for s in moongate nginx; do
    port=$MG_PORT
    [ $s = nginx ] && port=$NG_PORT
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Token: secret' "http://127.0.0.1:$port/lua-access/1k.bin")
    [ "$code" = 200 ] || die "$s answers $code"
done

on_cpu() { awk '{ print $1 }' "/proc/$1/schedstat"; }
# wrk_cpu PORT PID PATH -> "requests ns-a-request"
wrk_cpu() {
    local c0 c1 n
    c0=$(on_cpu "$2")
    n=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" -H 'X-Token: secret' \
        "http://127.0.0.1:$1$3" | awk '/requests in/ { print $1 }')
    c1=$(on_cpu "$2")
    echo "$n $(((c1 - c0) / n))"
}

{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: req/s move, CPU a request much less)"
    echo "command: ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS t/bench/luaaccess-cpu.sh"
    echo "server CPU a request (ns, /proc/PID/schedstat), rounds alternating the servers"
    printf '%-20s %-24s %-24s %s\n' case moongate nginx "ratio nginx/moongate (median)"
} | tee "$OUT"
for path in /plain/1k.bin /lua-access/1k.bin; do
    taskset -c 1 wrk -t1 -c"$CONNS" -d1s -H 'X-Token: secret' "http://127.0.0.1:$MG_PORT$path" >/dev/null
    taskset -c 1 wrk -t1 -c"$CONNS" -d1s -H 'X-Token: secret' "http://127.0.0.1:$NG_PORT$path" >/dev/null
    mg=() ng=() rs=()
    for _ in $(seq "$ROUNDS"); do
        read -r _ a < <(wrk_cpu "$MG_PORT" "$MG_PID" "$path")
        read -r _ b < <(wrk_cpu "$NG_PORT" "$NG_PID" "$path")
        mg+=("$a") ng+=("$b") rs+=("$(ratio "$b" "$a")")
    done
    med=$(printf '%s\n' "${rs[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    printf '%-20s %-24s %-24s %s\n' "$path" "${mg[*]}" "${ng[*]}" "$med (${rs[*]})" | tee -a "$OUT"
done

if [ "${PERF:-1}" = 1 ] && command -v perf >/dev/null 2>&1; then
    F=10000 # Hz: a sample is 100 us of CPU
    for path in /plain/1k.bin /lua-access/1k.bin; do
        for s in moongate nginx; do
            port=$MG_PORT pid=$MG_PID
            [ $s = nginx ] && port=$NG_PORT pid=$NG_PID
            perf record -e cpu-clock -F $F -p "$pid" -o "$WORK/perf-$s.data" -- \
                sleep $((DURATION + 1)) >/dev/null 2>&1 &
            pp=$!
            sleep 0.3
            taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" -H 'X-Token: secret' \
                "http://127.0.0.1:$port$path" | awk '/requests in/ { print $1 }' >"$WORK/n-$s"
            wait $pp
        done
        {
            echo
            echo "perf record -e cpu-clock -F $F over ${DURATION}s of $path: us a request"
            for s in moongate nginx; do
                n=$(cat "$WORK/n-$s")
                echo "== $s ($n requests): by object"
                perf report -i "$WORK/perf-$s.data" --no-children --sort dso --stdio -n 2>/dev/null |
                    awk -v n="$n" -v f=$F '/%/ { printf "  %8.3f  %s\n", $2 * 1e6 / f / n, $3 }'
                echo "== $s: top symbols"
                perf report -i "$WORK/perf-$s.data" --no-children --sort dso,sym --stdio -n \
                    2>/dev/null | awk -v n="$n" -v f=$F '/%/ { c = $2; $1 = ""; $2 = "";
                        printf "  %8.3f %s\n", c * 1e6 / f / n, $0 }' | head -${TOP:-25}
            done
        } | tee -a "$OUT"
    done
fi
