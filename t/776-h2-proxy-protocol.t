# The PROXY protocol header on an h2 listener: its addresses are every stream's
# ($proxy_protocol_addr, _port), also for a request that runs on after its connection closed
# (the stream's connection keeps its own copy of them: the client connection's pool is gone).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/776-h2-proxy-protocol.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_blocks();

run_tests();

__DATA__

=== TEST 1: a stream's PROXY protocol addresses, and a request logged after its connection closed
--- listen_options: http2 proxy_protocol
--- http_config
    log_format pp "PPLOG $request_uri $proxy_protocol_addr:$proxy_protocol_port $remote_addr";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log pp;
    location /t { return 200 "$proxy_protocol_addr $proxy_protocol_port\n"; }
    location /slow {
        content_by_lua_block {
            ngx.sleep(0.5)
            ngx.say("late")
        }
    }
--- h2_py
pp = b'PROXY TCP4 192.0.2.7 127.0.0.1 5555 80\r\n'
c = Client($TEST_NGINX_SERVER_PORT, preamble=pp)
a = c.request('/t')
c.wait(a)
print(c.streams[a].status, c.streams[a].body)
b = c.request('/slow')
c.run(timeout=0.1)
c.sock.close()
--- h2_out
200 b'192.0.2.7 5555\n'
--- error_log eval
[qr/PPLOG \/t 192\.0\.2\.7:5555 127\.0\.0\.1/, qr/PPLOG \/slow 192\.0\.2\.7:5555 127\.0\.0\.1/]
