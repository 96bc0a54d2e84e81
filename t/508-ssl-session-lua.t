# ssl_session_store_by_lua* and ssl_session_fetch_by_lua* (http{}) with require
# "ngx.ssl.session": the store's code keeps a new session where it likes (a shared dict here),
# the fetch's code gives it back for the id a client offers, and the client resumes. The
# fetch's code may wait (it runs on the ClientHello, where the handshake can wait for it).
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');

# openssl s_client connecting 6 times with one session: how many handshakes resumed
sub resumed {
    my ($args) = @_;
    my $port = $Test::Moongate::ServerPort;
    my $out = `timeout 20 openssl s_client -connect 127.0.0.1:$port -reconnect $args < /dev/null 2>&1`;
    my $n = () = $out =~ /^Reused, /mg;
    return $n;
}

# TLS 1.3: a session saved after its ticket came, then offered. The ticket comes after the
# handshake, before the response: the client sends a request and reads until the server closes
# (-ign_eof), so it has the ticket whatever the machine's load.
sub resumed_tls13 {
    my $port = $Test::Moongate::ServerPort;
    my $f = "$Test::Moongate::ServRoot/sess.pem";
    my $req = "$Test::Moongate::ServRoot/req.txt";
    open my $fh, '>', $req or die $!;
    print $fh "GET / HTTP/1.0\r\n\r\n";
    close $fh;
    my $cmd = "timeout 10 openssl s_client -connect 127.0.0.1:$port -tls1_3 -ign_eof";
    `$cmd -sess_out $f < $req 2>&1`;
    return `$cmd -sess_in $f < $req 2>&1` =~ /^Reused, TLSv1\.3/m ? 1 : 0;
}

run_tests();

__DATA__

=== TEST 1: sessions stored and fetched by Lua resume
--- ssl
--- http_config
    lua_shared_dict sessions 1m;
    ssl_session_store_by_lua_block {
        local sess = require "ngx.ssl.session"
        local id = assert(sess.get_session_id())
        local der = assert(sess.get_serialized_session())
        ngx.shared.sessions:set(id, der)
        ngx.log(ngx.NOTICE, "stored ", #id, " hex digits, ", ngx.get_phase())
    }
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        local id = assert(sess.get_session_id())
        local der = ngx.shared.sessions:get(id)
        ngx.log(ngx.NOTICE, "fetch ", ngx.get_phase(), ": ", der and "found" or "not found")
        if der then
            assert(sess.set_serialized_session(der))
        end
    }
--- config
    ssl_session_tickets off;
    location / { return 200 "$ssl_session_reused\n"; }
--- init
Test::More::is(main::resumed('-no_ticket -tls1_2'), 5, "every reconnection resumed");
--- request
GET /
--- response_body
.
--- error_log eval
[qr/stored 64 hex digits, ssl_session_store, context: ssl_session_store_by_lua\*, client: 127\.0\.0\.1/,
 qr/fetch ssl_session_fetch: found, context: ssl_session_fetch_by_lua\*/]



=== TEST 2: nothing fetched: full handshakes; bad input to set_serialized_session
--- ssl
--- http_config
    ssl_session_store_by_lua_block { ngx.log(ngx.NOTICE, "store called") }
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        local ok, err = sess.set_serialized_session("junk")
        ngx.log(ngx.NOTICE, "fetch: ", tostring(ok), " ", err)
    }
--- config
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::resumed('-no_ticket -tls1_2'), 0, "no reconnection resumed");
--- request
GET /
--- response_body
ok
--- error_log
store called
fetch: nil failed to de-serialize session



=== TEST 3: an error in the fetch's code is a full handshake, not a failed one
--- ssl
--- http_config
    lua_shared_dict sessions 1m;
    ssl_session_store_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.shared.sessions:set(sess.get_session_id(), sess.get_serialized_session())
    }
    ssl_session_fetch_by_lua_block { error("fetch failed") }
--- config
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::resumed('-no_ticket -tls1_2'), 0, "no reconnection resumed");
--- request
GET /
--- response_body
ok
--- error_log eval
qr/lua entry thread aborted: runtime error: ssl_session_fetch_by_lua\(\w+\.conf:\d+\):1: fetch failed/



=== TEST 4: the fetch's code waits (ngx.sleep) while the handshake waits
# moongate_only: on stock OpenSSL, lua-nginx-module's fetch cannot wait (it needs OpenResty's
# OpenSSL patch); moongate runs it on the ClientHello, where the handshake can wait
--- moongate_only
--- ssl
--- http_config
    lua_shared_dict sessions 1m;
    ssl_session_store_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.shared.sessions:set(sess.get_session_id(), sess.get_serialized_session())
    }
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.sleep(0.02)
        local der = ngx.shared.sessions:get(sess.get_session_id())
        if der then
            sess.set_serialized_session(der)
            ngx.log(ngx.NOTICE, "fetched after a sleep")
        end
    }
--- config
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::resumed('-no_ticket -tls1_2'), 5, "every reconnection resumed");
--- request
GET /
--- response_body
ok
--- error_log
fetched after a sleep



=== TEST 5: TLS 1.3: a stateful ticket's identity is the session id the fetch gets
# moongate_only: nginx 1.22's lua-nginx-module does not run the fetch for a TLS 1.3 client;
# moongate reads the identity from the ClientHello's pre_shared_key
--- moongate_only
--- ssl
--- http_config
    lua_shared_dict sessions 1m;
    ssl_session_store_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.shared.sessions:set(sess.get_session_id(), sess.get_serialized_session())
    }
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        local der = ngx.shared.sessions:get(sess.get_session_id())
        if der then
            sess.set_serialized_session(der)
        end
    }
--- config
    ssl_protocols TLSv1.3;
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::resumed_tls13(), 1, "the second connection resumed");
--- request
GET /
--- response_body
ok
