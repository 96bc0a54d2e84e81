# Measured on nginx 1.22 (issue 17): an HTTP/2 connection gets TCP_NODELAY from its start (its
# first frames out) when the tcp_nodelay of its server (the default one of the address, or the
# one SNI chose) is on, and never when it is off; a stream's location does not change it either
# way. moongate set it on every h2 connection, whatever the directive said. Seen from the
# worker's own socket (t/lib/h2sock.py: pidfd_getfd, as t/884).
#
#   prove -I t/lib t/887-diff-h2-tcp-nodelay.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/887-diff-h2-tcp-nodelay.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';

# check(): the flag once the server's SETTINGS came, then after a request to /on and one to /off
# (locations saying the opposite of each other)
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2');
    $block->set_value(config => ($block->config // '') . <<'LOC');
    location /on { tcp_nodelay on; return 200 "ok\n"; }
    location /off { tcp_nodelay off; return 200 "ok\n"; }
LOC
    $block->set_value(h2_py => <<'PY' . $block->h2_py);
from h2raw import *
from h2sock import option
P = $TEST_NGINX_SERVER_PORT
PID = '$TEST_NGINX_SERVROOT/logs/moongate.pid'


def check():
    c = Raw(P)
    c.sock.settimeout(5)
    while len(c.buf) < 9:  # the server's SETTINGS: its first bytes out
        c.buf += c.sock.recv(65536)
    me = c.sock.getsockname()[1]
    print('start', option(PID, P, me))
    c.headers(1, request('/on'))
    print(c.wait(1), option(PID, P, me))
    c.headers(3, request('/off'))
    print(c.wait(3), option(PID, P, me))


PY
    $block->set_value(no_error_log => '[alert]');
});

run_tests();

__DATA__

=== TEST 1: tcp_nodelay on (the default): from the start, whatever the location says
--- h2_py
check()
--- h2_out
start 1
200 1
200 1



=== TEST 2: tcp_nodelay off in the server: never, not even for a location saying on
--- config
    tcp_nodelay off;
--- h2_py
check()
--- h2_out
start 0
200 0
200 0



=== TEST 3: tcp_nodelay off in http: never
--- http_config
    tcp_nodelay off;
--- h2_py
check()
--- h2_out
start 0
200 0
200 0
