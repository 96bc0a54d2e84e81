# tcpsock:sslhandshake (lua-nginx-module's): sessions returned and resumed, server_name as
# SNI and for the name check, ssl_verify with lua_ssl_trusted_certificate (and without: the
# verify error as "20: ..."), the error strings and log lines, client certificates, protocols,
# receive/receiveuntil/send over TLS, a TLS connection through the keepalive pool, the
# handshake's timeout. The TLS servers are server{} blocks of the same configuration.
#
#   prove -I t/lib t/505-lua-socket-ssl.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/505-lua-socket-ssl.t

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
$ENV{TEST_NGINX_TLS_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_TLS2_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_TLS3_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_PLAIN_PORT} = Test::Moongate::find_free_port();
$ENV{TEST_NGINX_TLS4_PORT} = Test::Moongate::find_free_port();
our $Mute = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1,
                                  Proto => 'tcp') or die "listen: $!";
$ENV{TEST_NGINX_MUTE_PORT} = $Mute->sockport;

our $Servers = <<'EOF';
    init_by_lua_block {
        function show(...)
            local n = select("#", ...)
            local t = {}
            for i = 1, n do
                local v = select(i, ...)
                t[i] = type(v) == "string" and string.format("%q", v) or
                       type(v) == "userdata" and "userdata" or tostring(v)
            end
            ngx.say(n, ": ", table.concat(t, ", "))
        end
        -- one HTTP/1.1 exchange on sock: the body (Content-Length), or nil and the error
        function get(sock, uri)
            local ok, err = sock:send("GET " .. uri .. " HTTP/1.1\r\nHost: localhost\r\n\r\n")
            if not ok then return nil, err end
            local head, err = sock:receiveuntil("\r\n\r\n")()
            if not head then return nil, err end
            local len = tonumber(head:match("[Cc]ontent%-[Ll]ength: (%d+)"))
            return sock:receive(len)
        end
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        server_name localhost;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_verify_client optional_no_ca;
        location / {
            return 200 "sni=[$ssl_server_name] $ssl_protocol reused=$ssl_session_reused req=$connection_requests client=[$ssl_client_s_dn]";
        }
        location /big { alias html/big.txt; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS2_PORT ssl;
        server_name localhost;
        ssl_certificate $TEST_NGINX_CERT_DIR/expired.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/expired.key;
        location / { return 200 "expired"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS3_PORT ssl;
        server_name localhost;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        ssl_protocols TLSv1.2;
        location / { return 200 "tls12\n"; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_PLAIN_PORT;
        location / { return 200 "plain\n"; }
    }
EOF

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $Servers . ($block->http_config // ''));
});

log_level('info');

run_tests();

__DATA__

=== TEST 1: a handshake returns a session; send and receive over TLS; no SNI without a name
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            local sess, err = sock:sslhandshake()
            show(sess ~= nil, err)
            show(get(sock, "/"))
            sock:close()
        }
    }
--- request
GET /t
--- response_body
2: true, nil
1: "sni=[] TLSv1.2 reused=. req=1 client=[]"
--- no_error_log
[error]



=== TEST 2: reused_session false: true; server_name is sent as SNI
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            show(sock:sslhandshake(false, "localhost"))
            show(get(sock, "/"))
        }
    }
--- request
GET /t
--- response_body
1: true
1: "sni=[localhost] TLSv1.2 reused=. req=1 client=[]"



=== TEST 3: a session resumed by the next connection
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            local sess = assert(sock:sslhandshake())
            show(get(sock, "/"))
            sock:close()
            sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            show(sock:sslhandshake(sess) ~= nil)
            show(get(sock, "/"))
        }
    }
--- request
GET /t
--- response_body
1: "sni=[] TLSv1.2 reused=. req=1 client=[]"
1: true
1: "sni=[] TLSv1.2 reused=r req=1 client=[]"



=== TEST 4: ssl_verify without lua_ssl_trusted_certificate: the issuer is unknown
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            show(sock:sslhandshake(nil, "localhost", true))
            show(sock:send("x"))
        }
    }
--- request
GET /t
--- response_body
2: nil, "20: unable to get local issuer certificate"
2: nil, "closed"
--- error_log
lua ssl certificate verify error: (20: unable to get local issuer certificate)



=== TEST 5: lua_ssl_trusted_certificate: verified, the name matches; another name does not
--- config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            show(sock:sslhandshake(false, "localhost", true))
            show(get(sock, "/"))
            sock:close()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            show(sock:sslhandshake(false, "b.test", true))
        }
    }
--- request
GET /t
--- response_body
1: true
1: "sni=[localhost] TLSv1.2 reused=. req=1 client=[]"
2: nil, "certificate host mismatch"
--- error_log
lua ssl certificate does not match host "b.test"



