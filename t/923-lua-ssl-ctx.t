# ngx.ctx of a TLS handshake's Lua code (ssl_client_hello_by_lua*, ssl_certificate_by_lua*,
# ssl_session_fetch_by_lua*, ssl_session_store_by_lua*) is one table for the connection's
# handshake phases, and every request on the connection inherits it, as OpenResty's (lua-resty-core
# 0.1.19 and lua-nginx-module 0.10.18 on): the request's own table has the handshake's as its
# metatable and __index, so reads fall through and writes stay the request's. A subrequest's
# and an internal redirect's table inherit it too; ngx.ctx = {...} and a capture's ctx option
# do not. The handshake's table goes with the connection.
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::SSL;

Test::Moongate::Certs::make();
log_level('info');

# a second, plain server of the same instance
our $port2 = env_port('TEST_NGINX_PORT2');

# TLS 1.2 without tickets, a session-id cache client side: a first connection and a resumed
# one, each sending "GET $uri": the two bodies, or the error
sub resumed_pair {
    my ($uri) = @_;
    my $ctx = IO::Socket::SSL::SSL_Context->new(SSL_verify_mode => 0, SSL_version => 'TLSv1_2',
                                                SSL_session_cache_size => 4)
        or return "context: $SSL_ERROR";
    my @bodies;
    for (1, 2) {
        my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $Test::Moongate::ServerPort,
                                     SSL_reuse_ctx => $ctx, SSL_hostname => 'localhost',
                                     SSL_session_key => 'k923', Timeout => 5)
            or return "handshake: $SSL_ERROR";
        print $s "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";
        local $/;
        my $resp = <$s> // '';
        push @bodies, ($s->get_session_reused ? 'reused ' : 'full ') . ($resp =~ /\r\n\r\n(.*)\z/s)[0];
        close $s;
    }
    return join '', @bodies;
}

run_tests();

__DATA__

=== TEST 1: every request on the connection inherits the certificate phase's ngx.ctx in all its phases; its writes stay its own
--- ssl
--- config
    ssl_certificate_by_lua_block {
        ngx.ctx.answer = 42
        ngx.ctx.handshakes = (ngx.ctx.handshakes or 0) + 1
    }
    location /t {
        rewrite_by_lua_block { ngx.ctx.seen = { "rewrite " .. ngx.ctx.answer } }
        access_by_lua_block { table.insert(ngx.ctx.seen, "access " .. ngx.ctx.answer) }
        content_by_lua_block {
            local ctx = ngx.ctx
            table.insert(ctx.seen, "content " .. ctx.answer)
            ngx.say(table.concat(ctx.seen, ", "), "; handshakes ", ctx.handshakes)
            ngx.say("own: ", tostring(rawget(ctx, "answer")), ", inherited: ",
                    getmetatable(ctx).answer, " ", getmetatable(ctx).__index == getmetatable(ctx))
            ctx.answer = ctx.answer + 1
            ngx.say("now ", ctx.answer)
        }
        header_filter_by_lua_block { ngx.header["X-Answer"] = ngx.ctx.answer }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                ngx.arg[1] = (ngx.arg[1] or "") .. "body filter " .. ngx.ctx.answer .. "\n"
            end
        }
        log_by_lua_block {
            -- the handshake's table is there to write on purpose: the two requests count
            local conn = getmetatable(ngx.ctx)
            conn.logged = (conn.logged or 0) + 1
            ngx.log(ngx.WARN, "log phase ", conn.logged, ": ", ngx.ctx.answer, ", handshake's ",
                    conn.answer)
        }
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_headers
X-Answer: 42
--- response_body eval
["rewrite 42, access 42, content 42; handshakes 1\nown: nil, inherited: 42 true\nnow 43\nbody filter 43\n",
 "rewrite 42, access 42, content 42; handshakes 1\nown: nil, inherited: 42 true\nnow 43\nbody filter 43\n"]
--- error_log
log phase 1: 43, handshake's 42
log phase 2: 43, handshake's 42
--- no_error_log
[error]



=== TEST 2: the client hello's table is the certificate phase's, then the requests'
--- ssl
--- config
    ssl_client_hello_by_lua_block {
        ngx.ctx.path = { "client hello" }
    }
    ssl_certificate_by_lua_block {
        table.insert(ngx.ctx.path, "certificate")
        ngx.ctx.self = ngx.ctx.__index == ngx.ctx
    }
    location /t {
        content_by_lua_block {
            table.insert(ngx.ctx.path, "request")
            ngx.say(table.concat(ngx.ctx.path, ", "), "; ", tostring(ngx.ctx.self))
        }
    }
--- request
GET /t
--- response_body
client hello, certificate, request; true
--- no_error_log
[error]



=== TEST 3: ngx.ctx = {...} in a request drops the inheritance; a subrequest and an internal redirect inherit; a capture's ctx option is used as given
--- ssl
--- config
    ssl_certificate_by_lua_block { ngx.ctx.from = "handshake" }
    location /assign {
        content_by_lua_block {
            ngx.say("before: ", ngx.ctx.from)
            ngx.ctx = { mine = 1 }
            ngx.say("after: ", tostring(ngx.ctx.from), " ", ngx.ctx.mine)
        }
    }
    location /sub {
        content_by_lua_block {
            ngx.print("sub: ", tostring(ngx.ctx.from), " ", tostring(ngx.ctx.parent))
        }
    }
    location /main {
        content_by_lua_block {
            ngx.ctx.parent = "main"
            ngx.say(ngx.location.capture("/sub").body)
            ngx.say(ngx.location.capture("/sub", { ctx = { parent = "given" } }).body)
        }
    }
    location /redirect {
        rewrite_by_lua_block { ngx.ctx.before = "redirect" }
        content_by_lua_block { ngx.exec("/target") }
    }
    location /target {
        content_by_lua_block {
            ngx.say("target: ", ngx.ctx.from, " ", tostring(ngx.ctx.before))
        }
    }
