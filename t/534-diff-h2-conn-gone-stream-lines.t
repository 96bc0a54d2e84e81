# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py): a
# client that closes its HTTP/2 connection while a proxied request on it waits for its upstream.
# nginx logs the connection's end once ("client prematurely closed connection while processing
# HTTP/2 connection") and nothing for the stream it cuts (the request ends 499); moongate also
# logged "client canceled stream 1 while sending request to upstream", a client's RST_STREAM's
# line, for a stream no RST_STREAM reset. A stream's reset is now named only when the client's
# frame came (t/533, t/701). The client closes once the backend has the request, having read
# all that came (a FIN, not a reset for unread bytes).
#
#   prove -I t/lib t/534-diff-h2-conn-gone-stream-lines.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/534-diff-h2-conn-gone-stream-lines.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateBackend;

backend(slow => 'echo', delay => 2);
# the client closes once the backend has the request (it logs each one it reads)
$ENV{TEST_NGINX_SLOW_LOG} = Test::MoongateBackend::_log_file('slow');

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    location /t { return 200 "ok\n"; }
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT; }
CONF

run_tests();

__DATA__

=== TEST 1: the connection closes (FIN) under a proxied request: nginx's connection line alone, no stream line
--- h2_py
import os, time
c = Raw(P)
c.headers(1, request('/p'))
t = time.time()
while time.time() - t < 5 and not (os.path.exists('$TEST_NGINX_SLOW_LOG') and ' /p' in open('$TEST_NGINX_SLOW_LOG').read()):
    time.sleep(0.02)
c.sock.setblocking(False)
try:
    while True:
        d = c.sock.recv(65536)
        if not d:
            break
        c.buf += d
        c.frames()
except BlockingIOError:
    pass
c.sock.close()
d = Raw(P)
d.headers(1, request())
print(d.wait(1))
--- h2_out
200
--- error_log
client prematurely closed connection while processing HTTP/2 connection, client: 127.0.0.1
--- no_error_log
client canceled stream
