# Found by sending the same frames to nginx 1.22 and moongate (issue 17, t/tools/h2diff.py), how
# a connection ends for an error:
# - after a GOAWAY for an error while a request still runs, nginx keeps the connection (reading
#   and writing nothing more: the request's response never goes) until that request ends, then
#   closes it; moongate closed it at once (the request ran on all the same). Here the request's
#   last act is a log line: it is on the log when the connection's end is seen.
#
#   prove -I t/lib t/888-diff-h2-error-ends.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/888-diff-h2-error-ends.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_raw_blocks(<<'CONF');
    location /t { return 200 "ok\n"; }
    location /lua {
        content_by_lua_block {
            ngx.sleep(0.5)
            ngx.log(ngx.WARN, "request ", ngx.var.uri, " ran to its end")
            ngx.say("done")
        }
    }
CONF

run_tests();

__DATA__

=== TEST 1: a request runs, then a header block with a 5-octet index (nginx's own GOAWAY COMPRESSION_ERROR): the connection ends once the request ended, its response not sent
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/lua')) + frame(1, 5, 3, b'\xff\x80\x80\x80\x00'))
print(c.wait(0, 10))
print('stream 1:', c.status.get(1))
log = open('$TEST_NGINX_SERVROOT/logs/error.log').read()
print('closed after the request' if 'ran to its end' in log else 'closed before the request ended')
--- h2_out
GOAWAY 3 9 closed
stream 1: None
closed after the request
--- error_log
client sent header block with too long header index value
request /lua ran to its end



=== TEST 2: a request runs, then HEADERS again on its stream (nghttp2's GOAWAY PROTOCOL_ERROR): the same
--- h2_py
c = Raw(P)
c.sock.sendall(frame(1, 5, 1, request('/lua')) + frame(1, 5, 1, request('/lua')))
print(c.wait(0, 10))
print('stream 1:', c.status.get(1))
log = open('$TEST_NGINX_SERVROOT/logs/error.log').read()
print('closed after the request' if 'ran to its end' in log else 'closed before the request ended')
--- h2_out
GOAWAY 1 1 closed
stream 1: None
closed after the request
--- error_log
request /lua ran to its end



=== TEST 3: no request running: the connection ends with the GOAWAY, as before
--- h2_py
c = Raw(P)
c.headers(1, request())
print(c.wait(1))
c.sock.sendall(frame(1, 5, 3, b'\xff\x80\x80\x80\x00'))
print(c.wait(0, 10))
--- h2_out
200
GOAWAY 3 9 closed

