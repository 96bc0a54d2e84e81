# ssl_session_store_by_lua* and ssl_session_fetch_by_lua* per TLS version, as lua-nginx-module
# documents them and Debian's nginx 1.22 with its Lua module does: with TLS 1.2 session ids the
# store gets each new session (its id, its serialized form) and the fetch the id a client
# offers; a ticket (TLS 1.2 or 1.3) resumes without either. Each block's --- init connects
# twice with openssl s_client (the second offering the first's session) and counts the
# handlers' log lines; t/508 has the rest (bad input, error() in the fetch, ngx.sleep).
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');

# openssl s_client with $args: a request sent, read until the server closes (so a TLS 1.3
# ticket, sent after the handshake, has come before the session is saved)
sub s_client {
    my ($args) = @_;
    my $port = $Test::Moongate::ServerPort;
    my $req = "$Test::Moongate::ServRoot/req.txt";
    open my $fh, '>', $req or die $!;
    print $fh "GET / HTTP/1.0\r\n\r\n";
    close $fh;
    return scalar `timeout 10 openssl s_client -connect 127.0.0.1:$port -ign_eof $args < $req 2>&1`;
}

# two connections, the second offering the first's session: both outputs
sub twice {
    my ($args) = @_;
    my $f = "$Test::Moongate::ServRoot/sess.pem";
    unlink $f;
    my $first = s_client("$args -sess_out $f");
    return ($first, s_client("$args -sess_in $f"));
}

# the error log's lines matching $re so far
sub logged {
    my ($re) = @_;
    open my $fh, '<', "$Test::Moongate::LogDir/error.log" or return ();
    return grep { /$re/ } <$fh>;
}

# how a handshake went: "Reused, TLSv1.2" / "New, TLSv1.3" / "failed"
sub how { $_[0] =~ /^(Reused|New), (TLSv1\.\d)/m ? "$1, $2" : 'failed' }

run_tests();

__DATA__

=== TEST 1: TLS 1.2 session ids: the store gets the new session's id and its serialized form, the fetch the same id
--- ssl
--- http_config
    lua_shared_dict sessions 1m;
    ssl_session_store_by_lua_block {
        local sess = require "ngx.ssl.session"
        local id = assert(sess.get_session_id())
        local der = assert(sess.get_serialized_session())
        ngx.shared.sessions:set(id, der)
        ngx.log(ngx.NOTICE, "STORE id=", id, " der=", #der > 0 and "yes" or "no")
    }
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        local id = assert(sess.get_session_id())
        local der = ngx.shared.sessions:get(id)
        ngx.log(ngx.NOTICE, "FETCH id=", id, " ", der and "found" or "missing")
        if der then
            assert(sess.set_serialized_session(der))
        end
    }
