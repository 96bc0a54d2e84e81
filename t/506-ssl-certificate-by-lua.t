# ssl_certificate_by_lua_block/_file and require "ngx.ssl": the code runs in the handshake
# after SNI, may choose the certificate and key (DER strings or parsed PEM), read the
# addresses, name and version, ask for a client certificate, wait (ngx.sleep, a shared dict)
# while the handshake waits; an error or ngx.exit(ngx.ERROR) aborts the handshake.
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::SSL;
use Time::HiRes ();

Test::Moongate::Certs::make();
log_level('info');

our $Dir = $ENV{TEST_NGINX_CERT_DIR};

# a second server of the same instance, for the code's cosockets
our $port2 = env_port('TEST_NGINX_PORT2');

# the subject of the certificate the server shows for $sni ('' when the handshake fails)
sub peer_subject {
    my ($sni, %o) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, SSL_hostname => $sni, Timeout => 5,
                                 %o) or return '';
    my $subject = $s->peer_certificate('subject') // '';
    close $s;
    return $subject;
}

run_tests();

__DATA__

=== TEST 1: the code runs in the handshake, after SNI; its lines carry the handshake's context
--- ssl: sni=a.test
--- config
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        ngx.log(ngx.NOTICE, "cert by lua: ", ngx.get_phase(), " ", ssl.server_name(), " ",
                ssl.server_port() == $TEST_NGINX_SERVER_PORT,
                " ", ssl.get_tls1_version_str(), " ", ssl.get_tls1_version() == ssl.TLS1_2_VERSION)
    }
    location / { return 200 "$ssl_server_name\n"; }
--- request
GET /
--- response_body
a.test
--- error_log eval
qr/\[notice\] .* cert by lua: ssl_cert a\.test true TLSv1\.2 true, context: ssl_certificate_by_lua\*, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/



=== TEST 2: the certificate and key chosen by the server name (DER from PEM)
--- ssl: sni=b.test
--- config
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        local name = ssl.server_name()
        if name ~= "a.test" and name ~= "b.test" then
            return -- the configured one
        end
        local function slurp(f)
            local fh = assert(io.open("$TEST_NGINX_CERT_DIR/" .. f))
            local s = fh:read("*a")
            fh:close()
            return s
        end
        assert(ssl.clear_certs())
        local der = assert(ssl.cert_pem_to_der(slurp(name .. ".crt")))
        assert(ssl.set_der_cert(der))
        der = assert(ssl.priv_key_pem_to_der(slurp(name .. ".key")))
        assert(ssl.set_der_priv_key(der))
    }
    location / { return 200 "$ssl_server_name\n"; }
--- init
Test::More::like(main::peer_subject('a.test'), qr/CN ?= ?a\.test/, "a.test gets its certificate");
Test::More::like(main::peer_subject('other.test'), qr/CN ?= ?localhost/, "another name the configured one");
--- request
GET /
--- response_body
b.test



=== TEST 3: parsed PEM objects (set_cert/set_priv_key), an ECDSA key and a chain
--- ssl
--- config
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        local function slurp(f)
            local fh = assert(io.open("$TEST_NGINX_CERT_DIR/" .. f))
            local s = fh:read("*a")
            fh:close()
            return s
        end
        local chain = assert(ssl.parse_pem_cert(slurp("localhost-ec.crt") .. slurp("ca.crt")))
        local key = assert(ssl.parse_pem_priv_key(slurp("localhost-ec.key")))
        ssl.clear_certs()
        assert(ssl.set_cert(chain))
        assert(ssl.set_priv_key(key))
    }
    location / { return 200 "$ssl_cipher\n"; }
--- init
my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                             SSL_verify_mode => 1, SSL_ca_file => "$main::Dir/ca.crt",
                             SSL_hostname => 'localhost', SSL_version => 'TLSv1_2') or die "handshake: $SSL_ERROR";
