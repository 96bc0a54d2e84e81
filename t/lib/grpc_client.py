# A gRPC client for the grpc_pass tests (t/604-609): calls test.Echo (t/lib/grpc_server.py)
# through the server under test and prints what came back, one line each: the messages,
# then "status CODE MESSAGE", then the initial and trailing metadata it names with -m.
# -H NAME=VALUE sends metadata with a unary call.
#
#   python3 grpc_client.py [--tls CA [--name NAME]] [--timeout S] [-m KEY]... [-H K=V]... HOST:PORT MODE ARG...
#
# MODE: unary MSG | sstream N | cstream MSG... | bidi MSG... (each answer awaited before the
# next message goes, so the two directions interleave)
import queue
import sys

import grpc


def main():
    args = sys.argv[1:]
    tls = name = None
    timeout = 30.0  # a call's deadline, room for a 20000-message stream on a loaded machine
    keys = []
    sent = []
    while args and args[0].startswith('-'):
        opt = args.pop(0)
        if opt == '--tls':
            tls = args.pop(0)
        elif opt == '--name':
            name = args.pop(0)
        elif opt == '--timeout':
            timeout = float(args.pop(0))
        elif opt == '-m':
            keys.append(args.pop(0))
        elif opt == '-H':
            k, v = args.pop(0).split('=', 1)
            sent.append((k, v))
    target, mode, rest = args[0], args[1], [a.encode() for a in args[2:]]
    if tls:
        with open(tls, 'rb') as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        opts = (('grpc.ssl_target_name_override', name),) if name else ()
        ch = grpc.secure_channel(target, creds, options=opts)
    else:
        ch = grpc.insecure_channel(target)
    ident = lambda b: b
    out = []
    call = None
    try:
        if mode == 'unary':
            f = ch.unary_unary('/test.Echo/Unary', ident, ident)
            resp, call = f.with_call(rest[0], timeout=timeout, metadata=sent)
            out.append(resp)
        elif mode == 'sstream':
            call = ch.unary_stream('/test.Echo/ServerStream', ident, ident)(rest[0], timeout=timeout)
            out.extend(call)
        elif mode == 'cstream':
            f = ch.stream_unary('/test.Echo/ClientStream', ident, ident)
            resp, call = f.with_call(iter(rest), timeout=timeout)
            out.append(resp)
        elif mode == 'bidi':
            q = queue.Queue()
            q.put(rest[0])
            left = list(rest[1:])

            def gen():
                while True:
                    m = q.get()
                    if m is None:
                        return
                    yield m

            call = ch.stream_stream('/test.Echo/Bidi', ident, ident)(gen(), timeout=timeout)
            for resp in call:
                out.append(resp)
                q.put(left.pop(0) if left else None)
        code, details = call.code(), call.details()
    except grpc.RpcError as e:
        call = e
        code, details = e.code(), e.details()
    for m in out:
        print(m.decode())
    print('status', code.name, details or '')
    md = {}
    for get in ('initial_metadata', 'trailing_metadata'):
        try:
            for k, v in getattr(call, get)() or ():
                md.setdefault(k, v)
        except Exception:
            pass
    for k in keys:
        print(k, md.get(k))


if __name__ == '__main__':
    main()
