#!/bin/sh
# Reload time, moongate and Debian's nginx side by side: t/209-atomic-switch.t's scenario (a
# tight client opening a new connection per request through 20 reloads) with a small config and
# with 10,000 locations, once per server. Prints per case: `-s reload`'s wall time (median/max;
# nginx's returns at once, so its figure is the wait until its old workers stopped and the new
# ones run), how long after the start of the reload the client first got the new generation,
# requests, failures and inversions (a response of an older generation after a newer one).
# Writes t/bench/reload-time-results-DATE.txt.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
mg=${MOONGATE_BIN:-$root/objs/moongate}  # not MOONGATE: that one hands sockets over
[ -x /usr/sbin/nginx ] || { echo "reload-time.sh: /usr/sbin/nginx missing (apt-get install nginx-light)"; exit 1; }
out="$here/reload-time-results-$(date -u +%Y%m%d-%H%M%S).txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # name binary locations
    TEST_MOONGATE_FORCE=1 TEST_MOONGATE_BINARY="$2" TEST_MOONGATE_SERVROOT="$tmp/$1-$3" \
        TEST_MOONGATE_LOCATIONS="$3" prove -v -I t/lib t/209-atomic-switch.t > "$tmp/$1-$3.log" 2>&1
    grep -E '^# [^ ]+: [0-9]+ reloads' "$tmp/$1-$3.log" | sed 's/^# //'
}

{
    echo "reload time, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), nproc=$(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "moongate: $("$mg" -v 2>&1), nginx: $(/usr/sbin/nginx -v 2>&1)"
    for n in 0 10000; do
        run moongate "$mg" $n
        run nginx /usr/sbin/nginx $n
    done
} | tee "$out"
