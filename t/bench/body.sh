#!/bin/bash
# Request bodies, moongate against nginx: the CPU seconds one server process spends reading a
# body into memory, read from /proc/PID/schedstat around each request (single process, master_process
# off, pinned to core 0; the client on core 1). Cases: 150,000 one-byte chunks sent at once, to
# ngx.req.read_body and to proxy_pass with request buffering (the upstream is a third server,
# not counted); a 900 KB Content-Length body trickled in 100-byte writes (a pause after each,
# so the server reads it in ~9,000 small reads); a 16 MB Content-Length body sent at once.
# client_body_buffer_size is as large as the body so that nginx, too, keeps it in memory. Each
# case: ROUNDS rounds alternating the servers, the lowest CPU of each counts. Writes
# t/bench/results-body-<date>.txt. Everything it starts is killed on exit.
#
#   t/bench/body.sh   (ROUNDS=3 NGINX=/usr/sbin/nginx MOONGATE=objs/moongate)

. "$(dirname "$0")/lib.sh"
BENCH=bench-body
ROUNDS=${ROUNDS:-3}
OUT=$ROOT/t/bench/results-body-$(date +%Y%m%d-%H%M%S).txt

[ -x "$MOONGATE" ] || die "$MOONGATE is not built (make)"
[ -x "$NGINX" ] || die "no nginx at $NGINX (apt-get install nginx-light)"
command -v taskset >/dev/null || die "no taskset (util-linux)"
NGINX_LUA_MODULES=/usr/lib/nginx/modules
[ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ] ||
    die "no Lua module for nginx (apt-get install libnginx-mod-http-lua)"
[ "$(nproc)" -ge 2 ] || die "needs two cores (servers on 0, the client on 1)"

WORK=$(mktemp -d /tmp/mg-bench-body.XXXXXX)
UP_PORT=$(free_port)

# $1 name, $2 port, $3 main-level lines
write_conf() {
    local dir=$WORK/$1
    mkdir -p "$dir/logs" "$dir/conf"
    cat >"$dir/conf/bench.conf" <<EOF
$3
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_max_body_size 64m;
    server {
        listen 127.0.0.1:$2;
        location = /lua {
            client_body_buffer_size 1m;
            content_by_lua_block {
                ngx.req.read_body()
                local body = ngx.req.get_body_data()
                local s = body and #body .. "\n" or "not in memory\n"
                ngx.header["Content-Length"] = #s
                ngx.print(s)
            }
        }
        location = /lua-big {
            client_body_buffer_size 64m;
            content_by_lua_block {
                ngx.req.read_body()
                local body = ngx.req.get_body_data()
                local s = body and #body .. "\n" or "not in memory\n"
                ngx.header["Content-Length"] = #s
                ngx.print(s)
            }
        }
        location = /proxy {
            client_body_buffer_size 1m;
            proxy_pass http://127.0.0.1:$UP_PORT/;
        }
    }
}
EOF
}

# the upstream: counts what it got (one nginx on the client's core, the same for both)
mkdir -p "$WORK/upstream/logs" "$WORK/upstream/conf"
cat >"$WORK/upstream/conf/bench.conf" <<EOF
load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log error;
pid logs/bench.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    server {
        listen 127.0.0.1:$UP_PORT;
        location / {
            content_by_lua_block {
                ngx.req.read_body()
                local body = ngx.req.get_body_data()
                local s = body and #body .. "\n" or "not in memory\n"
                ngx.header["Content-Length"] = #s
                ngx.print(s)
            }
        }
    }
}
EOF
taskset -c 1 "$NGINX" -p "$WORK/upstream/" -e logs/error.log -c "$WORK/upstream/conf/bench.conf" \
    >"$WORK/upstream/logs/stdout" 2>&1 &
PIDS+=("$!")

STARTED=
start_server() { # binary name port main-lines
    local bin=$1 name=$2 port=$3
    write_conf "$name" "$port" "${4:-}"
    taskset -c 0 "$bin" -p "$WORK/$name/" -e logs/error.log -c "$WORK/$name/conf/bench.conf" \
        >"$WORK/$name/logs/stdout" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 250); do
        if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
            STARTED=$pid
            return
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    cat "$WORK/$name/logs/stdout" "$WORK/$name/logs/error.log" >&2 2>/dev/null
    die "$name did not start"
}

MG_PORT=$(free_port)
NG_PORT=$(free_port)
[ "$MG_PORT" = "$NG_PORT" ] && NG_PORT=$((MG_PORT + 1))
start_server "$MOONGATE" moongate "$MG_PORT"
MG_PID=$STARTED
start_server "$NGINX" nginx "$NG_PORT" "load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;"
NG_PID=$STARTED
for _ in $(seq 250); do
    (exec 3<>/dev/tcp/127.0.0.1/$UP_PORT) 2>/dev/null && break
    sleep 0.02
