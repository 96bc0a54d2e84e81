#!/bin/sh
# A loaded machine on demand, for hunting tests that lean on timing: SIGSTOP the test server of
# one servroot (its master and the master's children) for STOP seconds as soon as a new master
# writes its pid file, and again every PERIOD seconds, for SECONDS in all. Only a master whose
# command line names SERVROOT is touched. A test that passes only when the server keeps up
# within a fixed delay fails under it; one that waits for its condition does not.
#
#   t/tools/stall.sh /tmp/sr-x 1.2 2 300 & st=$!
#   TEST_MOONGATE_SERVROOT=/tmp/sr-x prove -I t/lib t/305-proxy-balancing.t
#   kill $st
#
# A Test::MoongateProc file's server lives in a directory of its own, SERVROOT/NAME (its new()'s
# name, e.g. /tmp/sr-x/hc for t/211): give stall.sh that one, else nothing is ever stopped.
#
# A stop is harsher than load in one way: it ends the worker's epoll_wait with EINTR (signal(7)),
# so a timer that expired during the stop runs before the input that arrived meanwhile is read;
# a slow loop reads that input first. A timeout shorter than STOP can fire under it with the
# client's bytes waiting (t/506 TEST 13 logged "while waiting for request"), so a timeout a test
# means to fire at one stage of a connection is best above STOP.
sr=${1:?usage: stall.sh SERVROOT [STOP] [PERIOD] [SECONDS]}
stop=${2:-1.2}
period=${3:-2}
end=$(($(date +%s) + ${4:-300}))
pids=
# killed in the middle of a stop: let the server go on
trap '[ -n "$pids" ] && kill -CONT $pids 2>/dev/null; exit 0' INT TERM
last=
next=0
while [ "$(date +%s)" -lt "$end" ]; do
    m=$(cat "$sr/logs/moongate.pid" 2>/dev/null)
    if [ -n "$m" ] && tr '\0' ' ' <"/proc/$m/cmdline" 2>/dev/null | grep -qF -- "$sr"; then
        now=$(date +%s%N)
        if [ "$m" != "$last" ] || [ "$now" -gt "$next" ]; then
            pids="$m $(awk -v m="$m" '$4 == m { print $1 }' /proc/[0-9]*/stat 2>/dev/null)"
            kill -STOP $pids 2>/dev/null
            sleep "$stop"
            kill -CONT $pids 2>/dev/null
            pids=
            last=$m
            next=$(($(date +%s%N) + $(echo "$period" | cut -d. -f1) * 1000000000))
        fi
    fi
    sleep 0.02
done
