# h2diff's cases for issue 17's edge list (w-h2win): flow control, content-length against the
# body, field names and values RFC 9113 calls malformed, :path forms, trailers, WINDOW_UPDATE 0,
# PRIORITY on itself, SETTINGS out of range, unknown frame types, padding. /lslow (Lua's
# ngx.sleep 0.3) neither reads its body nor ends at once; /body reads it.
#
#   t/tools/h2diff.py t/tools/h2cases-edge.py
import struct

H, D, PRIO, RST, SET, PP, PING, GOAWAY, WU, CONT = 1, 0, 2, 3, 4, 5, 6, 7, 8, 9


def u32(v):
    return struct.pack('>I', v)


def req(sid, path='/t', flags=5, extra=b''):
    return frame(H, flags, sid, request(path) + extra)


def blk(sid, block, flags=5):
    return frame(H, flags, sid, block)


def fields(method='GET', path='/t', scheme='http', auth='localhost', extra=b''):
    """a block from literal pseudo-header values (None leaves one out)"""
    out = b''
    for n, v in ((':method', method), (':path', path), (':scheme', scheme), (':authority', auth)):
        if v is not None:
            out += lit(n, v)
    return out + extra


def steps(*parts):
    def run(c):
        for i, p in enumerate(parts):
            if i:
                c.settle()
            c.sendall(p)
    return run


def data(sid, n, flags=0, size=16384):
    out = b''
    while n > 0:
        k = min(n, size)
        n -= k
        out += frame(D, flags if n == 0 else 0, sid, b'x' * k)
    return out


def settings(*pairs):
    return frame(SET, 0, 0, b''.join(struct.pack('>HI', k, v) for k, v in pairs))


CL = lambda n: lit('content-length', str(n))  # noqa: E731

