"""A small HTTP/2 client over python3-h2 for moongate's tests: raw control over frames
(streams beyond the limit, resets, floods, odd headers) and a record of what came back."""
import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.settings


# python-h2 takes any GOAWAY for the end of the connection; RFC 9113 6.8 lets the streams up to
# the last one named finish, which is what the tests look at: a client stays open on GOAWAY.
_SM = h2.connection.H2ConnectionStateMachine
_SM._transitions[(h2.connection.ConnectionState.CLIENT_OPEN,
                  h2.connection.ConnectionInputs.RECV_GOAWAY)] = (
    None, h2.connection.ConnectionState.CLIENT_OPEN)


def pattern(n):
    """The first n bytes of Test::MoongateBackend's generated bodies (its pattern(): lines of
    "%08d <54 letters>" giving their own offset), built in linear time: a `s += line` loop
    takes minutes of CPU for a megabyte, more than a test's waits allow on a loaded machine."""
    fill = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01'
    lines, size = [], 0
    while size < n:
        line = '%08d %s\n' % (size, fill)
        lines.append(line)
        size += len(line)
    return ''.join(lines)[:n].encode()


class Stream:
    def __init__(self):
        self.status = None
        self.headers = []
        self.body = b''
        self.ended = False
        self.reset = None  # the RST_STREAM error code
        self.informational = []  # statuses of 1xx responses
        self.trailers = None  # the trailing HEADERS' fields

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None


class Client:
    def __init__(self, port, tls=False, settings=None, validate=True, host='127.0.0.1',
                 sni='localhost', preamble=None):
        raw = socket.create_connection((host, port), timeout=5)
        if preamble:  # bytes before TLS or the preface: a PROXY protocol header
            raw.sendall(preamble)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(['h2'])
            raw = ctx.wrap_socket(raw, server_hostname=sni)
        self.sock = raw
        cfg = h2.config.H2Configuration(client_side=True, header_encoding='utf-8',
                                        validate_outbound_headers=validate,
                                        normalize_outbound_headers=validate,
                                        validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.streams = {}
        self.goaway = None  # (last_stream_id, error_code)
        self.closed = False
        self.pings = 0
        self.settings = 0  # SETTINGS frames (not ACKs) received from the server
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True

    def request(self, path, method='GET', headers=(), body=None, end=True, authority='localhost',
                scheme='http'):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(':method', method), (':path', path), (':scheme', scheme),
                (':authority', authority)] + list(headers)
        self.conn.send_headers(sid, hdrs, end_stream=body is None and end)
        self.streams[sid] = Stream()
        if body is not None:
            self.send_body(sid, body, end)
        self.flush()
        return sid

    def send_body(self, sid, body, end=True):
        while body:
            n = min(len(body), self.conn.local_flow_control_window(sid),
                    self.conn.max_outbound_frame_size)
            if n == 0:
                self.run(lambda: self.conn.local_flow_control_window(sid) > 0, 5)
                continue
            self.conn.send_data(sid, body[:n])
            body = body[n:]
            self.flush()
        if end:
            self.conn.end_stream(sid)
        self.flush()

    def raw(self, data):
        self.sock.sendall(data)

    def run(self, until=None, timeout=3.0):
        """Read and handle frames until until() is true, the peer closes, or timeout."""
        deadline = time.time() + timeout
        while not self.closed and not (until and until()):
            left = deadline - time.time()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except (ConnectionResetError, ssl.SSLError, OSError):
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            try:
                events = self.conn.receive_data(data)
            except Exception as e:  # the peer broke the protocol (for the test to see)
                print('client error:', type(e).__name__, e)
                self.closed = True
                break
            for ev in events:
                self.handle(ev)
            self.flush()
        return self

    def handle(self, ev):
        st = self.streams.get(getattr(ev, 'stream_id', None))
        if isinstance(ev, h2.events.ResponseReceived):
            st.headers = [(k, v) for k, v in ev.headers]
            st.status = st.header(':status')
        elif isinstance(ev, h2.events.TrailersReceived):
            st.trailers = [(k, v) for k, v in ev.headers]
        elif isinstance(ev, h2.events.InformationalResponseReceived):
            st.informational.append(dict(ev.headers).get(':status'))
        elif isinstance(ev, h2.events.DataReceived):
            st.body += ev.data
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            st.ended = True
        elif isinstance(ev, h2.events.StreamReset):
            if st:
                st.reset = int(ev.error_code)
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = (ev.last_stream_id, int(ev.error_code))
        elif isinstance(ev, h2.events.PingAckReceived):
            self.pings += 1
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            self.settings += 1

    def done(self, *sids):
        return lambda: all(self.streams[s].ended or self.streams[s].reset is not None
                           for s in sids)

    def wait(self, *sids, timeout=5.0):
        return self.run(self.done(*sids), timeout)


