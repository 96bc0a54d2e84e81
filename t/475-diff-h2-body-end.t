# An h2 request body is whole at its stream's end (END_STREAM), as nginx 1.22 reads it, not
# once its content-length's worth came: DATA past the content-length after that is 400 "client
# intended to send body data larger than declared" (RFC 9113 8.1.1: a malformed request), and
# a request whose body is a content-length's worth waits for END_STREAM before it runs, so its
# response needs no RST_STREAM NO_ERROR after it. moongate took the content-length's worth as
# the whole body: a content-length of 0 ran at once, DATA after it was dropped (200, then RST
# NO_ERROR), and so was DATA past a length reached in an earlier frame (issue 17, w-h2win;
# t/tools/h2cases-edge.py has the cases for t/tools/h2diff.py).
#
#   prove -I t/lib t/475-diff-h2-body-end.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/475-diff-h2-body-end.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');
env_port('TEST_NGINX_PORT2');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2');
    $block->set_value(config => <<'_EOC_') unless defined $block->config;
    location /body {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("body ", #(ngx.req.get_body_data() or ""))
        }
    }
_EOC_
    my $py = $block->h2_py;
    $block->set_value(h2_py => <<'_EOP_' . $py) if defined $py;
def ended(r, sid):
    return lambda: r.closed or any(s == sid and (n == 'RST_STREAM' or (n in ('DATA', 'HEADERS') and f & 1)) for n, f, s, p in r.frames)

def answer(r, sid, timeout=5):
    """status, body (or whether an error page came) and reset code of a stream, once it ended"""
    r.read(timeout, until=ended(r, sid))
    body = b''.join(p for n, f, s, p in r.frames if n == 'DATA' and s == sid)
    return r.statuses.get(sid), body if r.statuses.get(sid) == '200' else len(body) > 0, r.resets().get(sid)

def post(r, sid, length, flags=4):
    return r.frame(1, flags, sid, r.block('/body', method='POST', extra=[('content-length', str(length))]))

def quiet(r, sid, bound=0.5):
    """nothing for the stream while the server waits for its END_STREAM (read for a bound)"""
    r.read(bound, until=lambda: sid in r.statuses)
    return r.statuses.get(sid)
_EOP_
});

run_tests();

__DATA__

=== TEST 1: a content-length of 0 and DATA on the open stream, in the same write and in a later one: 400 "larger than declared"
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(post(r, 1, 0) + r.frame(0, 1, 1, b'a'))
print(answer(r, 1))
r.send(post(r, 3, 0))
print(quiet(r, 3))
r.send(r.frame(0, 1, 3, b'a'))
print(answer(r, 3))
--- h2_out
('400', True, None)
None
('400', True, None)
--- error_log
client intended to send body data larger than declared, client: 127.0.0.1, server: localhost, request: "POST /body HTTP/2.0", host: "localhost"



=== TEST 2: a content-length of 0, its END_STREAM in an empty DATA frame later: the request waits for it, then 200, no RST_STREAM
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(post(r, 1, 0))
print(quiet(r, 1))
r.send(r.frame(0, 1, 1, b''))
print(answer(r, 1))
r.read(0.3)
print(r.resets())
--- h2_out
None
('200', b'body 0\n', None)
{}
--- no_error_log
larger than declared



=== TEST 3: a content-length of 2 reached by a first DATA frame: one more byte later is 400; an empty DATA frame ending the stream, 200 and no RST_STREAM
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(post(r, 1, 2) + r.frame(0, 0, 1, b'ab'))
print(quiet(r, 1))
r.send(r.frame(0, 1, 1, b'c'))
print(answer(r, 1))
r.send(post(r, 3, 2) + r.frame(0, 0, 3, b'ab'))
print(quiet(r, 3))
r.send(r.frame(0, 1, 3, b''))
print(answer(r, 3))
r.read(0.3)
print(r.resets())
--- h2_out
None
('400', True, None)
None
('200', b'body 2\n', None)
{}
--- error_log
client intended to send body data larger than declared



=== TEST 4: the whole body and END_STREAM in one frame, and a HEADERS frame ending the stream with content-length 0: served at once, as before
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(post(r, 1, 3) + r.frame(0, 1, 1, b'abc'))
print(answer(r, 1))
r.send(post(r, 3, 0, flags=5))
print(answer(r, 3))
--- h2_out
('200', b'body 3\n', None)
('200', b'body 0\n', None)
--- no_error_log
larger than declared
prematurely



=== TEST 5: proxy_request_buffering off: the upstream gets the content-length's worth and answers before END_STREAM, as nginx (200, then RST_STREAM NO_ERROR): the byte past the length, after it, is ignored
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / {
            content_by_lua_block {
                ngx.req.read_body()
                ngx.say("up ", #(ngx.req.get_body_data() or ""))
            }
        }
    }
--- config
    location /body {
        proxy_request_buffering off;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
    }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(post(r, 1, 2) + r.frame(0, 0, 1, b'ab'))
print(answer(r, 1))
r.send(r.frame(0, 1, 1, b'c'))
r.send(post(r, 3, 2) + r.frame(0, 1, 3, b'ab'))
print(answer(r, 3))
--- h2_out
('200', b'up 2\n', 0)
('200', b'up 2\n', None)
--- no_error_log
larger than declared
