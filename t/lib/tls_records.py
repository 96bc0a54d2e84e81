# A TLS 1.2 client (AES-128-GCM) that walks the records a server sends after the handshake by
# their headers, and decrypts them through memory BIOs: one GET, then
#   "bytes N records L1 L2 ..."
# (N: the response bytes it read: HTTP/1's head and body, or HTTP/2's DATA; the L: the
# application data records' lengths in order, as on the wire).
#   tls_records.py PORT PATH PROTO     PROTO: h1 (HTTP/1.0), h11 (HTTP/1.1, Connection: close)
#                                      or h2 (python3-h2)
import socket, ssl, sys

port, path, proto = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers('ECDHE-RSA-AES128-GCM-SHA256')
if proto == 'h2':
    ctx.set_alpn_protocols(['h2'])
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname='localhost')
sock = socket.create_connection(('127.0.0.1', port), timeout=10)
raw, recs = b'', []


def pump():
    global raw
    d = sock.recv(65536)
    if not d:
        return False
    raw += d
    while len(raw) >= 5 and len(raw) >= 5 + int.from_bytes(raw[3:5], 'big'):
        n = int.from_bytes(raw[3:5], 'big')
        recs.append((raw[0], n))
        inc.write(raw[:5 + n])
        raw = raw[5 + n:]
    return True


def send(data=b''):
    if data:
        tls.write(data)
    sock.sendall(out.read())


def read():
    """Decrypted bytes, b'' at the end."""
    while True:
        try:
            return tls.read(65536)
        except ssl.SSLWantReadError:
            if not pump():
                return b''
        except ssl.SSLZeroReturnError:
            return b''


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        send()
        if not pump():
            sys.exit('the handshake broke off')
send()
first = len(recs)
got = 0
if proto == 'h2':
    import h2.config, h2.connection, h2.events, h2.settings
    h = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    h.initiate_connection()
    h.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
    h.increment_flow_control_window(1 << 20)
    h.send_headers(1, [(':method', 'GET'), (':path', path), (':scheme', 'https'),
                       (':authority', 'localhost')], end_stream=True)
    send(h.data_to_send())
    ended = False
    while not ended:
        d = read()
        if not d:
            break
        for ev in h.receive_data(d):
            if isinstance(ev, h2.events.DataReceived):
                got += len(ev.data)
            ended = ended or isinstance(ev, h2.events.StreamEnded)
else:
    ver = '1.1' if proto == 'h11' else '1.0'
    send(('GET %s HTTP/%s\r\nHost: localhost\r\nConnection: close\r\n\r\n'
          % (path, ver)).encode())
    while True:
        d = read()
        if not d:
            break
        got += len(d)
print('bytes', got, 'records', *[n for t, n in recs[first:] if t == 23])
