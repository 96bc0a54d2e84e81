# HTTP/2 field values are checked eight bytes at a time (v2_stream.c's value_bad: a NUL, LF or
# CR resets the stream, as nginx's "client sent header ... with invalid value"): the bad byte
# at a word's first and last place, in the overlapping last word, in a value shorter than a
# word; and values of the bytes next to them (and a zero's borrow's neighbours) served.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/490-h2-value-bytes-by-word.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2') unless defined $block->listen_options;
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

=== TEST 1: a NUL, LF or CR anywhere in a value resets its stream (PROTOCOL_ERROR), the connection serves on
--- config
    location / { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
values = ['ab\r', 'abcdefg\r', '\nbcdefgh', 'abcdefgh\x00', 'abcdefghijklmno\r',
          'abcdefghijklmnop\n', 'abcdefghi\x00klmnopqrstuvw', 'abcdefghijklmnopqrstuv\r',
          '\x01\x00\x01\x01\x01\x01\x01\x01\x01']
sid = 1
for v in values:
    r.send(r.frame(1, 5, sid, r.block('/', extra=[('x-a', v)])))
    print(answer(r, sid))
    sid += 2
r.send(r.frame(1, 5, sid, r.block('/')))
print(answer(r, sid))
--- h2_out
(None, False, 1)
(None, False, 1)
(None, False, 1)
(None, False, 1)
(None, False, 1)
(None, False, 1)
(None, False, 1)
(None, False, 1)
(None, False, 1)
('200', b'ok\n', None)
--- error_log
client sent header "x-a" with invalid value: "abcdefghijklmno
--- no_error_log
[alert]



=== TEST 2: the bytes next to them, other control bytes, 0x80 and up: served, of every length around a word
--- config
    location / { return 200 "[$http_x_a]\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
values = ['a', '\x01\x0b\x0c', '\t\x0b\x0c\x0e\x01\x02\x7f', '\x09\x0b\x0c\x0e\x0f\x1f\x20\x8a',
          'abcdefgh\x8d', 'x\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01',
          '\x8a\x8d\x80\x0b\x0c\x0e\x0f\x09abcdefgh\x0e', 'h2load nghttp2/1.52.0']
sid = 1
for v in values:
    r.send(r.frame(1, 5, sid, r.block('/', extra=[('x-a', v)])))
    st, body, rst = answer(r, sid)
    print(st, body == ('[' + v + ']\n').encode('utf-8'), rst)
    sid += 2
--- h2_out
200 True None
200 True None
200 True None
200 True None
200 True None
200 True None
200 True None
200 True None
--- no_error_log
invalid value
