# An HTTP/2 server (python3-h2) that misbehaves as its request's path says, for grpc_pass's
# failure tests (t/609): /rst-before resets the stream before any answer, /rst-after sends the
# head and a message then resets, /close-mid sends the head and a message then closes the
# connection, /no-trailers ends the stream with its last DATA (no trailers).
#
#   python3 h2_bad_server.py PORT
import socket
import sys
import threading

import h2.config
import h2.connection
import h2.events

MSG = b'\x00\x00\x00\x00\x02hi'


def serve(sock):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    paths = {}
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    paths[ev.stream_id] = dict(ev.headers).get(b':path', b'').decode()
                elif isinstance(ev, h2.events.DataReceived):
                    if not paths.get(ev.stream_id, '').endswith('/no-window'):
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if isinstance(ev, h2.events.StreamEnded):
                    sid = ev.stream_id
                    path = paths.get(sid, '')
                    head = [(':status', '200'), ('content-type', 'application/grpc')]
                    if path.endswith('/rst-before'):
                        conn.reset_stream(sid, 2)
                    elif path.endswith('/rst-after'):
                        conn.send_headers(sid, head)
                        conn.send_data(sid, MSG)
                        conn.reset_stream(sid, 2)
                    elif path.endswith('/close-mid'):
                        conn.send_headers(sid, head)
                        conn.send_data(sid, MSG)
                        sock.sendall(conn.data_to_send())
                        # a FIN, not a reset: what the proxy still sends is read first
                        sock.shutdown(socket.SHUT_WR)
                        sock.settimeout(5)
                        while sock.recv(65536):
                            pass
                        return
                    elif path.endswith('/hidden'):
                        conn.send_headers(sid, head + [('server', 'h2-up'),
                                                       ('date', 'Mon, 01 Jan 2001 00:00:00 GMT'),
                                                       ('x-accel-expires', '10'), ('x-up', '1')])
                        conn.send_data(sid, MSG, end_stream=True)
                    else:
                        conn.send_headers(sid, head)
                        conn.send_data(sid, MSG, end_stream=True)
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', int(sys.argv[1])))
    ls.listen(16)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


if __name__ == '__main__':
    main()
