# An idle h2 connection's frame buffer is given back once it has waited 1 s with no stream
# (v2.c, H2_TRIM_MSEC): the connection's own timer comes then and is set again for the rest of
# the idle wait (no timer of the trim's own). Past that point the connection serves its next
# stream, and is closed (GOAWAY NO_ERROR) keepalive_timeout after its last one, not at the
# trim; before a first stream, client_header_timeout likewise. As nginx 1.22.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/473-h2-idle-trim-timer.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_blocks();

run_tests();

__DATA__

=== TEST 1: a stream after 1.6 s idle is served; then the connection closes keepalive_timeout (3 s) after it, not at the trim
--- config
    keepalive_timeout 3s;
    location / { return 200 "ok\n"; }
--- h2_py
# timers never fire early, so the lower bounds hold on a loaded machine; the idle waits are
# what is tested (the trim comes at 1 s)
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/')))
r.read(5, until=lambda: 1 in r.statuses)
print('stream 1:', r.statuses.get(1))
r.read(1.6, until=lambda: r.closed)
print('after 1.6 s idle: closed', r.closed)
r.send(r.frame(1, 5, 3, r.block('/')))
r.read(5, until=lambda: 3 in r.statuses)
print('stream 3:', r.statuses.get(3))
t = time.time()
r.read(15, until=lambda: r.closed)
el = time.time() - t
print('closed', r.closed, 'at keepalive_timeout' if el >= 2.9 else 'after %.1f s' % el, r.goaway())
--- h2_out
stream 1: 200
after 1.6 s idle: closed False
stream 3: 200
closed True at keepalive_timeout (3, 0)
--- no_error_log
client timed out



=== TEST 2: before a first stream, client_header_timeout (3 s) closes it, not the trim
--- config
    client_header_timeout 3s;
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
t = time.time()
r.read(15, until=lambda: r.closed)
el = time.time() - t
print('closed', r.closed, 'at client_header_timeout' if el >= 2.9 else 'after %.1f s' % el, r.goaway())
--- h2_out
closed True at client_header_timeout (0, 0)
--- no_error_log
client timed out
