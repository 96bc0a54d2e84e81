# h2diff's cases (t/tools/h2diff.py): frames nginx takes, ignores or refuses in its own way.
# Each is (name, function(c)); h2raw's writers are in the globals. /t answers at once, /slow
# after 0.3 s (echo_sleep; /lslow: Lua's ngx.sleep), /body reads a request body.
import struct

H, D, PRIO, RST, SET, PP, PING, GOAWAY, WU, CONT = 1, 0, 2, 3, 4, 5, 6, 7, 8, 9


def u32(v):
    return struct.pack('>I', v)


def wu(sid, inc=1000):
    return frame(WU, 0, sid, u32(inc))


def rst(sid, code=8):
    return frame(RST, 0, sid, u32(code))


def prio(sid, dep=0, weight=16):
    return frame(PRIO, 0, sid, u32(dep) + bytes([weight]))


def goaway(last=0, code=0):
    return frame(GOAWAY, 0, 0, u32(last) + u32(code))


def req(sid, path='/t', flags=5, extra=b''):
    return frame(H, flags, sid, request(path) + extra)


def steps(*parts):
    """send each part, reading until quiet in between"""
    def run(c):
        for i, p in enumerate(parts):
            if i:
                c.settle()
            c.sendall(p)
    return run


def huff_bad_pad():
    # 'a' coded (5 bits 00011) and 11 bits of 1s padding: more than 7 bits of padding
    return b'\x00' + hstr('x-a') + b'\x82' + bytes([0b00011111, 0xff])


def huff_zero_pad():
    # 'a' then padding of 0s: padding must be the EOS prefix (1s)
    return b'\x00' + hstr('x-a') + b'\x81' + bytes([0b00011000])


def huff_eos():
    # the EOS symbol (30 bits of 1s) coded whole
    return b'\x00' + hstr('x-a') + b'\x84' + b'\xff\xff\xff\xff'