Test::More::like($s->get_cipher, qr/ECDSA/, "the ECDSA key signs");
--- request
GET /
--- response_body_like chomp
^ECDHE-ECDSA-



=== TEST 4: bad input gets nil and lua-resty-core's messages
--- ssl
--- config
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        local r = {}
        r[#r + 1] = select(2, ssl.cert_pem_to_der("junk"))
        r[#r + 1] = select(2, ssl.priv_key_pem_to_der("junk"))
        r[#r + 1] = select(2, ssl.parse_pem_cert("junk"))
        r[#r + 1] = select(2, ssl.parse_pem_priv_key("junk"))
        r[#r + 1] = select(2, ssl.set_der_cert("junk"))
        r[#r + 1] = select(2, ssl.set_der_priv_key("junk"))
        ngx.log(ngx.WARN, "errors: ", table.concat(r, "|"))
    }
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok
--- error_log
errors: PEM_read_bio_X509_AUX() failed|PEM_read_bio_PrivateKey() failed|PEM_read_bio_X509_AUX() failed|PEM_read_bio_PrivateKey() failed|d2i_X509_bio() failed|d2i_PrivateKey_bio() failed



=== TEST 5: an error aborts the handshake (logged with its traceback); others are served
--- ssl
--- config
    ssl_certificate_by_lua_block {
        if require("ngx.ssl").server_name() == "bad.test" then
            error("no certificate for you")
        end
    }
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::peer_subject('bad.test'), '', "the handshake failed");
--- request
GET /
--- response_body
ok
--- error_log eval
[qr/\[error\] .* lua entry thread aborted: runtime error: ssl_certificate_by_lua\(\w+\.conf:\d+\):3: no certificate for you$/,
 qr/^stack traceback:$/,
 qr/\[info\] .* SSL_do_handshake\(\) failed \(SSL: error:0A000179:SSL routines::cert cb error\) while SSL handshaking, client: 127\.0\.0\.1/]



=== TEST 6: ngx.exit(ngx.ERROR) aborts, ngx.exit(ngx.OK) goes on
--- ssl
--- config
    ssl_certificate_by_lua_block {
        local name = require("ngx.ssl").server_name()
        if name == "bad.test" then
            ngx.exit(ngx.ERROR)
        end
        ngx.exit(ngx.OK)
        error("not reached")
    }
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::peer_subject('bad.test'), '', "ngx.ERROR: the handshake failed");
--- request
GET /
--- response_body
ok
--- no_error_log
not reached
[error]



=== TEST 7: the code waits (ngx.sleep, a shared dict) while the handshake waits
--- ssl
--- http_config
    lua_shared_dict certs 1m;
--- config
    ssl_certificate_by_lua_block {
        local dict = ngx.shared.certs
        dict:incr("handshakes", 1, 0)
        ngx.sleep(0.05)
        ngx.log(ngx.NOTICE, "slept, handshake ", dict:get("handshakes"))
    }
    location / { return 200 "ok\n"; }
--- init
Test::More::like(main::peer_subject('localhost'), qr/CN ?= ?localhost/, "a first handshake after the sleep");
--- request
GET /
--- response_body
ok
--- error_log eval
[qr/slept, handshake 1, context: ssl_certificate_by_lua\*/, qr/slept, handshake 2, context/]



=== TEST 8: the raw addresses
--- ssl
--- config
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        local function dotted(b) return table.concat({b:byte(1, -1)}, ".") end
        local client, ctyp = ssl.raw_client_addr()
        local server, styp = ssl.raw_server_addr()
        ngx.log(ngx.NOTICE, "client ", dotted(client), " ", ctyp, " server ", dotted(server), " ", styp)
    }
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok
--- error_log
client 127.0.0.1 inet server 127.0.0.1 inet



=== TEST 9: verify_client asks for a client certificate, checked against the CA given
--- ssl: cert=client.crt key=client.key
--- config
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        local fh = assert(io.open("$TEST_NGINX_CERT_DIR/ca.crt"))
        local ca = assert(ssl.parse_pem_cert(fh:read("*a")))
        fh:close()
        assert(ssl.verify_client(ca, 2))
    }
    location / { return 200 "$ssl_client_verify $ssl_client_s_dn\n"; }
--- request
GET /
--- response_body
SUCCESS CN=client



=== TEST 10: without a client certificate, verify_client lets the handshake go on
--- ssl
--- config
    ssl_certificate_by_lua_block {
        assert(require("ngx.ssl").verify_client())
    }
    location / { return 200 "$ssl_client_verify\n"; }
--- request
GET /
--- response_body
NONE



=== TEST 11: ssl_certificate_by_lua_file, given at the http{} level
--- ssl
--- http_config
    ssl_certificate_by_lua_file $TEST_NGINX_HTML_DIR/cert.lua;
--- user_files
>>> cert.lua
ngx.log(ngx.NOTICE, "from the file: ", require("ngx.ssl").server_name())
--- config
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok
--- error_log
from the file: localhost



=== TEST 12: ngx.ssl in a request over TLS
--- ssl
--- config
    location / {
        content_by_lua_block {
            local ssl = require "ngx.ssl"
            ngx.say(ssl.server_name(), " ", ssl.get_tls1_version_str())
        }
    }
--- request
GET /
--- response_body
localhost TLSv1.2



=== TEST 13: a handshake waiting for the code times out (client_header_timeout); the code stops
# The timeout is the second server's, the slow one's: the harness's own request goes to the
# first, whose handshake a loaded machine may keep past a short timeout. 2 s, not 1: a server
# stopped a second (t/tools/stall.sh) between the accept and the ClientHello timed out before the
# code ran ("while waiting for request").
--- ssl
--- http_config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2 ssl;
        client_header_timeout 2s;
        ssl_certificate_by_lua_block {
            if require("ngx.ssl").server_name() == "slow.test" then
                ngx.sleep(6)
                ngx.log(ngx.ERR, "woke up after the connection closed")
            end
        }
        location / { return 200 "ok\n"; }
    }