def load(port, seconds, conns=4, streams=8, tls=False, path='/', body_re=None, stop_file=None,
         ready_file=None):
    """Keep `streams` requests in flight on each of `conns` connections for `seconds`,
    reconnecting after a GOAWAY, as RFC 9113 6.8 allows a client: the streams above the last
    one the GOAWAY names were not processed and are sent again on the next connection. A
    request fails when it gets no complete 200 (a reset, a broken connection, another status,
    a body body_re does not match). With stop_file it runs until that file exists (`seconds`
    is then only a bound), and ready_file is created once a first request succeeded, so a test
    acts while the load is surely running, whatever the machine's speed. Returns a dict of
    counts and samples of the failures."""
    import os
    import re
    import threading
    res = {'ok': 0, 'failed': 0, 'retried': 0, 'goaways': 0, 'connections': 0, 'samples': []}
    lock = threading.Lock()
    deadline = time.time() + seconds
    # "end" is when sending stops: the deadline, or once stop_file appeared (checked now and
    # then: a stat per request would slow the load)
    end = deadline
    checked = [0.0]

    def running():
        nonlocal end
        now = time.time()
        if stop_file and end == deadline and now - checked[0] > 0.05:
            checked[0] = now
            if os.path.exists(stop_file):
                end = now
        return now < end
    pat = re.compile(body_re) if body_re else None

    def fail(why):
        with lock:
            res['failed'] += 1
            if len(res['samples']) < 5:
                res['samples'].append(why)

    def worker():
        pending = 0  # requests to send again on the next connection
        while running() or pending:
            try:
                c = Client(port, tls=tls)
            except OSError as e:
                fail('connect: %s' % e)
                time.sleep(0.05)
                continue
            with lock:
                res['connections'] += 1
            live = set()
            idle_since = time.time()
            while True:
                stop = c.goaway is not None or c.closed
                while not stop and len(live) < streams and (running() or pending):
                    try:
                        live.add(c.request(path))
                    except Exception:
                        break
                    pending = max(0, pending - 1)
                seen = c.goaway
                c.run(lambda: any(c.streams[s].ended or c.streams[s].reset is not None
                                  for s in live) or c.goaway != seen, 2)
                for s in list(live):
                    st = c.streams[s]
                    if st.ended:
                        live.discard(s)
                        idle_since = time.time()
                        if st.status != '200' or (pat and not pat.search(st.body.decode())):
                            fail('stream %d: %s %r' % (s, st.status, st.body[:60]))
                        else:
                            with lock:
                                res['ok'] += 1
                                if ready_file and res['ok'] == 1:
                                    open(ready_file, 'w').close()
                    elif st.reset is not None:
                        live.discard(s)
                        if c.goaway and s > c.goaway[0]:
                            pending += 1
                            with lock:
                                res['retried'] += 1
                        else:
                            fail('stream %d reset %d' % (s, st.reset))
                if c.goaway is not None:
                    last = c.goaway[0]
                    for s in [s for s in live if s > last]:
                        live.discard(s)
                        pending += 1
                        with lock:
                            res['retried'] += 1
                if live and time.time() - idle_since > 10:
                    for s in live:
                        st = c.streams[s]
                        fail('stream %d stuck: %s %r goaway=%r' % (s, st.status, st.body[:20],
                                                                     c.goaway))
                    break
                if c.closed or (c.goaway is not None and not live):
                    for s in live:
                        fail('stream %d: connection closed under it' % s)
                    if c.goaway is not None:
                        with lock:
                            res['goaways'] += 1
                    break
                if not live and not running() and not pending:
                    break
            try:
                c.sock.close()
            except OSError:
                pass
            if not running() and not pending:
                break

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return res


