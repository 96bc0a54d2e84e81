# stream{}: ngx.ctx of a TLS session's handshake code (ssl_client_hello_by_lua*,
# ssl_certificate_by_lua*) is one table for both phases, and the session's preread, content and
# log phases inherit it, as stream-lua-nginx-module's with lua-resty-core 0.1.19 on: the
# session's table has it as metatable and __index (reads fall through, writes stay the
# session's); ngx.ctx = {...} drops it; resty.core.ctx's get_ctx_table gives the same tables;
# the handshake's table goes with the connection. (The http side is t/923.)
# moongate only: Debian has no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::More;
use IO::Socket::SSL;

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my $c = Test::Moongate::Certs::make();
my @p = map { Test::Moongate::find_free_port() } 1 .. 4;
my $s = Test::MoongateProc->new(name => 'stream_lua_ssl_ctx', workers => 1,
                                error_level => 'info');

# what the server says on one connection (TLS unless $plain), until it closes
sub session {
    my ($port, $plain) = @_;
    my $t = $plain
        ? IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
        : IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $port, SSL_verify_mode => 0,
                               SSL_hostname => 'localhost', Timeout => 5);
    return "failed: " . ($plain ? $! : $SSL_ERROR) unless $t;
    local $/;
    my $got = <$t> // '';
    close $t;
    return $got;
}

my $certs = "    ssl_certificate $c/localhost.crt; ssl_certificate_key $c/localhost.key;";
$s->write_conf(stream => <<"EOF");
    init_worker_by_lua_block { tables = setmetatable({}, { __mode = "k" }) }

    # both handshake phases, then preread, content and log
    server { listen 127.0.0.1:$p[0] ssl;
$certs
        ssl_client_hello_by_lua_block { ngx.ctx.path = { "client hello" } }
        ssl_certificate_by_lua_block {
            table.insert(ngx.ctx.path, "certificate")
            ngx.ctx.answer = 42
            tables[ngx.ctx] = true
        }
        preread_by_lua_block {
            table.insert(ngx.ctx.path, "preread")
            ngx.ctx.answer = ngx.ctx.answer + 1
        }
        content_by_lua_block {
            local ctx = ngx.ctx
            local conn = getmetatable(ctx)
            table.insert(ctx.path, "content")
            ngx.say(table.concat(ctx.path, ", "), "; answer ", ctx.answer, ", handshake's ",
                    conn.answer, ", own path ", tostring(rawget(ctx, "path")), ", ",
                    conn.__index == conn, " ", tables[conn])
            -- the earlier sessions' connections closed: only this one's table stays (a
            -- bounded wait for the server to see them close)
            local n
            for _ = 1, 300 do
                collectgarbage()
                collectgarbage()
                n = 0
                for _ in pairs(tables) do n = n + 1 end
                if n == 1 then break end
                ngx.sleep(0.01)
            end
            ngx.say("handshake tables alive: ", n)
        }
        log_by_lua_block {
            ngx.log(ngx.NOTICE, "log phase: ", table.concat(ngx.ctx.path, ", "), "; ",
                    ngx.ctx.answer, " ", getmetatable(ngx.ctx).answer)
        }
    }

    # ngx.ctx = {...} drops the inheritance; get_ctx_table in both
    server { listen 127.0.0.1:$p[1] ssl;
$certs
        ssl_certificate_by_lua_block {
            local get_ctx_table = require("resty.core.ctx").get_ctx_table
            local t = get_ctx_table({ from = "handshake" })
            t.same = t == ngx.ctx and get_ctx_table({}) == t and t.__index == t
        }
        preread_by_lua_block {
            local get_ctx_table = require("resty.core.ctx").get_ctx_table
            local mine = { own = 1 }
            local t = get_ctx_table(mine)
            ngx.ctx.preread = table.concat({ tostring(t == mine), tostring(t == ngx.ctx), t.own,
                                             t.from, tostring(t.same),
                                             tostring(rawget(t, "from")) }, " ")
        }
        content_by_lua_block {
            ngx.say("preread: ", ngx.ctx.preread)
            ngx.ctx = { replaced = true }
            ngx.say("replaced: ", tostring(ngx.ctx.from), " ", ngx.ctx.replaced)
        }
    }

    # TLS without handshake code, and plain: nothing to inherit
    server { listen 127.0.0.1:$p[2] ssl;
$certs
        content_by_lua_block { ngx.say("tls: ", tostring(getmetatable(ngx.ctx))) }
    }
    server { listen 127.0.0.1:$p[3];
        content_by_lua_block { ngx.say("plain: ", tostring(getmetatable(ngx.ctx))) }
    }
EOF
$s->start or stop_here('the server did not start');

my $mark = $s->log_mark;
my $want = "client hello, certificate, preread, content; answer 43, handshake's 42, own path nil,"
    . " true true\nhandshake tables alive: 1\n";
is(session($p[0]), $want, 'the session inherits the handshake phases\' table in preread and content');
ok($s->wait_log(qr/\[notice\] .* log phase: client hello, certificate, preread, content; 43 42/,
                $mark), '... and in the log phase');
is(session($p[0]), $want, 'a second session: its own handshake table; the first one\'s is gone');
is(session($p[0]), $want, '... again');

is(session($p[1]), "preread: true true 1 handshake true nil\nreplaced: nil true\n",
   'get_ctx_table: the handshake\'s table, then a given one inheriting it; ngx.ctx = {...} drops it');
is(session($p[2]), "tls: nil\n", 'TLS without handshake code: no metatable');
is(session($p[3], 1), "plain: nil\n", 'plain: no metatable');

unlike($s->log_since(0), qr/\[(error|alert|crit|emerg)\]/, 'no error in the error log');
$s->stop;
done_testing();