--- config
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
my ($first, $second) = main::twice('-tls1_2 -no_ticket');
Test::More::is(main::how($second), 'Reused, TLSv1.2', 'the second connection resumed');
my @store = map { /STORE id=(\w+) der=(\w+)/ ? "$1 $2" : () } main::logged(qr/STORE id=/);
my @fetch = map { /FETCH id=(\w+) (\w+)/ ? "$1 $2" : () } main::logged(qr/FETCH id=/);
Test::More::is(scalar @store, 1, 'one store: the full handshake');
Test::More::like($store[0] // '', qr/^[0-9a-f]{64} yes$/, 'the store: a 32-byte id, a session');
my ($id) = split / /, $store[0] // '';
Test::More::is("@fetch", "$id found", 'one fetch, of the id stored');
--- request
GET /
--- response_body
ok



=== TEST 2: TLS 1.2 with a ticket: resumed by it, neither the fetch nor the store runs
--- ssl
--- http_config
    ssl_session_store_by_lua_block { ngx.log(ngx.NOTICE, "STORE") }
    ssl_session_fetch_by_lua_block { ngx.log(ngx.NOTICE, "FETCH") }
--- config
    location / { return 200 "ok\n"; }
--- init
my ($first, $second) = main::twice('-tls1_2');
Test::More::is(main::how($second), 'Reused, TLSv1.2', 'the second connection resumed');
Test::More::is(scalar(main::logged(qr/STORE|FETCH/)), 0, 'no store, no fetch');
--- request
GET /
--- response_body
ok



=== TEST 3: TLS 1.3 with tickets: resumed by them, neither the fetch nor the store runs
--- ssl
--- http_config
    ssl_session_store_by_lua_block { ngx.log(ngx.NOTICE, "STORE") }
    ssl_session_fetch_by_lua_block { ngx.log(ngx.NOTICE, "FETCH") }
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\n"; }
--- init
my ($first, $second) = main::twice('-tls1_3');
Test::More::is(main::how($second), 'Reused, TLSv1.3', 'the second connection resumed');
Test::More::is(scalar(main::logged(qr/STORE|FETCH/)), 0, 'no store, no fetch');
--- request
GET /
--- response_body
ok



=== TEST 4: TLS 1.3 with ssl_session_tickets off: the stateful tickets' sessions go through the store and the fetch
# moongate_only: nginx 1.22's lua-nginx-module runs neither for TLS 1.3 (a full handshake each
# time); moongate names the session by the id its stateful ticket carries (t/508 TEST 5)
--- moongate_only
--- ssl
--- http_config
    lua_shared_dict sessions 1m;
    ssl_session_store_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.shared.sessions:set(sess.get_session_id(), sess.get_serialized_session())
        ngx.log(ngx.NOTICE, "STORE id=", sess.get_session_id())
    }
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        local der = ngx.shared.sessions:get(sess.get_session_id())
        ngx.log(ngx.NOTICE, "FETCH id=", sess.get_session_id(), " ", der and "found" or "missing")
        if der then
            sess.set_serialized_session(der)
        end
    }
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
my ($first, $second) = main::twice('-tls1_3');
Test::More::is(main::how($second), 'Reused, TLSv1.3', 'the second connection resumed');
my @fetch = main::logged(qr/FETCH id=\w+ found/);
Test::More::is(scalar @fetch, 1, 'one fetch, found');
Test::More::ok(scalar(main::logged(qr/STORE id=/)) >= 1, 'stored');
--- request
GET /
--- response_body
ok



=== TEST 5: an error in the store's code: logged as lua-nginx-module does, the handshake goes on
--- ssl
--- http_config
    ssl_session_store_by_lua_block { error("store failed") }
--- config
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
my ($first, $second) = main::twice('-tls1_2 -no_ticket');
Test::More::is(main::how($first), 'New, TLSv1.2', 'a full handshake');
Test::More::like($first, qr{^HTTP/1\.1 200}m, 'the request answered');
Test::More::is(main::how($second), 'New, TLSv1.2', 'nothing stored: no resumption');
--- request
GET /
--- response_body
ok
--- error_log eval
qr/\[error\] .*failed to run session_store_by_lua\*: ssl_session_store_by_lua\(\w+\.conf:\d+\):1: store failed/
--- no_error_log
entry thread aborted



=== TEST 6: ngx.exit(ngx.ERROR) in the fetch's code: no session, a full handshake that stores a new one
--- ssl
--- http_config
    ssl_session_store_by_lua_block { ngx.log(ngx.NOTICE, "STORE") }
    ssl_session_fetch_by_lua_block { ngx.log(ngx.NOTICE, "FETCH"); ngx.exit(ngx.ERROR) }
--- config
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
my ($first, $second) = main::twice('-tls1_2 -no_ticket');
Test::More::is(main::how($second), 'New, TLSv1.2', 'a full handshake');
Test::More::like($second, qr{^HTTP/1\.1 200}m, 'the request answered');
Test::More::is(scalar(main::logged(qr/FETCH/)), 1, 'one fetch');
Test::More::is(scalar(main::logged(qr/STORE/)), 2, 'two stores');
--- request
GET /
--- response_body
ok



=== TEST 7: the fetch's code waits on a cosocket while the handshake waits
# moongate_only: on stock OpenSSL lua-nginx-module cannot wait there ("[crit] lua: cannot yield
# in sess get cb: missing async sess get cb support in OpenSSL", then a full handshake)
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
        local sock = ngx.socket.tcp()
        local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT)
        ngx.log(ngx.NOTICE, "FETCH connect: ", tostring(ok), " ", tostring(err))
        if ok then
            sock:close()
        end
        local der = ngx.shared.sessions:get(sess.get_session_id())
        if der then
            sess.set_serialized_session(der)
        end
    }
--- config
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
my ($first, $second) = main::twice('-tls1_2 -no_ticket');
Test::More::is(main::how($second), 'Reused, TLSv1.2', 'resumed after the wait');
--- request
GET /
--- response_body
ok
--- error_log
FETCH connect: 1 nil