=== TEST 6: an expired certificate
--- config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS2_PORT))
            show(sock:sslhandshake(false, "localhost", true))
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS2_PORT))
            show(sock:sslhandshake(false, "localhost", false))
            show(get(sock, "/"))
        }
    }
--- request
GET /t
--- response_body
2: nil, "10: certificate has expired"
1: true
1: "expired"



=== TEST 7: a client certificate from lua_ssl_certificate / lua_ssl_certificate_key
--- moongate_only: Debian's lua-nginx-module predates lua_ssl_certificate (0.10.21)
--- config
    lua_ssl_certificate $TEST_NGINX_CERT_DIR/client.crt;
    lua_ssl_certificate_key $TEST_NGINX_CERT_DIR/client.key;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            show(sock:sslhandshake(false))
            show(get(sock, "/"))
        }
    }
--- request
GET /t
--- response_body
1: true
1: "sni=[] TLSv1.2 reused=. req=1 client=[CN=client]"



=== TEST 8: lua_ssl_protocols: TLSv1.3 only against a TLSv1.2 server fails, TLSv1.3 is used where offered
--- config
    lua_ssl_protocols TLSv1.3;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS3_PORT))
            show(sock:sslhandshake(false))
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            show(sock:sslhandshake(false))
            show(get(sock, "/"))
        }
    }
--- request
GET /t
--- response_body
2: nil, "handshake failed"
1: true
1: "sni=[] TLSv1.3 reused=. req=1 client=[]"



=== TEST 9: a plain HTTP server: handshake failed
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_PLAIN_PORT))
            show(sock:sslhandshake(false))
        }
    }
--- request
GET /t
--- response_body
2: nil, "handshake failed"



=== TEST 10: the keepalive pool keeps the TLS connection: reused, no new handshake
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 3 do
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
                show(i, sock:getreusedtimes(), sock:sslhandshake(false))
                show(get(sock, "/"))
                show(sock:setkeepalive())
            end
        }
    }
--- request
GET /t
--- response_body
3: 1, 0, true
1: "sni=[] TLSv1.2 reused=. req=1 client=[]"
1: 1
3: 2, 1, true
1: "sni=[] TLSv1.2 reused=. req=2 client=[]"
1: 1
3: 3, 2, true
1: "sni=[] TLSv1.2 reused=. req=3 client=[]"
1: 1



=== TEST 11: 300 KB over TLS: receiveuntil, receive(size) and receive("*a")
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            assert(sock:sslhandshake(false))
            local body = assert(get(sock, "/big"))
            ngx.say(#body, " ", body == string.rep("0123456789", 30000))
            assert(sock:send("GET /big HTTP/1.0\r\nHost: localhost\r\n\r\n"))
            local all = assert(sock:receive("*a"))
            ngx.say(#all > 300000, " ", all:sub(-10))
        }
    }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/big.txt" or die $!;
print $fh "0123456789" x 30000;
close $fh;
--- request
GET /t
--- response_body
300000 true
true 0123456789



=== TEST 12: the handshake times out with the connect timeout
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_MUTE_PORT))
            sock:settimeout(300)
            show(sock:sslhandshake(false))
        }
    }
--- request
GET /t
--- response_body
2: nil, "timeout"



=== TEST 13: sslhandshake on a closed socket; too many arguments
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
            sock:close()
            show(sock:sslhandshake())
            show(pcall(sock.sslhandshake, sock, nil, nil, nil, nil, nil))
        }
    }
--- request
GET /t
--- response_body_like chomp
^2: nil, "closed"
2: false, ".*expecting 1 ~ 5 arguments \(including the object\), but seen 6"



=== TEST 14: lua_ssl_crl: a revoked server certificate fails verification
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS4_PORT ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/revoked.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/revoked.key;
        location / { return 200 "revoked"; }
    }
--- config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS4_PORT))
            show(sock:sslhandshake(false, "revoked", true))
        }
    }
    location /crl {
        lua_ssl_crl $TEST_NGINX_CERT_DIR/ca-crl.pem;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS4_PORT))
            show(sock:sslhandshake(false, "revoked", true))
        }
    }
--- request eval
["GET /t", "GET /crl"]
--- response_body eval
["1: true\n", "2: nil, \"23: certificate revoked\"\n"]



=== TEST 15: sslhandshake in a timer (the http{} level's lua_ssl_* settings)
--- http_config
    lua_shared_dict out 1m;
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_TLS_PORT))
                local ok, err = sock:sslhandshake(false, "localhost")
                local body = ok and get(sock, "/") or err
                ngx.shared.out:set("r", body)
            end)
            for i = 1, 100 do
                local r = ngx.shared.out:get("r")
                if r then ngx.say(r) return end
                ngx.sleep(0.02)
            end
            ngx.say("no answer")
        }
    }
--- request
GET /t
--- response_body
sni=[localhost] TLSv1.2 reused=. req=1 client=[]
