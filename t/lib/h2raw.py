"""Header blocks written by hand for HTTP/2 tests of what a server measures in them: HPACK
representations (RFC 7541) with each string raw or Huffman-coded as the test says, in a
HEADERS frame or split over CONTINUATIONs, on a connection of raw frames; one() and Raw.wait()
tell what came back (a status, a GOAWAY's last stream and error code, the close)."""
import socket
import struct
import time

from hpack import Decoder
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH

_HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)


def huffman(s):
    """s Huffman-coded (bytes)"""
    return _HUFFMAN.encode(s.encode('latin-1') if isinstance(s, str) else s)


def hint(v, bits, first=0):
    """an HPACK integer with a prefix of bits, the first octet's other bits first"""
    top = (1 << bits) - 1
    if v < top:
        return bytes([first | v])
    out = [first | top]
    v -= top
    while v >= 128:
        out.append((v & 127) | 128)
        v >>= 7
    return bytes(out + [v])


def hstr(s, huff=False):
    """a string literal, Huffman-coded or raw"""
    if isinstance(s, str):
        s = s.encode('latin-1')
    if huff:
        s = huffman(s)
        return hint(len(s), 7, 0x80) + s
    return hint(len(s), 7) + s


# a literal's kinds: without indexing, never indexed, with incremental indexing
PLAIN, NEVER, INDEXED = 0x00, 0x10, 0x40


def lit(name, value, huff=False, kind=PLAIN):
    """a literal field with a literal name"""
    return hint(0, 6 if kind == INDEXED else 4, kind) + hstr(name, huff) + hstr(value, huff)


def lit_idx(index, value, huff=False, kind=PLAIN):
    """a literal field whose name is the table's entry index"""
    return hint(index, 6 if kind == INDEXED else 4, kind) + hstr(value, huff)


def idx(index):
    """an indexed field"""
    return hint(index, 7, 0x80)


def request(path='/t'):
    """GET path http, :authority localhost (static table names, raw values)"""
    return idx(2) + lit_idx(4, path) + idx(6) + lit_idx(1, 'localhost')


def frame(kind, flags, sid, payload):
    return struct.pack('>I', len(payload))[1:] + bytes([kind, flags]) + struct.pack('>I', sid) \
        + payload


class Raw:
    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=5)
        self.sock.sendall(b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + frame(4, 0, 0, b''))
        self.decoder = Decoder()
        self.buf = b''
        self.status = {}  # stream -> its response's status
        self.ended = set()
        self.goaway = None
        self.closed = False

    def send(self, sid, block, split=()):
        """a request's header block (END_STREAM), cut after each offset in split into a
        HEADERS frame and CONTINUATIONs"""
        cuts = [0] + list(split) + [len(block)]
        parts = [block[a:b] for a, b in zip(cuts, cuts[1:])]
        data = b''
        for i, p in enumerate(parts):
            flags = (0x1 if i == 0 else 0) | (0x4 if i == len(parts) - 1 else 0)
            data += frame(1 if i == 0 else 9, flags, sid, p)
        self.sock.sendall(data)

    def headers(self, sid, block, flags=0x5):
        """a HEADERS frame of its own (END_STREAM and END_HEADERS unless flags say otherwise)"""
        self.sock.sendall(frame(1, flags, sid, block))

    def frames(self):
        while len(self.buf) >= 9:
            n = int.from_bytes(self.buf[:3], 'big')
            if len(self.buf) < 9 + n:
                return
            kind, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], 'big') & 0x7fffffff
            p = self.buf[9:9 + n]
            self.buf = self.buf[9 + n:]
            if kind == 1:
                self.status[sid] = dict(self.decoder.decode(p)).get(':status')
            if kind in (0, 1) and flags & 0x1:
                self.ended.add(sid)
            elif kind == 3:
                self.status[sid] = 'RST %d' % int.from_bytes(p[:4], 'big')
                self.ended.add(sid)
            elif kind == 4 and not flags & 0x1:
                self.sock.sendall(frame(4, 0x1, 0, b''))
            elif kind == 7:
                self.goaway = (int.from_bytes(p[:4], 'big') & 0x7fffffff,
                               int.from_bytes(p[4:8], 'big'))

    def wait(self, sid, timeout=5.0):
        """the stream's status once it ended, or 'GOAWAY last code [closed]' once the
        connection ends (or the time's bound passed); sid 0: the connection's end"""
        deadline = time.time() + timeout
        while sid not in self.ended and not self.closed and time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                data = b''
            if not data:
                self.closed = True
            self.buf += data
            self.frames()
        if sid in self.ended:
            return str(self.status[sid])
        if self.goaway:
            return 'GOAWAY %d %d%s' % (self.goaway + (' closed' if self.closed else '',))
        return 'closed' if self.closed else 'nothing'


def one(port, fields, split=()):
    """fields (HPACK bytes) after the request's on a new connection, cut after each offset of
    split into fields: what came back, printed"""
    c = Raw(port)
    base = request()
    c.send(1, base + fields, [len(base) + k for k in split])
    print(c.wait(1))