--- request eval
["GET /assign", "GET /main", "GET /redirect"]
--- response_body eval
["before: handshake\nafter: nil 1\n",
 "sub: handshake nil\nsub: nil given\n",
 "target: handshake nil\n"]
--- no_error_log
[error]



=== TEST 4: the session phases' ngx.ctx: a full handshake's store, a resumed one's fetch (a TLS 1.3 client's fresh handshake asks the fetch too)
--- ssl
--- http_config
    lua_shared_dict sessions 1m;
    ssl_session_store_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.shared.sessions:set(assert(sess.get_session_id()), assert(sess.get_serialized_session()))
        ngx.ctx.stored = true
    }
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        local der = ngx.shared.sessions:get(assert(sess.get_session_id()))
        if der then
            assert(sess.set_serialized_session(der))
        end
        ngx.ctx.fetched = der and "found" or "not found"
    }
--- config
    ssl_session_tickets off;
    ssl_certificate_by_lua_block { ngx.ctx.cert = true }
    location /t {
        content_by_lua_block {
            ngx.say("cert ", tostring(ngx.ctx.cert), ", stored ", tostring(ngx.ctx.stored),
                    ", fetched ", tostring(ngx.ctx.fetched))
        }
    }
--- init
Test::More::is(main::resumed_pair('/t'),
               "full cert true, stored true, fetched nil\n"
               . "reused cert nil, stored nil, fetched found\n",
               "a full handshake's phases, then a resumed one's fetch");
--- request
GET /t
--- response_body
cert true, stored true, fetched not found
--- no_error_log
[error]



=== TEST 5: a plain connection's requests inherit nothing; a timer's ngx.ctx is its own
--- ssl
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / {
            content_by_lua_block {
                ngx.print("plain: ", tostring(ngx.ctx.from), " ", tostring(getmetatable(ngx.ctx)))
            }
        }
    }
--- config
    ssl_certificate_by_lua_block { ngx.ctx.from = "handshake" }
    location /t {
        content_by_lua_block {
            local done
            assert(ngx.timer.at(0, function() done = tostring(ngx.ctx.from) end))
            for _ = 1, 200 do
                if done then break end
                ngx.sleep(0.01)
            end
            ngx.say("request: ", ngx.ctx.from, ", timer: ", done)
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_PORT2))
            assert(sock:send("GET / HTTP/1.0\r\nHost: x\r\n\r\n"))
            local resp = assert(sock:receive("*a"))
            ngx.say(resp:match("\r\n\r\n(.*)$"))
        }
    }
--- request
GET /t
--- response_body
request: handshake, timer: nil
plain: nil nil
--- no_error_log
[error]



=== TEST 6: resty.core.ctx's get_ctx_table: the handshake's table in the handshake, an inheriting one in the request (the given table)
--- ssl
--- config
    ssl_certificate_by_lua_block {
        local get_ctx_table = require("resty.core.ctx").get_ctx_table
        local t = get_ctx_table({ given = "handshake" })
        t.same = get_ctx_table() == ngx.ctx and get_ctx_table({}) == t
    }
    location /t {
        content_by_lua_block {
            local get_ctx_table = require("resty.core.ctx").get_ctx_table
            local mine = { own = 1 }
            local t = get_ctx_table(mine)
            ngx.say(t == mine, " ", t == ngx.ctx, " ", t.own, " ", t.given, " ", tostring(t.same),
                    " ", rawget(t, "given") == nil)
        }
    }
--- request
GET /t
--- response_body
true true 1 handshake true true
--- no_error_log
[error]



=== TEST 7: the handshake's table is released when its connection closes
--- ssl
--- http_config
    init_worker_by_lua_block { tables = setmetatable({}, { __mode = "k" }) }
--- config
    ssl_certificate_by_lua_block { tables[ngx.ctx] = true }
    location /t {
        content_by_lua_block {
            -- the earlier connections closed: only this one's table stays (a bounded wait
            -- for the server to see them close)
            local n
            for _ = 1, 300 do
                collectgarbage()
                collectgarbage()
                n = 0
                for _ in pairs(tables) do n = n + 1 end
                if n == 1 then break end
                ngx.sleep(0.01)
            end
            ngx.say("handshake tables alive: ", n, ", this one's: ",
                    tostring(tables[getmetatable(ngx.ctx)]))
        }
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_body eval
["handshake tables alive: 1, this one's: true\n",
 "handshake tables alive: 1, this one's: true\n",
 "handshake tables alive: 1, this one's: true\n"]
--- no_error_log
[error]



=== TEST 8: HTTP/2: every stream's request inherits its connection's table
--- ssl
--- listen_options: http2
--- config
    ssl_certificate_by_lua_block { ngx.ctx.answer = 42 }
    location /t {
        content_by_lua_block {
            local conn = getmetatable(ngx.ctx)
            conn.n = (conn.n or 0) + 1
            ngx.say(ngx.var.server_protocol, " request ", conn.n, ": ", ngx.ctx.answer)
        }
    }
--- init
my $url = "https://127.0.0.1:$Test::Moongate::ServerPort/t";
Test::More::is(scalar `curl -sk --http2 --max-time 10 $url $url`,
               "HTTP/2.0 request 1: 42\nHTTP/2.0 request 2: 42\n",
               "two streams of one connection");
--- request
GET /t
--- response_body
HTTP/1.1 request 1: 42
--- no_error_log
[error]
