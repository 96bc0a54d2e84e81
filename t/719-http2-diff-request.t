# HTTP/2 requests nginx refuses or reshapes, found by a differential run against Debian's
# nginx 1.22: each block sends a header block by hand (t/lib/h2util.py's Raw) and prints the
# status, the body or the reset, with nginx's log line for it.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/719-http2-diff-request.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

# the test server's listen gets "http2" (nginx 1.22's cleartext h2 then serves no HTTP/1)
# unless a block says no_h2_listen
add_known_sections('no_h2_listen');
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2')
        unless defined $block->no_h2_listen || defined $block->listen_options;
    my $py = $block->h2_py;
    $block->set_value(h2_py => <<'_EOP_' . $py) if defined $py;
def answer(r, sid, timeout=5):
    """status, body and reset code of a stream, once it ended"""
    done = lambda: r.closed or any(s == sid and (n == 'RST_STREAM' or (n in ('DATA', 'HEADERS') and f & 1)) for n, f, s, p in r.frames)
    r.read(timeout, until=done)
    body = b''.join(p for n, f, s, p in r.frames if n == 'DATA' and s == sid)
    return r.statuses.get(sid), body if r.statuses.get(sid) in ('200', '204') else len(body) > 0, r.resets().get(sid)
_EOP_
});

run_tests();

__DATA__

=== TEST 1: CONNECT with a :path (and :scheme) is 405 "client sent CONNECT method"; without them 400 "no :scheme"
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.enc.encode([(':method', 'CONNECT'), (':scheme', 'http'), (':path', '/r'), (':authority', 'localhost:80')])))
print(answer(r, 1))
r.send(r.frame(1, 5, 3, r.enc.encode([(':method', 'CONNECT'), (':authority', 'localhost:80')])))
print(answer(r, 3))
r.send(r.frame(1, 5, 5, r.block('/r')))
print(answer(r, 5))
--- h2_out
('405', True, None)
('400', True, None)
('200', b'ok\n', None)
--- error_log
client sent CONNECT method while reading client request headers, client: 127.0.0.1, server: localhost, request: "CONNECT /r HTTP/2.0", host: "localhost:80"
client sent no :scheme header while reading client request headers



=== TEST 2: HTTP/1: "CONNECT /path" is 405 too (an authority-form target is a bad request line)
--- no_h2_listen
--- config
    location / { return 200 "ok\n"; }
--- raw_request eval
"CONNECT /r HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- error_code: 405
--- error_log
client sent CONNECT method while reading client request headers, client: 127.0.0.1, server: localhost, request: "CONNECT /r HTTP/1.1", host: "x"



=== TEST 3: :scheme as nginx 1.22 checks it (a letter, then letters, digits, "+-."), an empty :method, :path "*": 400 with nginx's words
--- config
    location / { return 200 "ok $scheme\n"; }
--- h2_py
G = [(':authority', 'localhost'), (':path', '/')]
cases = [
    [(':method', 'GET'), (':scheme', 'ht tp')] + G,
    [(':method', 'GET'), (':scheme', '')] + G,
    [(':method', 'GET'), (':scheme', '1http')] + G,
    [(':method', 'GET'), (':scheme', 'x+y-z.1')] + G,
    [(':method', ''), (':scheme', 'http')] + G,
    [(':method', 'OPTIONS'), (':scheme', 'http'), (':authority', 'localhost'), (':path', '*')],
]
r = Raw($TEST_NGINX_SERVER_PORT)
for i, h in enumerate(cases):
    r.send(r.frame(1, 5, 2 * i + 1, r.enc.encode(h)))
    print(answer(r, 2 * i + 1))
--- h2_out
('400', True, None)
('400', True, None)
('400', True, None)
('200', b'ok http\n', None)
('400', True, None)
('400', True, None)
--- error_log
client sent invalid :scheme header: "ht tp" while reading client request headers, client: 127.0.0.1, server: localhost
client sent empty :scheme header while reading client request headers
client sent invalid :scheme header: "1http" while reading client request headers
client sent empty :method header while reading client request headers, client: 127.0.0.1, server: localhost
client sent invalid :path header: "*" while reading client request headers, client: 127.0.0.1, server: localhost, host: "localhost"



=== TEST 4: a body against its content-length: more DATA than declared is 400 "larger than declared", at once or after a first part; a content-length with END_STREAM on the HEADERS is 400 "client prematurely closed stream"
--- config
    location /body {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("body ", #(ngx.req.get_body_data() or ""))
        }
    }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 4, 1, r.block('/body', method='POST', extra=[('content-length', '3')])) + r.frame(0, 1, 1, b'12345'))