CASES = [
    # the known case (issue 17, 1): a whole request, then a block the HPACK walk refuses
    ('req then 5-octet index', steps(req(1) + frame(H, 5, 3, b'\xff\x80\x80\x80\x00'))),
    ('req then 5-octet index, apart', steps(req(1), frame(H, 5, 3, b'\xff\x80\x80\x80\x00'))),
    ('req then too large field', steps(req(1) + frame(H, 5, 3, request() + lit('x-a', 'a' * 1100)))),
    ('req then 5-octet length', steps(req(1) + frame(H, 5, 3, request() + hint(58, 4) + b'\x7f\x80\x80\x80\x00' + b'v' * 127))),
    ('slow then 5-octet index', steps(req(1, '/slow') + frame(H, 5, 3, b'\xff\x80\x80\x80\x00'))),
    ('slow, later 5-octet index', steps(req(1, '/slow'), frame(H, 5, 3, b'\xff\x80\x80\x80\x00'))),
    ('two reqs then 5-octet index', steps(req(1) + req(3) + frame(H, 5, 5, b'\xff\x80\x80\x80\x00'))),
    ('req then bad index', steps(req(1) + frame(H, 5, 3, request() + idx(70)))),
    ('slow then bad index', steps(req(1, '/slow') + frame(H, 5, 3, request() + idx(70)))),
    # the same with Lua's sleep: nginx's echo_sleep never ends after the connection's error
    # (nginx then keeps the connection for good), Lua's request runs to its end, then it closes
    ('lua slow then 5-octet index', steps(req(1, '/lslow') + frame(H, 5, 3, b'\xff\x80\x80\x80\x00'))),
    ('lua slow then HEADERS again', steps(req(1, '/lslow') + req(1, '/lslow'))),
    # frames on idle streams
    ('WINDOW_UPDATE idle 1, then 1', steps(wu(1), req(1))),
    ('WINDOW_UPDATE idle 1 with 1', steps(wu(1) + req(1))),
    ('WINDOW_UPDATE idle 5, then 1', steps(wu(5), req(1))),
    ('WINDOW_UPDATE idle 5, then 1 and 5', steps(wu(5), req(1), req(5))),
    ('WINDOW_UPDATE idle 2 (even)', steps(wu(2), req(1))),
    ('RST_STREAM idle 1, then 1', steps(rst(1), req(1))),
    ('RST_STREAM idle 1 with 1', steps(rst(1) + req(1))),
    ('RST_STREAM idle 5, then 1', steps(rst(5), req(1))),
    ('RST_STREAM idle 5, then 1, 5', steps(rst(5), req(1), req(5))),
    ('RST_STREAM idle 2 (even)', steps(rst(2), req(1))),
    ('PRIORITY idle 3, then 1, 3', steps(prio(3), req(1), req(3))),
    ('PRIORITY idle 5 dep 3, then 1, 3, 5', steps(prio(5, 3), req(1), req(3), req(5))),
    ('PRIORITY idle 2 (even)', steps(prio(2), req(1))),
    ('DATA idle 1', steps(frame(D, 1, 1, b'abc'), req(1))),
    ('DATA idle 5 after 1', steps(req(1), frame(D, 1, 5, b'abc'), req(3))),
    ('DATA skipped 3 after 5', steps(req(5), frame(D, 1, 3, b'abc'), req(7))),
    ('DATA stream 2 (even)', steps(frame(D, 1, 2, b'abc'), req(1))),
    ('WINDOW_UPDATE skipped 3 after 5', steps(req(5), wu(3), req(7))),
    ('RST_STREAM skipped 3 after 5', steps(req(5), rst(3), req(7))),
    ('PRIORITY skipped 3 after 5', steps(req(5), prio(3), req(7))),
    # DATA after END_STREAM
    ('DATA after END_STREAM, open', steps(req(1, '/slow') + frame(D, 1, 1, b'abc'))),
    ('DATA after END_STREAM, open, later', steps(req(1, '/slow'), frame(D, 1, 1, b'abc'))),
    ('DATA after END_STREAM, answered', steps(req(1), frame(D, 1, 1, b'abc'), req(3))),
    ('DATA after DATA END_STREAM', steps(req(1, '/slow', flags=4) + frame(D, 1, 1, b'x') + frame(D, 0, 1, b'y'))),
    ('DATA after body END, /body', steps(req(1, '/body', flags=4) + frame(D, 1, 1, b'x'), frame(D, 1, 1, b'y'), req(3))),
    ('empty DATA after END_STREAM, open', steps(req(1, '/slow') + frame(D, 1, 1, b''))),
    ('HEADERS after END_STREAM, open', steps(req(1, '/slow') + req(1, '/slow'))),
    ('DATA after RST_STREAM', steps(req(1, '/slow', flags=4) + rst(1) + frame(D, 1, 1, b'x'), req(3))),
    ('WINDOW_UPDATE after RST_STREAM', steps(req(1, '/slow') + rst(1) + wu(1), req(3))),
    ('RST_STREAM twice', steps(req(1, '/slow') + rst(1) + rst(1), req(3))),
    ('RST_STREAM with its return', steps(req(1) + rst(1), req(3))),
    ('RST_STREAM with its return, INTERNAL_ERROR', steps(req(1) + rst(1, 2), req(3))),
    ('WINDOW_UPDATE 0 on open stream', steps(req(1, '/slow') + frame(WU, 0, 1, u32(0)), req(3))),
    ('WINDOW_UPDATE 0 on closed stream', steps(req(1), frame(WU, 0, 1, u32(0)), req(3))),
    ('WINDOW_UPDATE overflow on open stream', steps(req(1, '/slow') + frame(WU, 0, 1, u32(0x7fffffff)), req(3))),
    ('RST_STREAM short', steps(req(1, '/slow') + frame(RST, 0, 1, b'\0\0\0'))),
    ('WINDOW_UPDATE short on stream', steps(req(1, '/slow') + frame(WU, 0, 1, b'\0\0\1'))),
    ('PRIORITY short', steps(req(1, '/slow') + frame(PRIO, 0, 1, b'\0\0\0\0'))),
    ('PRIORITY on open stream dep self', steps(req(1, '/slow') + prio(1, 1))),
    # the client's GOAWAY
    ('GOAWAY, then new stream', steps(goaway(), req(1))),
    ('GOAWAY with new stream', steps(goaway() + req(1))),
    ('slow, GOAWAY', steps(req(1, '/slow') + goaway(1))),
    ('slow, GOAWAY, then new stream', steps(req(1, '/slow') + goaway(1) + req(3))),
    ('req, GOAWAY after', steps(req(1), goaway(1))),
    ('GOAWAY error code', steps(req(1, '/slow') + goaway(1, 2))),
    ('slow, GOAWAY 0', steps(req(1, '/slow') + goaway(0))),
    ('slow, GOAWAY 0, then new stream', steps(req(1, '/slow') + goaway(0), req(3))),
    ('GOAWAY on stream 1', steps(frame(GOAWAY, 0, 1, u32(0) + u32(0)), req(1))),
    ('GOAWAY short', steps(frame(GOAWAY, 0, 0, u32(0)), req(1))),
    ('GOAWAY twice', steps(req(1, '/slow') + goaway(1) + goaway(0))),
    # HPACK strictness
    ('huffman padding over 7 bits', steps(frame(H, 5, 1, request() + huff_bad_pad()))),
    ('huffman padding of zeros', steps(frame(H, 5, 1, request() + huff_zero_pad()))),
    ('huffman EOS', steps(frame(H, 5, 1, request() + huff_eos()))),
    ('huffman bad in name', steps(frame(H, 5, 1, request() + b'\x00\x82' + bytes([0b00011111, 0xff]) + hstr('v')))),
    ('index 0', steps(frame(H, 5, 1, request() + b'\x80'))),
    ('index 62 empty table', steps(frame(H, 5, 1, request() + idx(62)))),
    ('index 61 last static', steps(frame(H, 5, 1, request() + idx(61)))),
    ('name index 62 empty table', steps(frame(H, 5, 1, request() + lit_idx(62, 'v')))),
    ('name index 70 indexing', steps(frame(H, 5, 1, request() + lit_idx(70, 'v', kind=INDEXED)))),
    ('size update at start', steps(frame(H, 5, 1, b'\x20' + request()))),
    ('size update 4096 at start', steps(frame(H, 5, 1, b'\x3f\xe1\x1f' + request()))),
    ('size update 4097 at start', steps(frame(H, 5, 1, b'\x3f\xe2\x1f' + request()))),
    ('size update 65536 at start', steps(frame(H, 5, 1, hint(65536, 5, 0x20) + request()))),
    ('size update mid block', steps(frame(H, 5, 1, request() + b'\x20'))),
    ('size update after one field', steps(frame(H, 5, 1, idx(2) + b'\x20' + request()[1:]))),
    ('two size updates at start', steps(frame(H, 5, 1, b'\x20\x3f\xe1\x1f' + request()))),
    ('three size updates at start', steps(frame(H, 5, 1, b'\x20\x20\x20' + request()))),
    ('size update in CONTINUATION start', steps(frame(H, 1, 1, request()) + frame(CONT, 4, 1, b'\x20'))),
    ('size update 0 then dynamic index', steps(
        frame(H, 5, 1, request() + lit('x-a', 'v', kind=INDEXED)), frame(H, 5, 3, b'\x20' + request() + idx(62)))),
    ('dynamic entry used', steps(frame(H, 5, 1, request() + lit('x-a', 'v', kind=INDEXED)), frame(H, 5, 3, request() + idx(62)))),
    ('block cut in a string', steps(frame(H, 5, 1, request() + b'\x00\x05ab'))),
    ('block cut in an integer', steps(frame(H, 5, 1, request() + b'\x0f'))),
    ('block cut after name', steps(frame(H, 5, 1, request() + b'\x00' + hstr('x-a')))),
    ('string length past block', steps(frame(H, 5, 1, request() + b'\x00\x7f\x10' + b'x' * 10))),
    ('empty block', steps(frame(H, 5, 1, b''))),
    ('empty block, then 3', steps(frame(H, 5, 1, b''), req(3))),
    ('huffman good', steps(frame(H, 5, 1, request() + lit('x-a', 'hello', huff=True)))),
    ('hpack error on 3 then 5', steps(req(1), frame(H, 5, 3, request() + idx(70)), req(5))),
    ('bad index with slow open, apart', steps(req(1, '/slow'), frame(H, 5, 3, request() + idx(70)))),
    # other frames
    ('PUSH_PROMISE from client', steps(frame(PP, 4, 1, u32(2) + request()))),
    ('PUSH_PROMISE after req', steps(req(1), frame(PP, 4, 1, u32(2) + request()))),
    ('SETTINGS unknown id', steps(frame(SET, 0, 0, struct.pack('>HI', 0x99, 1)), req(1))),
    ('SETTINGS short', steps(frame(SET, 0, 0, b'\0\1\0'), req(1))),
    ('SETTINGS ACK with payload', steps(frame(SET, 1, 0, struct.pack('>HI', 1, 1)), req(1))),
    ('SETTINGS header table 0', steps(frame(SET, 0, 0, struct.pack('>HI', 1, 0)), req(1), req(3))),
    ('SETTINGS ENABLE_PUSH 1', steps(frame(SET, 0, 0, struct.pack('>HI', 2, 1)), req(1))),
    ('PING', steps(frame(PING, 0, 0, b'12345678'), req(1))),
    ('PING ACK from client', steps(frame(PING, 1, 0, b'12345678'), req(1))),
    ('PING short', steps(frame(PING, 0, 0, b'1234'))),
    ('CONTINUATION without HEADERS after closed', steps(req(1), frame(CONT, 4, 1, b'\x82'))),
    ('DATA on stream 0', steps(frame(D, 0, 0, b'x'))),
    ('HEADERS padded pad too long', steps(frame(H, 0xd, 1, b'\xff' + request()))),
    ('DATA padded pad too long', steps(req(1, '/body', flags=4), frame(D, 0x9, 1, b'\x10abc'))),
    ('HEADERS priority on self after open', steps(req(1, '/slow'), frame(H, 0x25, 3, u32(3) + b'\x10' + request()))),
    ('HEADERS with priority dep on idle 7', steps(frame(H, 0x25, 1, u32(7) + b'\x10' + request()), req(7))),
    ('max streams then refused', steps(b''.join(req(i, '/slow') for i in range(1, 261, 2)))),
    ('DATA over window', steps(req(1, '/body', flags=4), frame(D, 0, 1, b'x' * 16384) * 5)),
]
