#!/bin/bash
# Light threads' and coroutines' cost: instructions per iteration (lua-instr.sh's callgrind
# count, whose env it takes: ITER, OLD, NGINX_BIN, JIT=off) of three loops: spawn + a wait
# that yields + thread.wait (a thread's end wakes its waiter), spawn + thread.wait of a thread
# that ended at once, coroutine.wrap + a yield + a return.
#
#   t/bench/thread-instr.sh   (ITER=5000 OLD=/work/main/objs/moongate)
H="$(dirname "$0")/lua-instr.sh"
export BENCH=thread-instr.sh ITER=${ITER:-5000}
WHAT="spawn+blocking wait+post+thread.wait" \
    SETUP='local s = require("ngx.semaphore").new(0); local function f() s:wait(1) end' \
    BODY='local th = ngx.thread.spawn(f); s:post(); ngx.thread.wait(th)' "$H"
WHAT="spawn+thread.wait (the thread returns at once)" \
    SETUP='local function f() end' BODY='local th = ngx.thread.spawn(f); ngx.thread.wait(th)' "$H"
WHAT="coroutine.wrap + 2 calls (a yield, a return)" \
    SETUP='local function g() coroutine.yield(1) return 2 end' \
    BODY='local f = coroutine.wrap(g); f(); f()' "$H"
