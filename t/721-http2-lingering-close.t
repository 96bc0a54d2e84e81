# An HTTP/2 connection that ends with a GOAWAY (keepalive_requests reached) closes lingering as
# nginx's does since 1.19.7: the FIN goes, and what the client still sends is read and dropped
# (lingering_timeout, lingering_time), so frames it sent before it saw the GOAWAY do not make
# the kernel reset the connection under responses it has not read yet. lingering_close off
# closes at once, and a frame sent then is answered by a reset.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/721-http2-lingering-close.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';

h2_blocks(py_head => <<'_EOP_');
def ping():
    return Raw.frame(6, 0, 0, b'12345678')
def reset_after_end(r, wait):
    """the response and GOAWAY read to the server's FIN, then PINGs for up to `wait` seconds:
    whether the socket was reset (an error on a send or a read)"""
    r.read(5, until=lambda: r.closed)
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            r.sock.sendall(ping())
            r.sock.settimeout(0.1)
            try:
                if r.sock.recv(100) != b'':
                    return 'bytes after the FIN'
            except socket.timeout:
                pass
        except (ConnectionResetError, BrokenPipeError):
            return 'reset'
        time.sleep(0.1)
    return 'no reset'
_EOP_

run_tests();

__DATA__

=== TEST 1: keepalive_requests reached: the response, the GOAWAY, the FIN; frames the client sends after it are taken, not reset
--- config
    keepalive_requests 1;
    lingering_timeout 20s;
    location / { return 200 "one\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.headers(1, '/'))
verdict = reset_after_end(r, 1.5)
print(r.statuses.get(1), b''.join(p for n, f, s, p in r.frames if n == 'DATA' and s == 1), r.goaway(), verdict)
--- h2_out
200 b'one\n' (1, 0) no reset



=== TEST 2: lingering_close off: the connection closes at once, so a frame sent after the GOAWAY is answered by a reset
--- config
    keepalive_requests 1;
    lingering_close off;
    location / { return 200 "one\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.headers(1, '/'))
verdict = reset_after_end(r, 10)
print(r.statuses.get(1), r.goaway(), verdict)
--- h2_out
200 (1, 0) reset
