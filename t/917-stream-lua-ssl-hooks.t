# ssl_certificate_by_lua* and ssl_client_hello_by_lua* in stream{} TLS servers (issue 20), as
# stream-lua-nginx-module has them: the code runs in the handshake of a "listen ... ssl"
# session with require "ngx.ssl" / "ngx.ssl.clienthello" (server name, clear_certs and
# set_der_cert/set_der_priv_key, the client hello's server name, extensions and versions,
# set_protocols), may wait (ngx.sleep) while the handshake waits, and aborts it with an error
# (logged with its traceback, as lua-nginx-module's) or ngx.exit(ngx.ERROR); a handshake that
# times out while the code waits stops the code. Clients: IO::Socket::SSL with SNI.
# moongate only: Debian has no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::More;
use IO::Socket::SSL;
use Time::HiRes ();

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my $c = Test::Moongate::Certs::make();
my @p = map { Test::Moongate::find_free_port() } 1 .. 6;
my $s = Test::MoongateProc->new(name => 'stream_lua_ssl_hooks', workers => 1,
                                error_level => 'info');

# a handshake with $sni: the certificate's CN, the protocol and the server's first line, or
# "failed"
sub tls {
    my ($port, $sni, %o) = @_;
    my $t = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $port, SSL_verify_mode => 0,
                                 defined $sni ? (SSL_hostname => $sni) : (), Timeout => 5, %o)
        or return 'failed';
    my $cn = $t->peer_certificate('cn') // '-';
    my $line = <$t> // '';
    chomp $line;
    my $r = join ' ', $cn, $t->get_sslversion, $line;
    close $t;
    return $r;
}

my $certs = "    ssl_certificate $c/localhost.crt; ssl_certificate_key $c/localhost.key;";
$s->write_conf(stream => <<"EOF");
    lua_shared_dict d 1m;
    ssl_protocols TLSv1.2 TLSv1.3;
    # read by the master (the keys are its user's only)
    init_by_lua_block {
        pems = {}
        for _, n in ipairs({"a.test", "b.test"}) do
            for _, ext in ipairs({"crt", "key"}) do
                local f = assert(io.open("$c/" .. n .. "." .. ext))
                pems[n .. "." .. ext] = f:read("*a")
                f:close()
            end
        end
    }

    # the certificate chosen by the name the client sent; the code's line has its context
    server { listen 127.0.0.1:$p[0] ssl;
$certs
        ssl_certificate_by_lua_block {
            local ssl = require "ngx.ssl"
            local name = ssl.server_name()
            ngx.log(ngx.NOTICE, "cert by lua: ", ngx.get_phase(), " ", name, " ",
                    ssl.server_port() == $p[0], " ", ssl.get_tls1_version_str())
            if name ~= "a.test" and name ~= "b.test" then
                return -- the configured one
            end
            local crt, key = pems[name .. ".crt"], pems[name .. ".key"]
            assert(ssl.clear_certs())
            assert(ssl.set_der_cert(assert(ssl.cert_pem_to_der(crt))))
            assert(ssl.set_der_priv_key(assert(ssl.priv_key_pem_to_der(key))))
        }
        return "name=\$ssl_server_name\\n";
    }

    # the code waits (ngx.sleep) while the handshake waits; a shared dict counts
    server { listen 127.0.0.1:$p[1] ssl;
$certs
        ssl_certificate_by_lua_block {
            ngx.sleep(0.1)
            local n = ngx.shared.d:incr("slept", 1, 0)
            ngx.log(ngx.NOTICE, "slept, handshake ", n)
        }
        content_by_lua_block { ngx.say("content after ", ngx.shared.d:get("slept"), " sleeps") }
    }

    # an error or ngx.exit(ngx.ERROR) aborts; ngx.exit(ngx.OK) goes on
    server { listen 127.0.0.1:$p[2] ssl;
$certs
        ssl_certificate_by_lua_block {
            local name = require("ngx.ssl").server_name()
            if name == "err.test" then error("no certificate for you") end
            if name == "exit.test" then ngx.sleep(0.05) return ngx.exit(ngx.ERROR) end
            ngx.exit(ngx.OK)
        }
        return "served\\n";
    }

    # the client hello: its server name, an extension's bytes, its versions; set_protocols
    # lets TLSv1.3 through for one name where ssl_protocols says TLSv1.2
    server { listen 127.0.0.1:$p[3] ssl;
$certs
        ssl_protocols TLSv1.2;
        ssl_client_hello_by_lua_block {
            local ch = require "ngx.ssl.clienthello"
            local name = ch.get_client_hello_server_name()
            local ext = ch.get_client_hello_ext(0)
            local vers = ch.get_supported_versions()
            ngx.log(ngx.NOTICE, "hello: ", ngx.get_phase(), " ", name, " ext 0: ",
                    ext and #ext or "nil", " bytes, ext 65000: ", tostring(ch.get_client_hello_ext(65000)),
                    " versions ", vers and table.concat(vers, ",") or "nil")
            if name == "v13.test" then
                assert(ch.set_protocols({"TLSv1.2", "TLSv1.3"}))
            end
        }
        return "proto=\$ssl_protocol\\n";
    }

    # the client hello code waits, then aborts for one name; a Lua error aborts too
    server { listen 127.0.0.1:$p[4] ssl;
$certs
        ssl_client_hello_by_lua_block {
            local name = require("ngx.ssl.clienthello").get_client_hello_server_name()
            ngx.sleep(0.05)
            if name == "deny.test" then return ngx.exit(ngx.ERROR) end
            if name == "err.test" then error("go away") end
        }
        return "hello ok\\n";
    }

    # a handshake that times out while the code waits: the code stops
    server { listen 127.0.0.1:$p[5] ssl;
$certs
        ssl_handshake_timeout 500ms;
        ssl_certificate_by_lua_block {
            ngx.sleep(2)
            ngx.log(ngx.ERR, "woke after the timeout")
        }
        return "late\\n";
    }
