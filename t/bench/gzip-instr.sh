#!/bin/bash
# The cost of one gzip response, moongate against nginx, in measures a loaded machine cannot
# move: user-space instructions per response (valgrind --tool=callgrind, between
# callgrind_control -z and -d around N requests on one keepalive curl connection), system
# calls per response (strace -c over N requests without valgrind). Text files of SIZES KiB
# (run.sh's lines) with gzip_comp_level LEVEL; for each, where the instructions go (the
# functions with the most, self cost, callgrind_annotate). Writes
# t/bench/results-gzip-instr-DATE.txt.
#
#   t/bench/gzip-instr.sh   (N=300 LEVEL=1 SIZES="64 1" NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-gzip-instr
N=${N:-300}
LEVEL=${LEVEL:-1}
OUT=$ROOT/t/bench/results-gzip-instr-$(date +%Y%m%d-%H%M%S).txt
need_pkg valgrind valgrind
need_pkg strace strace
SIZES=${SIZES:-64 1}
mkdir -p "$WORK/html"
PATHS=()
for k in $SIZES; do
    perl -e 'my $n = shift; my $s = ""; my $i = 0; $s .= "line " . $i++ . ": the quick brown fox jumps over the lazy dog\n" while length $s < $n; print substr($s, 0, $n)' $((k * 1024)) >"$WORK/html/${k}k.txt"
    PATHS+=("/${k}k.txt")
done

write_conf() { # name port
    conf_write "$1" <<EOC
http {
    access_log off;
    keepalive_requests 1000000;
    types { text/plain txt; }
    server {
        listen 127.0.0.1:$2;
        root $WORK/html;
        gzip on;
        gzip_types text/plain;
        gzip_comp_level $LEVEL;
    }
}
EOC
}

requests() { # port path: N keepalive requests asking for gzip
    # (one "header" line: in a -K file each one adds to every request after it)
    { echo 'header = "Accept-Encoding: gzip"'
      for _ in $(seq "$N"); do
          printf 'url = "http://127.0.0.1:%s%s"\noutput = "/dev/null"\n' "$1" "$2"
      done; } | curl -s -K -
}

# callgrind: "Ir malloc free deflate" per response, for each path
instr() { # binary name path...
    local bin=$1 server=$2 name=cg-$2 port dir vp k=0 p
    shift 2
    port=$(free_port)
    dir=$WORK/$name
    cg_start "$bin" "$name" "$port"
    vp=$CG_PID
    for p in "$@"; do
        N=20 requests "$port" "$p"
        callgrind_control -z "$vp" >/dev/null 2>&1
        requests "$port" "$p"
        callgrind_control -d "$vp" >/dev/null 2>&1
        k=$((k + 1))
        echo "$p $(awk -v n="$N" '/^(summary|totals):/ { printf "%d", $2 / n; exit }' "$dir/cg.out.$k")" >>"$WORK/instr-$server"
        { echo "$server $p (instructions per response, self):"
          # (the frames on the stack when the counts were zeroed show the whole total: left out)
          callgrind_annotate --inclusive=no --threshold=100 "$dir/cg.out.$k" 2>/dev/null |
              awk -v n="$N" 'match($0, /^ *[0-9,]+ +\([ 0-9.]+%\) +/) {
                  v = $1; gsub(",", "", v); v += 0; name = substr($0, RLENGTH + 1)
                  if (name ~ /PROGRAM TOTALS/) { total = v; next }
                  if (v < total) { printf "%10d %s\n", v / n, name; if (++c == 8) exit } }'; } >>"$WORK/functable"
    done
    kill "$vp" 2>/dev/null
    wait "$vp" 2>/dev/null
}

syscalls() { # binary name path...
    local bin=$1 server=$2 name=st-$2 port dir sp p
    shift 2
    port=$(free_port)
    dir=$WORK/$name
    start_server "$bin" "$name" "$port"
    sp=$STARTED
    for p in "$@"; do
        N=20 requests "$port" "$p"
        strace_during "$sp" "$dir/strace" requests "$port" "$p"
        echo "$p $(awk -v n="$N" '$NF == "total" { printf "%.1f", $4 / n }' "$dir/strace")" >>"$WORK/sys-$server"
        { echo "$server $p:"; awk 'NR > 2 && $1 ~ /^[0-9.]+$/ { print }' "$dir/strace" | sort -k4 -rn | head -8; } >>"$WORK/systable"
    done
    kill "$sp" 2>/dev/null
    wait "$sp" 2>/dev/null
}

for s in moongate nginx; do
    bin=$MOONGATE; [ $s = nginx ] && bin=$NGINX
    instr "$bin" $s "${PATHS[@]}"
    syscalls "$bin" $s "${PATHS[@]}"
done
{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; these counts do not depend on it)"
    echo "command: N=$N LEVEL=$LEVEL SIZES=\"$SIZES\" t/bench/gzip-instr.sh"
    echo "per response: user-space instructions (callgrind), system calls (strace -c)"
    printf '%-10s %-9s %12s %9s\n' path server instr syscalls
    for p in "${PATHS[@]}"; do
        for s in moongate nginx; do
            read -r _ ir < <(grep "^$p " "$WORK/instr-$s")
            read -r _ sc < <(grep "^$p " "$WORK/sys-$s")
            printf '%-10s %-9s %12s %9s\n' "$p" "$s" "$ir" "$sc"
        done
    done
    echo
    echo "where the instructions go (callgrind_annotate, self cost per response):"
    cat "$WORK/functable"
    echo
    echo "system calls over $N responses (strace -c: calls column 4):"
    cat "$WORK/systable"
} | tee "$OUT"
