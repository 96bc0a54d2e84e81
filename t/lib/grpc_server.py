# A gRPC server for the grpc_pass tests (t/604-609), with grpc's generic handlers and raw
# bytes (no generated code): service test.Echo on 127.0.0.1:PORT, over TLS when a
# certificate and key are given.
#
#   python3 grpc_server.py PORT [CERT KEY]
#
# Methods (request and response messages are bytes):
#   Unary         "echo:" + the request; initial metadata x-init: 1, trailing x-trailer: t;
#                 "fail" aborts with INVALID_ARGUMENT "bad thing", "sleep" waits 3 s first,
#                 "meta" answers with the request's metadata (name=value, sorted), "peer"
#                 with the client's address (ipv4:127.0.0.1:PORT: one port, one connection)
#   ServerStream  the request is a count N: N messages "msg-0" ... "msg-(N-1)"
#   ClientStream  "got N: " + the requests joined with ","
#   Bidi          "bidi:" + each request, one answer per request as it comes
import sys
import time
from concurrent import futures

import grpc


def unary(req, ctx):
    ctx.send_initial_metadata((('x-init', '1'),))
    ctx.set_trailing_metadata((('x-trailer', 't'),))
    if req == b'fail':
        ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, 'bad thing')
    if req == b'sleep':
        time.sleep(3)
    if req == b'peer':
        return ctx.peer().encode()
    if req == b'meta':
        md = sorted('%s=%s' % (k, v) for k, v in ctx.invocation_metadata()
                    if not k.startswith('grpc-') and k != 'user-agent')
        return ('\n'.join(md)).encode()
    return b'echo:' + req


def server_stream(req, ctx):
    for i in range(int(req)):
        yield b'msg-%d' % i


def client_stream(it, ctx):
    got = list(it)
    return b'got %d: ' % len(got) + b','.join(got)


def bidi(it, ctx):
    for req in it:
        yield b'bidi:' + req


def main():
    port = int(sys.argv[1])
    handlers = {
        'Unary': grpc.unary_unary_rpc_method_handler(unary),
        'ServerStream': grpc.unary_stream_rpc_method_handler(server_stream),
        'ClientStream': grpc.stream_unary_rpc_method_handler(client_stream),
        'Bidi': grpc.stream_stream_rpc_method_handler(bidi),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler('test.Echo', handlers),))
    addr = '127.0.0.1:%d' % port
    if len(sys.argv) > 3:
        with open(sys.argv[2], 'rb') as f:
            cert = f.read()
        with open(sys.argv[3], 'rb') as f:
            key = f.read()
        server.add_secure_port(addr, grpc.ssl_server_credentials(((key, cert),)))
    else:
        server.add_insecure_port(addr)
    server.start()
    server.wait_for_termination()


if __name__ == '__main__':
    main()
