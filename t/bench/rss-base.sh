#!/bin/bash
# What an idle server holds before any connection, object by object: each server (one process,
# master_process off, access_log off, as t/bench/h2-idle.sh runs them; MASTER=1: a master and
# one worker, the worker measured) answers one request on a location that returns 200, then
# its /proc/PID/smaps is summed by what each mapping maps (a library, the executable, [heap],
# anonymous memory): Rss and the Anonymous part of it (what is the process's alone; the rest
# is file pages shared with every process that maps them), side by side, and VmRSS. Exact
# counts, not timing. TLS=1: an HTTPS listener (ECDSA P-256); LUA=1: content_by_lua_block
# answers (nginx with Debian's lua-nginx-module loaded). Writes
# t/bench/results-rss-base-DATE.txt.
#
#   t/bench/rss-base.sh   (TLS=0 LUA=0 MASTER=0 CONNECTIONS=664 NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
TLS=${TLS:-0}
LUA=${LUA:-0}
MASTER=${MASTER:-0}
CONNECTIONS=${CONNECTIONS:-664}
NGINX_LUA_MODULES=/usr/lib/nginx/modules
OUT=$ROOT/t/bench/results-rss-base-$(date +%Y%m%d-%H%M%S).txt
bench_init bench-rss-base
if [ "$TLS" = 1 ]; then
    need_pkg openssl openssl
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
        -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"
fi
if [ "$LUA" = 1 ]; then
    [ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ] ||
        die "no Lua module for nginx (apt-get install libnginx-mod-http-lua)"
fi
SCHEME=http
[ "$TLS" = 1 ] && SCHEME=https

write_conf() { # name port
    local listen="listen 127.0.0.1:$2;" answer='return 200 "ok\n";' main=
    [ "$TLS" = 1 ] && listen="listen 127.0.0.1:$2 ssl; ssl_certificate $WORK/ec.crt; ssl_certificate_key $WORK/ec.key;"
    [ "$LUA" = 1 ] && answer='content_by_lua_block { ngx.print("ok\n") }'
    [ "$LUA" = 1 ] && [ "$1" = nginx ] && main="load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;"
    conf_write "$1" "$CONNECTIONS" "$main" <<EOC
http {
    access_log off;
    server {
        $listen
        location / { $answer }
    }
}
EOC
    # MASTER=1: a master and one worker (conf_write's main context has master_process off)
    [ "$MASTER" = 1 ] && sed -i 's/^master_process off;/master_process on;/' "$WORK/$1/conf/bench.conf"
    return 0
}

# the pid measured: the process itself, or its one worker
measured() { # pid
    local w
    [ "$MASTER" = 1 ] || { echo "$1"; return; }
    for _ in $(seq 100); do
        w=$(pgrep -P "$1" | head -1)
        [ -n "$w" ] && { echo "$w"; return; }
        sleep 0.05
    done
    die "no worker under $1"
}

# objects PID -> "name rss anon" lines, KiB
objects() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; sub(/.*\//, "", name); next }
        $1 == "Rss:" { rss[name] += $2 } $1 == "Anonymous:" { an[name] += $2 }
        END { for (n in rss) if (rss[n] > 0) print n, rss[n], an[n] + 0 }' "/proc/$1/smaps"
}

start_both
curl -sk -o /dev/null "$SCHEME://127.0.0.1:$MG_PORT/" || die "moongate did not answer"
curl -sk -o /dev/null "$SCHEME://127.0.0.1:$NG_PORT/" || die "nginx did not answer"
sleep 1
MG=$(measured "$MG_PID")
NG=$(measured "$NG_PID")
objects "$MG" | sed 's/^moongate /[executable] /' | sort >"$WORK/mg.obj"
objects "$NG" | sed 's/^nginx /[executable] /' | sort >"$WORK/ng.obj"
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "command: TLS=$TLS LUA=$LUA MASTER=$MASTER CONNECTIONS=$CONNECTIONS t/bench/rss-base.sh"
    echo "KiB of each mapped object's Rss (anon: the process's own part of it) after one request"
    for p in "$MG" "$NG"; do
        printf '%-9s VmRSS %6d  RssAnon %6d  RssFile %6d\n' "$(awk '/^Name:/ { print $2 }' /proc/$p/status)" \
            "$(awk '$1 == "VmRSS:" { print $2 }' /proc/$p/status)" \
            "$(awk '$1 == "RssAnon:" { print $2 }' /proc/$p/status)" \
            "$(awk '$1 == "RssFile:" { print $2 }' /proc/$p/status)"
    done
    printf '%-34s %8s %8s %8s %8s %8s\n' object mg_rss mg_anon ng_rss ng_anon rss_diff
    join -a1 -a2 -e0 -o 0,1.2,1.3,2.2,2.3 "$WORK/mg.obj" "$WORK/ng.obj" |
        awk '{ printf "%-34s %8d %8d %8d %8d %+8d\n", $1, $2, $3, $4, $5, $2 - $4 }' | sort -k6,6gr
} | tee "$OUT"
check_alive
