#!/bin/bash
# ngx.semaphore's method cost: instructions per wait(0)+post+count iteration (lua-instr.sh's
# callgrind count, whose env it takes: ITER, OLD, NGINX_BIN, JIT=off).
#
#   t/bench/sema-instr.sh   (ITER=50000 OLD=/work/main/objs/moongate; JIT=off: interpreted)
#
# The first two results (results-sema-instr-20261207-000029.txt,
# results-sema-instr-semffi-20261207-025305.txt) are twice the cost per iteration: the script's
# readiness probe ran the loop too.
BENCH=sema-instr.sh WHAT="wait(0)+post+count iteration" \
    SETUP='local s = require("ngx.semaphore").new(1)' \
    BODY='s:wait(0); s:post(1); s:count()' \
    exec "$(dirname "$0")/lua-instr.sh"