print(answer(r, 1))
r.send(r.frame(1, 4, 3, r.block('/body', method='POST', extra=[('content-length', '3')])) + r.frame(0, 0, 3, b'12'))
r.read(0.3)
r.send(r.frame(0, 1, 3, b'345'))
print(answer(r, 3))
r.send(r.frame(1, 5, 5, r.block('/body', method='POST', extra=[('content-length', '5')])))
print(answer(r, 5))
r.send(r.frame(1, 4, 7, r.block('/body', method='POST', extra=[('content-length', '3')])) + r.frame(0, 1, 7, b'123'))
print(answer(r, 7))
--- h2_out
('400', True, None)
('400', True, None)
('400', True, None)
('200', b'body 3\n', None)
--- error_log
client intended to send body data larger than declared, client: 127.0.0.1, server: localhost, request: "POST /body HTTP/2.0", host: "localhost"
client prematurely closed stream while reading client request headers, client: 127.0.0.1, server: localhost, request: "POST /body HTTP/2.0", host: "localhost"
--- no_error_log
bytes of request body received



=== TEST 5: field names beyond [a-z0-9-] are dropped (ignore_invalid_headers) with nginx's h2 line "client sent invalid header", the request served; "_" with underscores_in_headers is kept
--- config
    location /hdr { return 200 "[$http_x_y][$http_ok]\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/hdr', extra=[('x_y', '1'), ('x.z', '2'), ('x\u00e9', '3'), ('ok', '4')])))
print(answer(r, 1))
--- h2_out
('200', b'[][4]\n', None)
--- error_log
client sent invalid header: "x_y" while reading client request headers, client: 127.0.0.1, server: localhost, host: "localhost"
client sent invalid header: "x.z" while reading client request headers, client: 127.0.0.1, server: localhost, host: "localhost"
--- no_error_log
invalid header line



=== TEST 6: underscores_in_headers on: "x_y" is a field like any other
--- config
    underscores_in_headers on;
    location /hdr { return 200 "[$http_x_y]\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/hdr', extra=[('x_y', '1')])))
print(answer(r, 1))
--- h2_out
('200', b'[1]\n', None)
--- no_error_log
client sent invalid header



=== TEST 7: client_max_body_size: a body without a content-length goes over it in its second DATA frame: 413, nginx's h2 words (the frames' sum); with a content-length over it: 413 at once, then RST_STREAM NO_ERROR (the client's half is open)
--- config
    location /body {
        client_max_body_size 10;
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("body ", #(ngx.req.get_body_data() or ""))
        }
    }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 4, 1, r.block('/body', method='POST')) + r.frame(0, 0, 1, b'x' * 8))
r.read(0.3)
r.send(r.frame(0, 1, 1, b'y' * 8))
print(answer(r, 1))
r.send(r.frame(1, 4, 3, r.block('/body', method='POST', extra=[('content-length', '20')])))
print(answer(r, 3)[:2])
r.read(2, until=lambda: 3 in r.resets())
print('then reset', r.resets().get(3))
--- h2_out
('413', True, None)
('413', True)
then reset 0
--- error_log
client intended to send too large chunked body: 16 bytes, client: 127.0.0.1, server: localhost, request: "POST /body HTTP/2.0", host: "localhost"
client intended to send too large body: 20 bytes, client: 127.0.0.1, server: localhost, request: "POST /body HTTP/2.0", host: "localhost"



=== TEST 8: :authority is the first host field, as nginx 1.22 takes it: a host field too is a duplicate (400); a host field alone is the host; two host fields are a duplicate; the lines have no request line (nginx has none yet)
--- config
    location /hdr { return 200 "[$host][$http_host]\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
M = [(':method', 'GET'), (':scheme', 'http'), (':path', '/hdr')]
r.send(r.frame(1, 5, 1, r.enc.encode(M + [(':authority', 'auth'), ('host', 'hosty')])))
print(answer(r, 1))
r.send(r.frame(1, 5, 3, r.enc.encode(M + [('host', 'hosty')])))
print(answer(r, 3))
r.send(r.frame(1, 5, 5, r.enc.encode(M + [('host', 'a'), ('host', 'b')])))
print(answer(r, 5))
r.send(r.frame(1, 5, 7, r.enc.encode(M + [(':authority', 'Auth:99')])))
print(answer(r, 7))
--- h2_out
('400', True, None)
('200', b'[hosty][hosty]\n', None)
('400', True, None)
('200', b'[auth][Auth:99]\n', None)
--- error_log
client sent duplicate host header: "host: hosty", previous value: "host: auth" while reading client request headers, client: 127.0.0.1, server: localhost, host: "auth"
client sent duplicate host header: "host: b", previous value: "host: a" while reading client request headers, client: 127.0.0.1, server: localhost
--- no_error_log
request: "GET /hdr HTTP/2.0"



=== TEST 9: a value with a NUL resets the stream and is quoted whole in the log line (moongate writes the NUL as \x00, as its other control bytes)
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/', extra=[('x-a', 'a\x00bc')])))
print(answer(r, 1))
--- h2_out
(None, False, 1)
--- error_log eval
qr/client sent header "x-a" with invalid value: "a(\\x00|\x00)bc" while reading client request headers/



=== TEST 10: a second :authority is nginx 1.22's duplicate host header (400)
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.enc.encode([(':method', 'GET'), (':scheme', 'http'), (':path', '/'), (':authority', 'one'), (':authority', 'two')])))
print(answer(r, 1))
--- h2_out
('400', True, None)
--- error_log
client sent duplicate host header: "host: two", previous value: "host: one" while reading client request headers, client: 127.0.0.1, server: localhost, host: "one"