done

# One request; prints "cpu_seconds wall_seconds status body" (the server's CPU time from its
# /proc/PID/schedstat, in nanoseconds: /proc/PID/stat's 10 ms ticks are too coarse here).
cat >"$WORK/client.pl" <<'EOF'
use strict;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
my ($port, $pid, $path, $kind, $size) = @ARGV;
sub cpu {
    open my $f, '<', "/proc/$pid/schedstat" or die "no process $pid\n";
    return (split ' ', scalar <$f>)[0] / 1e9;
}
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!\n";
setsockopt($s, 6, 1, 1);    # TCP_NODELAY: each small write is its own segment
my ($c0, $t0) = (cpu(), time);
my $head = "POST $path HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n";
if ($kind eq 'chunks') {
    my $body = join('', map { "1\r\n" . chr(97 + $_ % 26) . "\r\n" } 1 .. $size) . "0\r\n\r\n";
    print $s "${head}Transfer-Encoding: chunked\r\n\r\n", $body;
} elsif ($kind eq 'trickle') {
    syswrite $s, "${head}Content-Length: $size\r\n\r\n";
    my $piece = 'a' x 100;
    for (1 .. $size / 100) { syswrite $s, $piece; sleep 0.0001 }
} else {
    print $s "${head}Content-Length: $size\r\n\r\n", 'a' x $size;
}
local $/;
my $r = <$s> // '';
my ($status) = $r =~ m{^HTTP/1\.1 (\d+)};
my (undef, $body) = split /\r\n\r\n/, $r, 2;
$body //= '';
$body =~ s/\s+\z//;
printf "%.3f %.2f %s %s\n", cpu() - $c0, time - $t0, $status // '-', $body;
EOF

{
    echo "request bodies, moongate vs nginx, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine: nproc=$(nproc), cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel=$(uname -r)"
    echo "moongate: $("$MOONGATE" -v 2>&1 | head -1), nginx: $("$NGINX" -v 2>&1 | head -1)"
    echo "setup: one server process each on core 0, the client on core 1, lowest CPU of $ROUNDS rounds"
    echo
    printf '%-30s %9s %9s %9s %9s  %s\n' case mg_cpu_s ng_cpu_s mg_wall_s ng_wall_s "answers (moongate / nginx)"
} | tee "$OUT"

min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }

bench_case() { # name path kind size expected-body
    local name=$1 path=$2 kind=$3 size=$4 want=$5
    local mg_cpu= mg_wall= ng_cpu= ng_wall= mg_ans= ng_ans= cpu wall status body
    for _ in $(seq "$ROUNDS"); do
        read -r cpu wall status body < <(taskset -c 1 perl "$WORK/client.pl" "$MG_PORT" "$MG_PID" "$path" "$kind" "$size")
        [ "$mg_cpu" = "$(min "$cpu" "$mg_cpu")" ] || mg_wall=$wall
        mg_cpu=$(min "$cpu" "$mg_cpu")
        mg_ans="$status $body"
        read -r cpu wall status body < <(taskset -c 1 perl "$WORK/client.pl" "$NG_PORT" "$NG_PID" "$path" "$kind" "$size")
        [ "$ng_cpu" = "$(min "$cpu" "$ng_cpu")" ] || ng_wall=$wall
        ng_cpu=$(min "$cpu" "$ng_cpu")
        ng_ans="$status $body"
    done
    printf '%-30s %9s %9s %9s %9s  %s / %s\n' "$name" "$mg_cpu" "$ng_cpu" "$mg_wall" "$ng_wall" \
        "$mg_ans" "$ng_ans" | tee -a "$OUT"
    [ "$mg_ans" = "200 $want" ] || echo "  (moongate answered \"$mg_ans\", not \"200 $want\")" | tee -a "$OUT"
    [ "$ng_ans" = "200 $want" ] || echo "  (nginx answered \"$ng_ans\", not \"200 $want\")" | tee -a "$OUT"
}

bench_case "150,000 x 1 B chunks, Lua" /lua chunks 150000 150000
bench_case "150,000 x 1 B chunks, proxy" /proxy chunks 150000 150000
bench_case "900 KB in 100 B writes, Lua" /lua trickle 900000 900000
bench_case "16 MB at once, Lua" /lua-big whole 16777216 16777216

kill -0 "$MG_PID" 2>/dev/null || echo "bench: moongate died during the run" | tee -a "$OUT"
kill -0 "$NG_PID" 2>/dev/null || echo "bench: nginx died during the run" | tee -a "$OUT"
echo "cpu: seconds the server process ran on a CPU for the request (/proc/PID/schedstat)" | tee -a "$OUT"
echo "written to ${OUT#$ROOT/}"
