# Trailers on HTTP/2: add_trailer's fields go out as a trailing HEADERS frame (END_STREAM) after
# the body, whether the length is known (it is kept, unlike HTTP/1.1's chunked framing) or not;
# "always" ones on other statuses too; none for HEAD; names lowercased.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/705-http2-trailers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';

h2_blocks();

run_tests();

__DATA__

=== TEST 1: add_trailer on h2: a trailing HEADERS after a body of known and unknown length, "always" on a 404, none for HEAD or an empty value
--- config
    location /t { add_trailer X-T "v$uri"; add_trailer x-e ""; add_trailer x-a always always; return 200 "t\n"; }
    location /n { add_trailer x-t 1; add_trailer x-a 2 always; return 404; }
    location /big { add_trailer x-t 1; content_by_lua_block { ngx.print(string.rep("y", 100000)) } }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
for path, method in (('/t', 'GET'), ('/n', 'GET'), ('/big', 'GET'), ('/t', 'HEAD')):
    a = c.request(path, method=method)
    c.wait(a)
    st = c.streams[a]
    print(path, method, st.status, st.header('content-length'), len(st.body), st.ended, st.trailers)
--- h2_out_like
^/t GET 200 2 2 True \[\('x-t', 'v/t'\), \('x-a', 'always'\)\]
/n GET 404 \d+ \d+ True \[\('x-a', '2'\)\]
/big GET 200 None 100000 True \[\('x-t', '1'\)\]
/t HEAD 200 2 0 True None
$



=== TEST 2: many streams with trailers at once, one reset by the client midway: the others all get theirs
--- config
    location /big { add_trailer x-t "$request_uri"; content_by_lua_block { ngx.print(string.rep("y", 30000)) } }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
ids = [c.request('/big?%d' % i) for i in range(20)]
c.conn.reset_stream(ids[5])
c.flush()
c.streams[ids[5]].reset = 8
c.wait(*ids, timeout=10)
good = [i for i in range(20) if i != 5 and c.streams[ids[i]].trailers == [('x-t', '/big?%d' % i)]]
print(len(good), all(len(c.streams[ids[i]].body) == 30000 for i in range(20) if i != 5))
--- h2_out
19 True