class Raw:
    """Frames by hand, for what a well-behaved client library refuses to send (streams beyond
    the limit, floods, CONTINUATION chains, odd header blocks). read() collects what comes back
    as (type name, flags, stream id, payload); headers are decoded into statuses[stream]."""

    TYPES = {0: 'DATA', 1: 'HEADERS', 2: 'PRIORITY', 3: 'RST_STREAM', 4: 'SETTINGS',
             5: 'PUSH_PROMISE', 6: 'PING', 7: 'GOAWAY', 8: 'WINDOW_UPDATE', 9: 'CONTINUATION'}

    def __init__(self, port, host='127.0.0.1'):
        import hpack
        self.sock = socket.create_connection((host, port), timeout=5)
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.buf = b''
        self.frames = []
        self.statuses = {}
        self.closed = False
        self.sock.sendall(b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + self.frame(4, 0, 0, b''))

    @staticmethod
    def frame(ftype, flags, sid, payload):
        return (len(payload).to_bytes(3, 'big') + bytes([ftype, flags]) +
                sid.to_bytes(4, 'big') + payload)

    def block(self, path='/', method='GET', extra=(), pseudo=None):
        hdrs = pseudo if pseudo is not None else [
            (':method', method), (':path', path), (':scheme', 'http'),
            (':authority', 'localhost')]
        return self.enc.encode(list(hdrs) + list(extra))

    def headers(self, sid, path='/', end_stream=True, end_headers=True, **kw):
        flags = (1 if end_stream else 0) | (4 if end_headers else 0)
        return self.frame(1, flags, sid, self.block(path, **kw))

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True

    def read(self, timeout=2.0, until=None):
        deadline = time.time() + timeout
        while not self.closed and not (until and until()):
            left = deadline - time.time()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            self.buf += data
            while len(self.buf) >= 9:
                n = int.from_bytes(self.buf[:3], 'big')
                if len(self.buf) < 9 + n:
                    break
                ftype, flags = self.buf[3], self.buf[4]
                sid = int.from_bytes(self.buf[5:9], 'big') & 0x7fffffff
                payload = self.buf[9:9 + n]
                self.buf = self.buf[9 + n:]
                name = self.TYPES.get(ftype, str(ftype))
                self.frames.append((name, flags, sid, payload))
                if name == 'HEADERS':
                    for k, v in self.dec.decode(payload):
                        if k in (':status', b':status'):
                            self.statuses[sid] = v if isinstance(v, str) else v.decode()
                elif name == 'SETTINGS' and not flags & 1:
                    self.send(self.frame(4, 1, 0, b''))
        return self

    def settled(self, timeout=10.0):
        """Read until the server acknowledged the preface's SETTINGS: it has read the preface,
        so what is sent next comes in reads of its own."""
        return self.read(timeout, until=lambda: any(
            name == 'SETTINGS' and flags & 1 for name, flags, sid, payload in self.frames))

    def goaway(self):
        for name, flags, sid, payload in self.frames:
            if name == 'GOAWAY':
                return (int.from_bytes(payload[:4], 'big') & 0x7fffffff,
                        int.from_bytes(payload[4:8], 'big'))
        return None

    def resets(self):
        return {sid: int.from_bytes(p[:4], 'big') for n, f, sid, p in self.frames
                if n == 'RST_STREAM'}


def server_rss():
    """The test server's resident memory in KiB (the process in the harness's pid file, or its
    one worker when a master runs), for checks that an attack leaves memory bounded."""
    import os
    pid = int(open(os.path.join(os.environ['TEST_NGINX_LOG_DIR'], 'moongate.pid')).read())
    try:
        kids = open('/proc/%d/task/%d/children' % (pid, pid)).read().split()
    except OSError:
        kids = []
    if kids:
        pid = int(kids[0])
    for line in open('/proc/%d/status' % pid):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0
