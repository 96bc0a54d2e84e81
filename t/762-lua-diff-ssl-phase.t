# ssl_certificate_by_lua's API found differing from OpenResty's in a side-by-side run with
# Debian's nginx and its Lua module (0.10.23): light threads (ngx.thread.*) work there, and
# ngx.exit with a 2xx status goes on with the handshake as ngx.exit(ngx.OK) does (a special
# response status, as ngx.ERROR, aborts it).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/762-lua-diff-ssl-phase.t

use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::SSL;

Test::Moongate::Certs::make();

# whether a handshake with $sni succeeds
sub handshake_ok {
    my ($sni) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, SSL_hostname => $sni, Timeout => 5)
        or return 0;
    close $s;
    return 1;
}

plan 'no_plan';
run_tests();

__DATA__

=== TEST 1: a light thread in ssl_certificate_by_lua: spawned, waited for, its values returned
--- ssl: sni=a.test
--- config
    ssl_certificate_by_lua_block {
        local t = ngx.thread.spawn(function(a) ngx.sleep(0.001) return a * 2 end, 21)
        local ok, v = ngx.thread.wait(t)
        ngx.log(ngx.WARN, "thread: ", ok, " ", v)
    }
    location / { return 200 "ok\n"; }
--- request
GET /
--- response_body
ok
--- error_log
thread: true 42



=== TEST 2: ngx.exit(200) in ssl_certificate_by_lua goes on with the handshake; ngx.exit(403) aborts it
--- ssl
--- config
    ssl_certificate_by_lua_block {
        local name = require("ngx.ssl").server_name()
        if name == "s200.test" then
            ngx.exit(200)
        elseif name == "s403.test" then
            ngx.exit(403)
        end
    }
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::handshake_ok('s200.test'), 1, "ngx.exit(200): the handshake went on");
Test::More::is(main::handshake_ok('s403.test'), 0, "ngx.exit(403): the handshake failed");
--- request
GET /
--- response_body
ok
