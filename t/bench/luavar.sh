#!/bin/bash
# The cost of one ngx.var.NAME read from Lua, moongate against nginx (Debian's Lua module),
# same configuration: a server with 300 "set" variables besides the built-in ones (a large
# configuration's count), and content_by_lua code that reads a variable in a loop of LOOPS
# reads and answers the CPU nanoseconds per read (os.clock, so other load on the machine
# weighs less than in a wall-clock time). Cases: a "set" variable defined last, $uri (built
# in, not used by the configuration), $http_host (a prefix family), $arg_x, a capture ($1)
# and a name nobody defined. ROUNDS rounds alternate the servers; median and min-max per case.
#
#   t/bench/luavar.sh   (LOOPS=200000 ROUNDS=3 SERVER_CPUS=0 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
OUT=$ROOT/t/bench/luavar-results-$(date +%Y%m%d-%H%M%S).txt
LOOPS=${LOOPS:-200000}
ROUNDS=${ROUNDS:-3}
SERVER_CPUS=${SERVER_CPUS:-0}
bench_init bench-luavar
NGINX_LUA_MODULES=/usr/lib/nginx/modules
[ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libnginx-mod-http-lua >/dev/null 2>&1 ||
    die "no Lua module for nginx"

write_conf() { # name port
    local dir=$WORK/$1 main= sets=
    mkdir -p "$dir/logs" "$dir/conf"
    case $1 in nginx*) main="load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;" ;; esac
    for i in $(seq 300); do sets="$sets        set \$v$i $i;
"; done
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
    server {
        listen 127.0.0.1:$2;
        location ~ ^/(v)ar$ {
$sets
            content_by_lua_block {
                local var, name, n = ngx.var, ngx.var.arg_name, $LOOPS
                if name == "1" then name = 1 end
                local x
                local t0 = os.clock()
                for _ = 1, n do x = var[name] end
                local t1 = os.clock()
                ngx.say(string.format("%.0f", (t1 - t0) * 1e9 / n), " ", tostring(x))
            }
        }
    }
}
EOF
}

start_server() { # binary name port
    write_conf "$2" "$3"
    taskset -c "$SERVER_CPUS" "$1" -p "$WORK/$2/" -e logs/error.log -c "$WORK/$2/conf/bench.conf" \
        >"$WORK/$2/logs/stdout" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 500); do
        (exec 3<>/dev/tcp/127.0.0.1/"$3") 2>/dev/null && return
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    cat "$WORK/$2/logs/stdout" "$WORK/$2/logs/error.log" >&2 2>/dev/null
    die "$2 did not start"
}
MG_PORT=$(free_port)
NG_PORT=$(free_port)
[ "$MG_PORT" = "$NG_PORT" ] && NG_PORT=$((MG_PORT + 1))
start_server "$MOONGATE" moongate "$MG_PORT"
start_server "$NGINX" nginx "$NG_PORT"

# median and min-max of numbers on stdin
stats() { sort -n | awk '{ a[NR] = $1 } END { printf "%s %s-%s", a[int((NR + 1) / 2)], a[1], a[NR] }'; }

{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "command: LOOPS=$LOOPS ROUNDS=$ROUNDS SERVER_CPUS=$SERVER_CPUS t/bench/luavar.sh"
    echo "CPU ns per ngx.var read (os.clock over $LOOPS reads), median and min-max of $ROUNDS rounds"
    printf '%-10s %8s %12s %8s %12s %6s\n' case mg mg-range ng ng-range ratio
} | tee "$OUT"
for c in "set|v300" "builtin|uri" "prefix|http_host" "arg|arg_x" "capture|1" "unknown|no_such"; do
    IFS='|' read -r name var <<<"$c"
    mg=() ng=()
    for _ in $(seq "$ROUNDS"); do
        mg+=("$(curl -s "http://127.0.0.1:$MG_PORT/var?name=$var&x=1" | awk '{ print $1 }')")
        ng+=("$(curl -s "http://127.0.0.1:$NG_PORT/var?name=$var&x=1" | awk '{ print $1 }')")
    done
    read -r mgm mgr < <(printf '%s\n' "${mg[@]}" | stats)
    read -r ngm ngr < <(printf '%s\n' "${ng[@]}" | stats)
    printf '%-10s %8s %12s %8s %12s %6s\n' "$name" "$mgm" "$mgr" "$ngm" "$ngr" \
        "$(ratio "$ngm" "$mgm")" | tee -a "$OUT"
done
echo "ratio: nginx/moongate time (higher is better for moongate); the machine is shared" | tee -a "$OUT"
