#!/bin/sh
# Reload/upgrade under load, moongate and Debian's nginx side by side: runs the zero-loss
# scenario of t/203-zero-loss.t (20 keepalive connections and a connection-per-request client
# while the master gets 20 reloads and a full USR2/WINCH/QUIT upgrade, plain and with
# reuseport) once per server and prints each server's request and failure counts.
# Run by `make bench` after the throughput cases; writes t/bench/reload-results-DATE.txt.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
[ -x /usr/sbin/nginx ] || { echo "reload.sh: /usr/sbin/nginx missing (apt-get install nginx-light)"; exit 1; }
out="$here/reload-results-$(date -u +%Y%m%d-%H%M%S).txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # name binary
    TEST_MOONGATE_FORCE=1 TEST_MOONGATE_BINARY="$2" TEST_MOONGATE_SERVROOT="$tmp/$1" \
        prove -v -I t/lib t/203-zero-loss.t > "$tmp/$1.log" 2>&1
    # the scenario's summaries: "<label>: N requests, N ok, N failed (kinds); ..."
    grep -E '^# [a-z]+: ' "$tmp/$1.log" | grep -v '^# storm' | sed "s/^# /$1 /"
}

{
    echo "reload/upgrade under load, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), nproc=$(nproc)"
    echo "moongate: $(objs/moongate -v 2>&1), nginx: $(/usr/sbin/nginx -v 2>&1)"
    run moongate "$root/objs/moongate"
    run nginx /usr/sbin/nginx
} | tee "$out"