CASES = [
    # flow control: the stream's window is http2_body_preread_size (64k), the connection's 2^31-1
    ('DATA over stream window, not read', steps(req(1, '/lslow', flags=4) + data(1, 65536 + 1, 1))),
    ('DATA over stream window, not read, then 3', steps(req(1, '/lslow', flags=4) + data(1, 70000, 1), req(3))),
    ('DATA over stream window in one frame, not read', steps(req(1, '/lslow', flags=4) + data(1, 16384 * 3) + frame(D, 1, 1, b'x' * 16385))),
    ('DATA just the stream window, not read', steps(req(1, '/lslow', flags=4) + data(1, 65536, 1))),
    ('DATA over stream window, read', steps(req(1, '/body', flags=4) + data(1, 65536 + 1, 1))),
    ('DATA over stream window, read, later', steps(req(1, '/body', flags=4), data(1, 65536 + 1, 1))),
    ('DATA over window with content-length', steps(blk(1, request('/lslow') + CL(70000), 4) + data(1, 70000, 1))),
    ('DATA frame over max frame size', steps(req(1, '/lslow', flags=4) + frame(D, 1, 1, b'x' * 16385))),
    # content-length against the body
    ('body longer than content-length', steps(blk(1, request('/body') + CL(3), 4) + frame(D, 1, 1, b'abcd'))),
    ('body longer than content-length, two frames', steps(blk(1, request('/body') + CL(3), 4) + frame(D, 0, 1, b'ab') + frame(D, 1, 1, b'cd'))),
    ('body shorter than content-length', steps(blk(1, request('/body') + CL(5), 4) + frame(D, 1, 1, b'abcd'))),
    ('body longer than content-length, not read', steps(blk(1, request('/lslow') + CL(3), 4) + frame(D, 1, 1, b'abcd'))),
    ('body shorter than content-length, not read', steps(blk(1, request('/lslow') + CL(5), 4) + frame(D, 1, 1, b'abcd'))),
    ('content-length with END_STREAM', steps(blk(1, request('/body') + CL(5)))),
    ('content-length 0 with DATA', steps(blk(1, request('/body') + CL(0), 4) + frame(D, 1, 1, b'a'))),
    ('content-length bad', steps(blk(1, request('/body') + lit('content-length', 'x1'), 4) + frame(D, 1, 1, b'a'))),
    ('content-length twice', steps(blk(1, request('/body') + CL(1) + CL(1), 4) + frame(D, 1, 1, b'a'))),
    # field names and values
    ('uppercase name', steps(blk(1, request() + lit('X-Foo', 'a')), req(3))),
    ('uppercase name, first', steps(blk(1, lit('X-Foo', 'a') + request()), req(3))),
    ('uppercase pseudo name', steps(blk(1, request() + lit(':Path', '/t')), req(3))),
    ('name with space', steps(blk(1, request() + lit('x foo', 'a')), req(3))),
    ('name with colon', steps(blk(1, request() + lit('x:foo', 'a')), req(3))),
    ('value with CR', steps(blk(1, request() + lit('x-foo', 'a\rb')), req(3))),
    ('value with LF', steps(blk(1, request() + lit('x-foo', 'a\nb')), req(3))),
    ('te trailers', steps(blk(1, request() + lit('te', 'trailers')))),
    ('te gzip', steps(blk(1, request() + lit('te', 'gzip')), req(3))),
    ('te trailers, gzip', steps(blk(1, request() + lit('te', 'trailers, gzip')), req(3))),
    ('connection keep-alive', steps(blk(1, request() + lit('connection', 'keep-alive')), req(3))),
    ('transfer-encoding chunked', steps(blk(1, request() + lit('transfer-encoding', 'chunked')), req(3))),
    ('transfer-encoding chunked with body', steps(blk(1, request('/body') + lit('transfer-encoding', 'chunked'), 4) + frame(D, 1, 1, b'abc'))),
    ('upgrade h2c', steps(blk(1, request() + lit('upgrade', 'h2c')), req(3))),
    ('keep-alive field', steps(blk(1, request() + lit('keep-alive', '5')), req(3))),
    ('proxy-connection field', steps(blk(1, request() + lit('proxy-connection', 'close')), req(3))),
    # pseudo-headers
    (':path without /', steps(blk(1, fields(path='t')), req(3))),
    (':path absolute URI', steps(blk(1, fields(path='http://localhost/t')), req(3))),
    (':path * GET', steps(blk(1, fields(path='*')), req(3))),
    (':path * OPTIONS', steps(blk(1, fields(method='OPTIONS', path='*')), req(3))),
    (':path empty', steps(blk(1, fields(path='')), req(3))),
    (':path ?a', steps(blk(1, fields(path='?a')), req(3))),
    (':path missing', steps(blk(1, fields(path=None)), req(3))),
    (':method missing', steps(blk(1, fields(method=None)), req(3))),
    (':scheme missing', steps(blk(1, fields(scheme=None)), req(3))),
    (':authority missing', steps(blk(1, fields(auth=None)), req(3))),
    ('unknown pseudo', steps(blk(1, request() + lit(':foo', 'a')), req(3))),
    ('pseudo after regular', steps(blk(1, lit('x-a', 'b') + request()), req(3))),
    ('duplicate :path', steps(blk(1, request() + lit(':path', '/t')), req(3))),
    ('duplicate :method', steps(blk(1, request() + lit(':method', 'GET')), req(3))),
    (':status in request', steps(blk(1, request() + lit(':status', '200')), req(3))),
    # a second HEADERS on the stream (trailers)
    ('trailers with pseudo, no END_STREAM', steps(req(1, '/lslow', flags=4) + blk(1, lit(':path', '/x'), 4))),
    ('trailers with pseudo, END_STREAM', steps(req(1, '/lslow', flags=4) + blk(1, lit(':path', '/x'), 5))),
    ('trailers plain, END_STREAM', steps(req(1, '/lslow', flags=4) + blk(1, lit('x-t', 'a'), 5))),
    ('trailers after DATA', steps(req(1, '/body', flags=4) + frame(D, 0, 1, b'abc') + blk(1, lit('x-t', 'a'), 5))),
    # WINDOW_UPDATE of 0
    ('WINDOW_UPDATE 0 connection', steps(frame(WU, 0, 0, u32(0)), req(1))),
    ('WINDOW_UPDATE 0 connection after req', steps(req(1), frame(WU, 0, 0, u32(0)), req(3))),
    ('WINDOW_UPDATE 0 open stream (lua)', steps(req(1, '/lslow') + frame(WU, 0, 1, u32(0)), req(3))),
    ('WINDOW_UPDATE 0 idle stream', steps(frame(WU, 0, 1, u32(0)), req(1))),
    ('WINDOW_UPDATE 0 idle stream 5 after 1', steps(req(1), frame(WU, 0, 5, u32(0)), req(3))),
    ('WINDOW_UPDATE connection overflow', steps(frame(WU, 0, 0, u32(0x7fffffff)), req(1))),
    ('WINDOW_UPDATE reserved bit', steps(frame(WU, 0, 0, u32(0x80000001)), req(1))),
    # PRIORITY naming itself
    ('PRIORITY self open stream (lua)', steps(req(1, '/lslow') + frame(PRIO, 0, 1, u32(1) + b'\x10'), req(3))),
    ('PRIORITY self idle stream', steps(frame(PRIO, 0, 1, u32(1) + b'\x10'), req(1))),
    ('PRIORITY self idle stream 3 after 1', steps(req(1), frame(PRIO, 0, 3, u32(3) + b'\x10'), req(5))),
    ('PRIORITY self closed stream', steps(req(1), frame(PRIO, 0, 1, u32(1) + b'\x10'), req(3))),
    ('PRIORITY on stream 0', steps(frame(PRIO, 0, 0, u32(1) + b'\x10'), req(1))),
    ('HEADERS priority on self', steps(frame(H, 0x25, 1, u32(1) + b'\x10' + request()), req(3))),
    ('HEADERS priority on self exclusive', steps(frame(H, 0x25, 1, u32(0x80000001) + b'\x10' + request()), req(3))),
    # SETTINGS out of range
    ('SETTINGS initial window 2^31', steps(settings((4, 0x80000000)), req(1))),
    ('SETTINGS initial window 2^31-1', steps(settings((4, 0x7fffffff)), req(1))),
    ('SETTINGS initial window 0 then 2^31 ', steps(settings((4, 0)), req(1, '/t'), settings((4, 0x80000000)))),
    ('SETTINGS max frame size 16383', steps(settings((5, 16383)), req(1))),
    ('SETTINGS max frame size 2^24', steps(settings((5, 1 << 24)), req(1))),
    ('SETTINGS enable push 2', steps(settings((2, 2)), req(1))),
    ('SETTINGS on stream 1', steps(frame(SET, 0, 1, struct.pack('>HI', 3, 100)), req(1))),
    ('SETTINGS window grows open stream', steps(settings((4, 0)), req(1, '/t'), settings((4, 100)))),
    # unknown frame types
    ('unknown type 0x20', steps(frame(0x20, 0, 0, b'abc'), req(1))),
    ('unknown type 0x20 on stream', steps(frame(0x20, 0xff, 1, b'abc'), req(1))),
    ('unknown type 10 on open stream', steps(req(1, '/lslow', flags=4) + frame(10, 0, 1, b'x' * 100) + frame(D, 1, 1, b''))),
    ('unknown type between HEADERS and CONTINUATION', steps(frame(H, 1, 1, request()) + frame(0x20, 0, 1, b'') + frame(CONT, 4, 1, b''))),
    ('unknown type 0xff large', steps(frame(0xff, 0, 0, b'y' * 16384), req(1))),
    ('unknown type over max frame size', steps(frame(0x20, 0, 0, b'y' * 20000), req(1))),
    # padding
    ('HEADERS pad = payload', steps(frame(H, 0xd, 1, bytes([len(request())]) + request()))),
    ('HEADERS pad = payload - 1', steps(frame(H, 0xd, 1, bytes([len(request()) + 1]) + request() + b'\0'))),
    ('HEADERS pad fits', steps(frame(H, 0xd, 1, b'\x02' + request() + b'\0\0'))),
    ('HEADERS pad nonzero', steps(frame(H, 0xd, 1, b'\x02' + request() + b'\1\1'))),
    ('HEADERS padded with no pad length', steps(frame(H, 0xd, 1, b''))),
    ('DATA pad = payload', steps(req(1, '/body', flags=4) + frame(D, 0x9, 1, b'\x03abc'))),
    ('DATA pad = payload - 1', steps(req(1, '/body', flags=4) + frame(D, 0x9, 1, b'\x03abc\0'))),
    ('DATA padded empty', steps(req(1, '/body', flags=4) + frame(D, 0x9, 1, b''))),
    ('DATA pad 0', steps(req(1, '/body', flags=4) + frame(D, 0x9, 1, b'\x00abc'))),
    ('DATA pad 255 fits', steps(req(1, '/body', flags=4) + frame(D, 0x9, 1, b'\xff' + b'a' + b'\0' * 255))),
    # other
    ('HEADERS on stream 0', steps(frame(H, 5, 0, request()))),
    ('CONTINUATION on other stream', steps(frame(H, 1, 1, request()) + frame(CONT, 4, 3, b''))),
    ('HEADERS while CONTINUATION expected', steps(frame(H, 1, 1, request()) + req(3))),
    ('RST_STREAM on stream 0', steps(frame(RST, 0, 0, u32(0)), req(1))),
    ('PING on stream 1', steps(frame(PING, 0, 1, b'12345678'), req(1))),
    ('WINDOW_UPDATE on half-closed (remote) stream', steps(req(1, '/lslow') + frame(WU, 0, 1, u32(100)), req(3))),
    # after the client's SETTINGS ACK (the server's values in force)
    ('DATA frame over 16384 after ACK', steps(req(1, '/lslow', flags=4), frame(D, 1, 1, b'x' * 16385))),
    ('unknown type over 16384 after ACK', steps(req(1), frame(0x20, 0, 0, b'y' * 20000), req(3))),
    ('DATA just the stream window after ACK', steps(req(1, '/lslow', flags=4), data(1, 65536, 1))),
    ('DATA over stream window after ACK', steps(req(1, '/lslow', flags=4), data(1, 65537, 1))),
    ('DATA over stream window after ACK, padded', steps(req(1, '/lslow', flags=4), data(1, 65536 - 10) + frame(D, 0x9, 1, b'\x09' + b'x' + b'\0' * 9))),
    ('DATA over window after ACK, then 3', steps(req(1, '/lslow', flags=4), data(1, 65537, 1), req(3))),
    ('WINDOW_UPDATE stream overflow (lua)', steps(req(1, '/lslow') + frame(WU, 0, 1, u32(0x7fffffff)), req(3))),
    ('WINDOW_UPDATE stream overflow in two', steps(req(1, '/lslow') + frame(WU, 0, 1, u32(0x40000000)) + frame(WU, 0, 1, u32(0x40000000)), req(3))),
    ('content-length 0, empty DATA END', steps(blk(1, request('/body') + CL(0), 4) + frame(D, 1, 1, b''))),
    ('content-length 0, DATA later', steps(blk(1, request('/body') + CL(0), 4), frame(D, 1, 1, b'a'))),
    ('content-length 0, empty DATA later', steps(blk(1, request('/body') + CL(0), 4), frame(D, 1, 1, b''))),
    ('content-length 0, DATA, not read', steps(blk(1, request('/t') + CL(0), 4) + frame(D, 1, 1, b'a'))),
    ('content-length 2, DATA 2 then more', steps(blk(1, request('/body') + CL(2), 4) + frame(D, 0, 1, b'ab'), frame(D, 1, 1, b'c'))),
    ('content-length 2, DATA 2 then empty END', steps(blk(1, request('/body') + CL(2), 4) + frame(D, 0, 1, b'ab'), frame(D, 1, 1, b''))),
    ('HEADERS priority flag, length 3', steps(frame(H, 0x25, 1, b'\0\0\0'))),
    ('HEADERS priority and padded, length 5', steps(frame(H, 0x2d, 1, b'\0\0\0\0\0'))),
    ('CONTINUATION on stream 0', steps(frame(H, 1, 1, request()) + frame(CONT, 4, 0, b''))),
    ('CONTINUATION alone', steps(frame(CONT, 4, 1, request()))),
    ('HEADERS padded length 1, pad 5', steps(frame(H, 0xd, 1, b'\x05'))),
    ('HEADERS padded priority length 6, pad 3', steps(frame(H, 0x2d, 1, b'\x03' + b'\0' * 5))),
    ('HEADERS no END_HEADERS, then padded DATA empty', steps(frame(H, 1, 1, request()) + frame(D, 8, 1, b''))),
    ('HEADERS no END_HEADERS, then short HEADERS', steps(frame(H, 1, 1, request()) + frame(H, 0x25, 3, b'\0'))),
    ('HEADERS no END_HEADERS, then PING, then CONTINUATION 3', steps(frame(H, 1, 1, request()) + frame(PING, 0, 0, b'12345678') + frame(CONT, 4, 3, b''))),
    # a content-length's worth, then the stream goes on (t/475)
    ('content-length 3, padded DATA', steps(blk(1, request('/body') + CL(3), 4) + frame(D, 9, 1, b'\x05abc' + b'\0' * 5))),
    ('content-length 3, abc, then RST_STREAM', steps(blk(1, request('/body') + CL(3), 4) + frame(D, 0, 1, b'abc'), frame(RST, 0, 1, u32(8)), req(3))),
    ('content-length 3, abc, WINDOW_UPDATE, empty DATA END', steps(blk(1, request('/body') + CL(3), 4) + frame(D, 0, 1, b'abc'), frame(WU, 0, 1, u32(100)), frame(D, 1, 1, b''))),
    ('content-length 3, abc, then trailers', steps(blk(1, request('/body') + CL(3), 4) + frame(D, 0, 1, b'abc'), blk(1, lit('x-t', 'a')))),
    ('content-length 2, ab, not read', steps(blk(1, request('/t') + CL(2), 4) + frame(D, 0, 1, b'ab'), frame(D, 1, 1, b'c'), req(3))),
    ('content-length 0, not read, DATA later', steps(blk(1, request('/lslow') + CL(0), 4), frame(D, 1, 1, b'x'), req(3))),
]