--- config
    location / { return 200 "ok\n"; }
--- init
my $t0 = Time::HiRes::time();
Test::More::is(main::peer_subject('slow.test', PeerPort => $main::port2, Timeout => 8), '',
               "the slow handshake failed");
# 2 s of timeout against 6 s of sleep (whole seconds of time() left a loaded run 1 s, not 2.5)
Test::More::cmp_ok(Time::HiRes::time() - $t0, '<', 5, "closed by the timeout, not after the sleep");
# a second past the sleep's end, had the code gone on (the no_error_log below)
my $left = $t0 + 7 - Time::HiRes::time();
Time::HiRes::sleep($left) if $left > 0;
--- request
GET /
--- response_body
ok
--- error_log eval
qr/client timed out \(110: Connection timed out\) while loading SSL certificate by lua, client: 127\.0\.0\.1/
--- no_error_log
woke up



=== TEST 14: the code may talk to another server through a cosocket while the handshake waits
--- ssl: sni=a.test
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location /pick { return 200 "picked for $arg_name\n"; }
    }
--- config
    ssl_certificate_by_lua_block {
        local ssl = require "ngx.ssl"
        local sock = ngx.socket.tcp()
        sock:settimeout(2000)
        local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_PORT2)
        if not ok then
            ngx.log(ngx.ERR, "connect: ", err)
            return
        end
        sock:send("GET /pick?name=" .. ssl.server_name() .. " HTTP/1.0\r\n\r\n")
        local body = sock:receive("*a")
        sock:close()
        ngx.log(ngx.NOTICE, "answer: ", body:match("picked for [%w.]+"))
    }
    location / { return 200 "$ssl_server_name\n"; }
--- request
GET /
--- response_body
a.test
--- error_log
answer: picked for a.test
--- no_error_log
[error]
