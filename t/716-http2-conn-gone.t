# A client that closes its HTTP/2 connection while requests on it are still running: each
# request goes on as one whose client went away (as an HTTP/1 request does) and is logged once,
# as nginx's: a Lua handler that sleeps finishes and logs 200, a proxied request is cut (499);
# over TLS the log still reads the connection's TLS facts ($ssl_protocol), which the streams
# keep after the connection itself is gone. The worker serves a new connection afterwards.
# The client closes once the request is known to run (its response head came, or the backend
# has it); the line is awaited in the log. A worker told to QUIT meanwhile waits for such a
# request before it exits.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/716-http2-conn-gone.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateBackend;
use Test::MoongateProc;

backend(slow => 'echo', delay => 2);
# the client closes once the backend has the request (it logs each one it reads)
$ENV{TEST_NGINX_SLOW_LOG} = Test::MoongateBackend::_log_file('slow');

plan 'no_plan';
log_level('info');

h2_blocks();

run_tests();

# QUIT while such a request runs on: the worker waits for it (it is logged) before it exits;
# TERM does not wait for it
for my $sig (qw(QUIT TERM)) {
    my $lua = join '', map { -f "/usr/lib/nginx/modules/$_.so"
                                 ? "load_module /usr/lib/nginx/modules/$_.so;\n" : '' }
                  qw(ndk_http_module ngx_http_lua_module);
    my $s = Test::MoongateProc->new(name => "gone$sig", workers => 1, listen => 'http2',
        main => is_nginx() ? $lua : '',
        http => qq{log_format gone "GONELOG \$request_uri \$status";\n},
        server => 'access_log logs/error.log gone;
            location /s { content_by_lua_block {
                ngx.send_headers() ngx.flush(true) ngx.sleep(tonumber(ngx.var.arg_s)) ngx.say("late")
            } }');
    ok(my $m = $s->start, "$sig: started");
    my $secs = $sig eq 'QUIT' ? 1 : 30;
    my $port = $s->port;
    my $Py = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    my $Lib = Test::Moongate::repo_root() . '/t/lib';
    my $out = `$Py - <<'PY'
import sys, os, signal
sys.path.insert(0, '$Lib')
from h2util import *
c = Client($port)
a = c.request('/s?s=$secs')
c.run(until=lambda: c.streams[a].status is not None)
c.sock.close()
os.kill($m, signal.SIG$sig)
print(c.streams[a].status)
PY`;
    is($out, "200\n", "$sig: the response head came, then the client closed and the master got $sig");
    ok(Test::MoongateProc::wait_gone(10, $m), "$sig: the master exited (TERM: before the 30 s sleep)");
    if ($sig eq 'QUIT') {
        like(Test::Moongate::slurp($s->error_log), qr{GONELOG /s\?s=1 200},
             'QUIT: the request that outlived its connection was finished and logged first');
    }
    $s->stop;
}

__DATA__

=== TEST 1: h2c: a Lua handler sleeping when the connection closes finishes and is logged 200
--- http_config
    log_format gone "GONELOG $request_uri $status $http2";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log gone;
    location /s { content_by_lua_block { ngx.send_headers() ngx.flush(true) ngx.sleep(0.3) ngx.say("late") } }
    location /ok { return 200 "ok\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/s')
c.run(until=lambda: c.streams[a].status is not None)
c.sock.close()
import time
time.sleep(0.6)
d = Client($TEST_NGINX_SERVER_PORT)
e = d.request('/ok')
d.wait(e)
print('then', d.streams[e].status)
--- h2_out
then 200
--- error_log
GONELOG /s 200 h2c
GONELOG /ok 200 h2c



=== TEST 2: h2 over TLS: the log line of a request that outlived its connection has the TLS facts (the SNI name too: the TLS state's, which the streams share)
--- ssl
--- http_config
    log_format gone "GONELOG $request_uri $status $http2 $ssl_protocol $https $ssl_server_name";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log gone;
    location /s { content_by_lua_block { ngx.send_headers() ngx.flush(true) ngx.sleep(0.3) ngx.say("late") } }
    location /ok { return 200 "ok\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT, tls=True)
a = c.request('/s')
c.run(until=lambda: c.streams[a].status is not None)
c.sock.close()
import time
time.sleep(0.6)
d = Client($TEST_NGINX_SERVER_PORT, tls=True)
e = d.request('/ok')
d.wait(e)
print('then', d.streams[e].status)
--- h2_out
then 200
--- error_log eval
qr/GONELOG \/s 200 h2 TLSv1\.[23] on localhost$/m



=== TEST 3: a proxied request whose h2 connection closes is cut and logged 499
--- http_config
    log_format gone "GONELOG $request_uri $status";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log gone;
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT; }
    location /ok { return 200 "ok\n"; }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/p')
c.flush()
import os, time
t = time.time()
while time.time() - t < 5 and not (os.path.exists('$TEST_NGINX_SLOW_LOG') and ' /p' in open('$TEST_NGINX_SLOW_LOG').read()):
    time.sleep(0.02)
c.sock.close()
d = Client($TEST_NGINX_SERVER_PORT)
e = d.request('/ok')
d.wait(e)
print('then', d.streams[e].status)
--- h2_out
then 200
--- error_log
GONELOG /p 499
