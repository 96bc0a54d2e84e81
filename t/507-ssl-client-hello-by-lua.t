# ssl_client_hello_by_lua_block/_file and require "ngx.ssl.clienthello": the code runs on the
# ClientHello before SNI chose a server, reads its server name, extensions and supported
# versions, may change the protocols allowed, may wait; an error aborts the handshake.
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::SSL;

Test::Moongate::Certs::make();
log_level('info');

# a handshake with SNI $sni: the protocol negotiated, '' when it failed
sub handshake {
    my ($sni, %o) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, SSL_hostname => $sni, Timeout => 5,
                                 %o) or return '';
    my $v = $s->get_sslversion // '';
    close $s;
    return $v;
}

run_tests();

__DATA__

=== TEST 1: the server name, the supported versions and an extension's bytes
--- ssl: sni=a.test
--- config
    ssl_client_hello_by_lua_block {
        local ch = require "ngx.ssl.clienthello"
        local name = ch.get_client_hello_server_name()
        local versions = ch.get_supported_versions()
        local ext = ch.get_client_hello_ext(0)
        ngx.log(ngx.NOTICE, "hello: ", ngx.get_phase(), " ", name, " ",
                table.concat(versions, ","), " ext 0: ", #ext, " bytes, ext 65000: ",
                tostring(ch.get_client_hello_ext(65000)))
    }
    location / { return 200 "$ssl_server_name $ssl_protocol\n"; }
--- request
GET /
--- response_body
a.test TLSv1.2
--- error_log eval
qr/\[notice\] .* hello: ssl_client_hello a\.test TLSv1,TLSv1\.1,TLSv1\.2,TLSv1\.3 ext 0: 11 bytes, ext 65000: nil, context: ssl_client_hello_by_lua\*, client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+$/



=== TEST 2: no SNI: the server name is nil
--- ssl: sni=-
--- config
    ssl_client_hello_by_lua_block {
        local ch = require "ngx.ssl.clienthello"
        ngx.log(ngx.NOTICE, "hello without a name: ", tostring(ch.get_client_hello_server_name()))
    }
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok
--- error_log
hello without a name: nil



=== TEST 3: set_protocols allows TLSv1.3 where ssl_protocols did not
--- ssl
--- config
    ssl_protocols TLSv1.2;
    ssl_client_hello_by_lua_block {
        local ch = require "ngx.ssl.clienthello"
        if ch.get_client_hello_server_name() == "new.test" then
            assert(ch.set_protocols({"TLSv1.2", "TLSv1.3"}))
        end
        local ok, err = ch.set_protocols({"TLSv9"})
        ngx.log(ngx.NOTICE, "bad protocol: ", tostring(ok), " ", err)
    }
    location / { return 200 "$ssl_protocol\n"; }
--- init
Test::More::is(main::handshake('new.test'), 'TLSv1_3', "new.test gets TLSv1.3");
Test::More::is(main::handshake('old.test'), 'TLSv1_2', "the others TLSv1.2");
--- request
GET /
--- response_body
TLSv1.2
--- error_log
bad protocol: nil invalid protocols failed



=== TEST 4: an error aborts the handshake
--- ssl
--- config
    ssl_client_hello_by_lua_block {
        local ch = require "ngx.ssl.clienthello"
        if ch.get_client_hello_server_name() == "bad.test" then
            error("go away")
        end
    }
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::handshake('bad.test'), '', "the handshake failed");
--- request
GET /
--- response_body
ok
--- error_log eval
[qr/\[error\] .* lua entry thread aborted: runtime error: ssl_client_hello_by_lua(?:\(\w+\.conf:\d+\))?:4: go away$/,
 qr/\[info\] .* SSL_do_handshake\(\) failed .*callback failed/]



=== TEST 5: the code waits (ngx.sleep) while the handshake waits; ngx.exit(ngx.ERROR) aborts
# moongate_only: lua-nginx-module 0.10.23 on OpenSSL 3 loses the handshake when this code waits
--- moongate_only
--- ssl
--- config
    ssl_client_hello_by_lua_block {
        local ch = require "ngx.ssl.clienthello"
        ngx.sleep(0.05)
        if ch.get_client_hello_server_name() == "bad.test" then
            ngx.exit(ngx.ERROR)
        end
        ngx.log(ngx.NOTICE, "slept in the client hello")
    }
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::handshake('bad.test'), '', "the handshake failed");
--- request
GET /
--- response_body
ok
--- error_log
slept in the client hello



=== TEST 6: the clienthello API outside its phase
--- ssl
--- config
    location / {
        content_by_lua_block {
            local ch = require "ngx.ssl.clienthello"
            local ok, err = pcall(ch.get_client_hello_server_name)
            ngx.say(err)
        }
    }
--- request
GET /
--- response_body_like chomp
API disabled in the current context$



=== TEST 7: ssl_client_hello_by_lua_file; the code of the address's default server runs, before SNI
--- ssl
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl;
        server_name b.test;
        ssl_certificate $TEST_NGINX_CERT_DIR/b.test.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/b.test.key;
        ssl_client_hello_by_lua_file $TEST_NGINX_HTML_DIR/hello.lua;
    }
--- config
    ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
    ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
    ssl_client_hello_by_lua_block { ngx.log(ngx.ERR, "not the default server's") }
    location / { return 200 "$ssl_server_name\n"; }
--- user_files
>>> hello.lua
ngx.log(ngx.NOTICE, "hello from the file: ", require("ngx.ssl.clienthello").get_client_hello_server_name())
--- request
GET /
--- response_body
localhost
--- error_log
hello from the file: localhost
--- no_error_log
not the default server's