EOF
$s->start or stop_here('the server did not start');

my $mark = $s->log_mark;
is(tls($p[0], 'a.test'), 'a.test TLSv1_3 name=a.test', 'ssl_certificate_by_lua: a.test gets its certificate (set_der_cert)');
is(tls($p[0], 'b.test'), 'b.test TLSv1_3 name=b.test', '... b.test its own');
is(tls($p[0], 'other.test'), 'localhost TLSv1_3 name=other.test', '... another name the configured one');
ok($s->wait_log(qr/\[notice\] .* cert by lua: ssl_cert a\.test true TLSv1\.3, context: ssl_certificate_by_lua\*, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[0]$/m, $mark),
   'the code\'s line: its phase, server name and port, the context of lua-nginx-module\'s');

is(tls($p[1], 'localhost'), 'localhost TLSv1_3 content after 1 sleeps', 'the code waits, then the handshake goes on');
is(tls($p[1], 'localhost'), 'localhost TLSv1_3 content after 2 sleeps', '... again');
ok($s->wait_log(qr/slept, handshake 2, context: ssl_certificate_by_lua\*/, $mark), '... the code ran to its end each time');

$mark = $s->log_mark;
is(tls($p[2], 'err.test'), 'failed', 'an error in ssl_certificate_by_lua: the handshake fails');
ok($s->wait_log(qr/\[error\] .* lua entry thread aborted: runtime error: ssl_certificate_by_lua\(\w+\.conf:\d+\):3: no certificate for you\nstack traceback:/, $mark),
   '... logged with its traceback');
ok($s->wait_log(qr/\[info\] .* SSL_do_handshake\(\) failed \(SSL: error:0A000179:SSL routines::cert cb error\) while SSL handshaking, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[2]/, $mark),
   '... and the handshake\'s failure at info');
is(tls($p[2], 'exit.test'), 'failed', 'ngx.exit(ngx.ERROR) after a wait: the handshake fails');
is(tls($p[2], 'ok.test'), 'localhost TLSv1_3 served', 'ngx.exit(ngx.OK) goes on');

$mark = $s->log_mark;
is(tls($p[3], 'a.test'), 'localhost TLSv1_2 proto=TLSv1.2', 'ssl_client_hello_by_lua runs; ssl_protocols holds');
ok($s->wait_log(qr/\[notice\] .* hello: ssl_client_hello a\.test ext 0: 11 bytes, ext 65000: nil versions [\w.,]*TLSv1\.3[\w.,]*, context: ssl_client_hello_by_lua\*, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[3]$/m, $mark),
   '... the client hello\'s server name, extension, versions; the context');
is(tls($p[3], 'v13.test'), 'localhost TLSv1_3 proto=TLSv1.3', 'set_protocols lets TLSv1.3 through for that client');
is(tls($p[3], undef), 'localhost TLSv1_2 proto=TLSv1.2', 'no SNI: served');
ok($s->wait_log(qr/hello: ssl_client_hello nil ext 0: nil bytes/, $mark), '... the server name is nil');

$mark = $s->log_mark;
is(tls($p[4], 'a.test'), 'localhost TLSv1_3 hello ok', 'the client hello code waits, the handshake goes on');
is(tls($p[4], 'deny.test'), 'failed', 'ngx.exit(ngx.ERROR) in ssl_client_hello_by_lua: the handshake fails');
is(tls($p[4], 'err.test'), 'failed', 'an error in it: the handshake fails');
ok($s->wait_log(qr/\[error\] .* lua entry thread aborted: runtime error: ssl_client_hello_by_lua\(\w+\.conf:\d+\):5: go away\nstack traceback:/, $mark),
   '... logged with its traceback');
ok($s->wait_log(qr/\[info\] .* SSL_do_handshake\(\) failed .*callback failed.* while SSL handshaking, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[4]/, $mark),
   '... the handshake\'s failure');

$mark = $s->log_mark;
my $t0 = Time::HiRes::time();
is(tls($p[5], 'localhost'), 'failed', 'ssl_handshake_timeout passes while the code waits: no handshake');
cmp_ok(Time::HiRes::time() - $t0, '<', 1.9, '... ended by the timeout, not by the code');
# the code would have logged 2 s after it started
Time::HiRes::sleep(2.5 - (Time::HiRes::time() - $t0)) if Time::HiRes::time() - $t0 < 2.5;
is(tls($p[1], 'localhost'), 'localhost TLSv1_3 content after 3 sleeps', 'the worker goes on serving');
unlike($s->log_since($mark), qr/woke after the timeout/, 'the waiting code was stopped with its connection');

unlike($s->log_since(0), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
$s->stop;
done_testing();
