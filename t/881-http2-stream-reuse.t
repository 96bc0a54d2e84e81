# HTTP/2 streams one after another on one connection, each request's state made anew from
# what the streams before it left: a stream's pool is emptied and taken again by a later stream
# (the server's spares), a head without a body lives in that pool, a body's in a buffer of its
# own; response field names are sent lowercase whatever case the configuration gave them.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/881-http2-stream-reuse.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';

h2_blocks(then => '/ok');

run_tests();

__DATA__

=== TEST 1: response field names from add_header in mixed case go out lowercase, their values as written
--- config
    location / {
        add_header X-MiXed-Case "Value With CAPS";
        add_header ANOTHER-one 42;
        return 200 "ok\n";
    }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
s = c.request('/t')
c.wait(s)
st = c.streams[s]
print(st.status, st.header('x-mixed-case'), st.header('another-one'))
print([k for k, v in st.headers if k != k.lower()])
--- h2_out
200 Value With CAPS 42
[]
then 200



=== TEST 2: rounds of 40 streams on one connection, large heads (a cookie of 6000 bytes: more than a pool's block) and small ones in turn, each answered from its own head
--- config
    large_client_header_buffers 4 8k;
    location / { return 200 "$uri $cookie_k $http_x_n\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
bad = 0
for rnd in range(3):
    sids = {}
    for i in range(40):
        big = (i + rnd) % 2 == 0
        hdrs = [('x-n', str(i) * (i % 7 + 1))]
        if big:
            hdrs.append(('cookie', 'k=%d-%d; pad=%s' % (rnd, i, 'p' * 6000)))
        sids[i] = (c.request('/r%d/%d' % (rnd, i), headers=hdrs), big)
    c.wait(*[s for s, _ in sids.values()], timeout=10)
    for i, (s, big) in sids.items():
        want = '/r%d/%d %s %s\n' % (rnd, i, '%d-%d' % (rnd, i) if big else '', str(i) * (i % 7 + 1))
        if str(c.streams[s].status) != '200' or c.streams[s].body.decode() != want:
            bad += 1
            print('stream', s, c.streams[s].status, c.streams[s].body[:80])
print('bad', bad, 'goaway', c.goaway)
--- h2_out
bad 0 goaway None
then 200



=== TEST 3: streams with a body and streams without one in turn on one connection: each body read whole, each head its own
--- config
    location /b {
        client_body_buffer_size 64k;
        content_by_lua_block {
            ngx.req.read_body()
            local b = ngx.req.get_body_data() or ""
            ngx.say(ngx.var.uri, " ", #b, " ", b:sub(1, 8))
        }
    }
    location / { return 200 "$uri\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
bad = 0
for rnd in range(3):
    sids = []
    for i in range(10):
        if i % 2:
            body = ('%08d' % i).encode() + b'x' * (i * 3000)
            sids.append((c.request('/b/%d' % i, method='POST', body=body),
                         '/b/%d %d %08d\n' % (i, len(body), i)))
        else:
            sids.append((c.request('/g/%d' % i), '/g/%d\n' % i))
    c.wait(*[s for s, _ in sids], timeout=10)
    for s, want in sids:
        if str(c.streams[s].status) != '200' or c.streams[s].body.decode() != want:
            bad += 1
            print('stream', s, c.streams[s].status, c.streams[s].body[:80])
print('bad', bad, 'goaway', c.goaway)
--- h2_out
bad 0 goaway None
then 200
