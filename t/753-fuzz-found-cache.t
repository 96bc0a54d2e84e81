# Bugs found by the libFuzzer targets of t/fuzz/ that a client or an upstream reaches, one
# block each (the inputs are kept in t/fuzz/crashes/).  The upstream is Test::MoongateCache's:
# each h=Name:Value argument is a header line of its answer; its body counts the requests it
# got for the URI; a block proxies to it through the cache c1.
#
#   prove -I t/lib t/753-fuzz-found-cache.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/753-fuzz-found-cache.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

cache_upstream(<<'_LUA_', header_args => 1, cache => 1);
    reply(ngx.var.uri .. " n=" .. n .. "\n")
_LUA_

run_tests();

__DATA__

=== TEST 1: X-Accel-Expires of the largest number of seconds keeps the response (as long as can be), "@" that time too
(fuzz_cache_validity: now + N overflowed, undefined, in practice a negative time, so the answer
was not stored; Debian's nginx, with the same overflow, stores it already expired: EXPIRED)
--- moongate_only
--- request eval
["GET /a?h=X-Accel-Expires:9223372036854775807", "GET /a?h=X-Accel-Expires:9223372036854775807",
 "GET /b?h=X-Accel-Expires:9223372036854775000", "GET /b?h=X-Accel-Expires:9223372036854775000",
 "GET /c?h=X-Accel-Expires:%409223372036854775807", "GET /c?h=X-Accel-Expires:%409223372036854775807"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/a n=1\n", "/a n=1\n", "/b n=1\n", "/b n=1\n", "/c n=1\n", "/c n=1\n"]
