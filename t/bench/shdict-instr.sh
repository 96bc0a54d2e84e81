#!/bin/bash
# ngx.shared.DICT's cost: instructions per get and per set of a short string (lua-instr.sh's
# callgrind count, whose env it takes: ITER, OLD, NGINX_BIN, JIT=off).
#
#   t/bench/shdict-instr.sh   (ITER=50000 OLD=/work/main/objs/moongate; JIT=off: interpreted)
set -eu
b="$(dirname "$0")/lua-instr.sh"
export BENCH=shdict-instr.sh HTTP='lua_shared_dict d 1m;' SETUP='local d = ngx.shared.d; d:set("key", "value")'
WHAT="get" BODY='local v = d:get("key")' "$b"
WHAT="set" BODY='d:set("key", "value")' "$b"
