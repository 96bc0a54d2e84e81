#!/bin/bash
# ngx.shared.DICT's cost: instructions per get and per set of a short string (lua-instr.sh's
# callgrind count, whose env it takes: ITER, OLD, NGINX_BIN, JIT=off), and per request of a
# handler doing a get, a set and an incr (PER=request; ngx.say'ing the value).
#
#   t/bench/shdict-instr.sh   (ITER=50000 OLD=/work/main/objs/moongate; JIT=off: interpreted)
set -eu
b="$(dirname "$0")/lua-instr.sh"
export BENCH=shdict-instr.sh HTTP='lua_shared_dict d 1m;' SETUP='local d = ngx.shared.d; d:set("key", "value")'
WHAT="get" BODY='local v = d:get("key")' "$b"
WHAT="set" BODY='d:set("key", "value")' "$b"
# a handler's get, set and incr once a request (ITER requests: REQ_ITER, 2000)
ITER=${REQ_ITER:-2000} PER=request WHAT="request" SETUP='local d = ngx.shared.d' \
    BODY='local v = d:get("key") or "value"; d:set("key", v); d:incr("n", 1, 0); ngx.say(v)' "$b"
