# Debian's lua-nginx-dns (OpenResty's lua-resty-dns), unchanged, on a UDP cosocket against
# Test::MoongateDNS (a DNS server on 127.0.0.1 the file starts): A and AAAA answers with their
# TTLs, NXDOMAIN and SERVFAIL as the library's errcode/errstr, a server that never answers
# (timeout after the retransmissions), a query from a timer. Unpacked by
# Test::MoongateLuaNginx.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/450-lua-nginx-dns.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateDNS;
use Test::MoongateLuaNginx;

plan 'no_plan';

my $lib = Test::MoongateLuaNginx::lib(qw(lua-nginx-dns));
$ENV{TEST_NGINX_LUA_NGINX} = $lib // '';
dns_start(
    'www.example.test' => { a => ['10.0.0.1', '10.0.0.2'], ttl => 120 },
    'six.example.test' => { aaaa => ['2001:db8::1'], ttl => 60 },
    'broken.example.test' => { rcode => 2 },
    'silent.example.test' => { drop => 1 },
);
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(moongate_skip => $Test::MoongateLuaNginx::Why) unless $lib;
    $block->set_value(http_config => <<'CONF');
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
    init_by_lua_block {
        function new_resolver(timeout)
            local resolver = require "nginx.dns.resolver"
            return assert(resolver:new({
                nameservers = { { "127.0.0.1", $TEST_NGINX_DNS_PORT } },
                retrans = 2, timeout = timeout or 2000,
            }))
        end
        function show(answers, err)
            if not answers then
                return ngx.say("failed: ", err)
            end
            if answers.errcode then
                return ngx.say("errcode ", answers.errcode, ": ", answers.errstr)
            end
            for _, a in ipairs(answers) do
                ngx.say(a.name, " type ", a.type, " ", a.address, " ttl ", a.ttl)
            end
            if #answers == 0 then ngx.say("no records") end
        end
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: A records (two addresses, their TTL), AAAA, and A asked of a name with only AAAA
--- config
    location /t {
        content_by_lua_block {
            local r = new_resolver()
            show(r:query("www.example.test"))
            local r2 = new_resolver()
            show(r2:query("six.example.test", { qtype = r2.TYPE_AAAA }))
            show(new_resolver():query("six.example.test"))
        }
    }
--- request
GET /t
--- response_body
www.example.test type 1 10.0.0.1 ttl 120
www.example.test type 1 10.0.0.2 ttl 120
six.example.test type 28 2001:db8:0:0:0:0:0:1 ttl 60
no records
--- no_error_log
[error]

=== TEST 2: NXDOMAIN and SERVFAIL come back as errcode and errstr, not as a failure
--- config
    location /t {
        content_by_lua_block {
            show(new_resolver():query("nothing.example.test"))
            show(new_resolver():query("broken.example.test"))
        }
    }
--- request
GET /t
--- response_body
errcode 3: name error
errcode 2: server failure

=== TEST 3: a server that never answers: the query fails after its retransmissions, with the timeout
--- config
    location /t {
        content_by_lua_block {
            local t0 = ngx.now()
            show(new_resolver(300):query("silent.example.test"))
            ngx.update_time()
            ngx.say("waited at least 0.5 s: ", ngx.now() - t0 >= 0.5)
        }
    }
--- request
GET /t
--- response_body_like chomp
^failed: failed to receive reply from UDP server 127\.0\.0\.1:\d+: timeout
waited at least 0\.5 s: true
$
--- error_log eval
qr/lua udp socket read timed out/

=== TEST 4: the name comes back as asked (case kept); a query from a timer alongside
--- config
    location /t {
        content_by_lua_block {
            local got
            ngx.timer.at(0, function()
                got = new_resolver():query("www.example.test")
            end)
            show(new_resolver():query("WWW.Example.Test"))
            for _ = 1, 50 do
                if got then break end
                ngx.sleep(0.05)
            end
            ngx.say("timer got ", got and #got)
        }
    }
--- request
GET /t
--- response_body
WWW.Example.Test type 1 10.0.0.1 ttl 120
WWW.Example.Test type 1 10.0.0.2 ttl 120
timer got 2
