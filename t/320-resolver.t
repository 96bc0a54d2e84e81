# resolver and resolver_timeout: proxy_pass with variables naming a host that is not an
# upstream{} block, resolved at run time by the asynchronous DNS client (A and AAAA, answers
# cached for valid= or the TTL), nginx's 502s and log lines when there is no resolver, the
# name does not exist, the server fails or does not answer; inheritance from http to
# location; every address a peer (next upstream); the cosockets (tcp and udp) connecting to
# names; and -t's verdicts on bad arguments. The DNS server is Test::MoongateDNS, on
# 127.0.0.1: never the real network.
#
#   prove -I t/lib t/320-resolver.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/320-resolver.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDNS;
use IO::Socket::INET;

backend(a => 'echo');
backend(t => 'rawecho');
backend(u => 'udpecho');

# a port nobody listens on, UDP and TCP (bound once to find it, then freed)
{
    my $s = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1:0') or die "udp: $!";
    $ENV{TEST_NGINX_NOONE_PORT} = $s->sockport;
}

dns_start(
    'a.test'     => { a => ['127.0.0.1'] },
    'A.Mixed'    => { a => ['127.0.0.1'] },
    'two.test'   => { a => ['127.0.0.2', '127.0.0.1'] },
    'bad.test'   => { rcode => 2 },
    'refuse.test' => { rcode => 5 },
    'slow.test'  => { drop => 1 },
    'empty.test' => {},
    'six.test'   => { aaaa => ['::1'] },
    'ttl.test'   => { a => ['127.0.0.1'], ttl => 1 },
    'valid.test' => { a => ['127.0.0.1'], ttl => 3600 },
);

# the body of GET $path on a connection of its own
sub get {
    my ($path) = @_;
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $x = Test::Moongate::exchange([$req], 0, ['GET'], 5);
    my ($r) = Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
    return $r ? "$r->{status}" : 'none';
}

sub asked { my $n = shift; scalar grep { $_ eq $n } dns_queries() }

log_level('info');

run_tests();

__DATA__

=== TEST 1: proxy_pass with a variable host: resolved, proxied
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        set $h a.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT/echo;
    }
--- request
GET /t
--- response_body_like: ^GET /echo HTTP/1.0\nHost: a.test:\d+\n
--- response_headers
X-Backend: a



=== TEST 2: no resolver: 502 and nginx's line
--- config
    location /t {
        set $h nx.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- error_code: 502
--- error_log
no resolver defined to resolve nx.test



=== TEST 3: a name that does not exist: 502, "could not be resolved (3: Host not found)"
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        set $h nx.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- error_code: 502
--- error_log
nx.test could not be resolved (3: Host not found)



=== TEST 4: the server fails (SERVFAIL) or refuses
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        set $h bad.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
    location /r {
        set $h refuse.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- request eval
["GET /t", "GET /r"]
--- error_code eval
[502, 502]
--- error_log eval
['bad.test could not be resolved (2: Server failure)',
 'refuse.test could not be resolved (5: Operation refused)']



=== TEST 5: no answer within resolver_timeout: 502, "(110: Operation timed out)"
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        resolver_timeout 1s;
        set $h slow.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- error_code: 502
--- error_log
slow.test could not be resolved (110: Operation timed out)



=== TEST 6: a name without addresses (an empty answer) is not found
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        set $h empty.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- error_code: 502
--- error_log
empty.test could not be resolved (3: Host not found)



=== TEST 7: inheritance: a location's own resolver wins, others inherit the server's
--- config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
    location /t {
        set $h a.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
    location /other {
        resolver 127.0.0.1:$TEST_NGINX_NOONE_PORT;
        resolver_timeout 1s;
        set $h a.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- request eval
["GET /t", "GET /other"]
--- error_code eval
[200, 502]
--- error_log
a.test could not be resolved (110: Operation timed out)



=== TEST 8: an answer is cached for its TTL: two requests, one question of each type
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        set $h valid.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- init
dns_queries_clear();
main::get('/t') for 1 .. 3;
Test::More::is(main::asked('valid.test A'), 1, 'TEST 8: one A question');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 9: a TTL of 1 s: asked again once it passed
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        set $h ttl.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- init
dns_queries_clear();
main::get('/t');
main::get('/t');
select undef, undef, undef, 2.2;
main::get('/t');
Test::More::is(main::asked('ttl.test A'), 2, 'TEST 9: asked twice');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 10: valid= overrides the TTL
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT valid=1s;
--- config
    location /t {
        set $h valid.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- init
dns_queries_clear();
main::get('/t');
main::get('/t');
select undef, undef, undef, 2.2;
main::get('/t');
Test::More::is(main::asked('valid.test A'), 2, 'TEST 10: asked twice');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 11: ipv6=off asks for A only; by default AAAA too
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
--- config
    location /t {
        set $h a.mixed;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
    location /six {
        resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
        set $h a.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- init
dns_queries_clear();
main::get('/t');
main::get('/six');
Test::More::is(join(',', sort grep { /^a\.(mixed|test) / } dns_queries()), 'a.mixed A,a.test A,a.test AAAA',
               'TEST 11: questions');
--- request
GET /t
--- response_headers
X-Backend: a



=== TEST 12: every address is a peer: the first refuses, the next one answers
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
    log_format up '$upstream_addr $upstream_status';
--- config
    location /t {
        access_log logs/up.log up;
        set $h two.test;
        proxy_pass http://$h:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- response_headers
X-Backend: a
--- error_log eval
qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream, .*upstream: "http:\/\/127\.0\.0\.2:\d+\//



=== TEST 13: cosocket tcp: connect to a name through the resolver
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            s:settimeout(2000)
            local ok, err = s:connect("a.test", $TEST_NGINX_T_PORT)
            ngx.say("connect: ", ok, " ", err)
            s:send("hello\n")
            ngx.say(s:receive())
            s:close()
            local ok, err = ngx.socket.tcp():connect("nx.test", $TEST_NGINX_T_PORT)
            ngx.say("nx: ", ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
connect: 1 nil
hello
nx: nil nx.test could not be resolved (3: Host not found)



=== TEST 14: cosocket tcp without a resolver: nginx's error
--- config
    location /t {
        content_by_lua_block {
            local ok, err = ngx.socket.tcp():connect("a.test", $TEST_NGINX_T_PORT)
            ngx.say("connect: ", ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
connect: nil no resolver defined to resolve "a.test"



=== TEST 15: cosocket udp: setpeername to a name through the resolver
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
--- config
    location /t {
        content_by_lua_block {
            local u = ngx.socket.udp()
            u:settimeout(2000)
            local ok, err = u:setpeername("a.test", $TEST_NGINX_U_PORT)
            ngx.say("setpeername: ", ok, " ", err)
            u:send("ping")
            ngx.say(u:receive())
            local ok, err = ngx.socket.udp():setpeername("refuse.test", $TEST_NGINX_U_PORT)
            ngx.say("refused: ", ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
setpeername: 1 nil
ping
refused: nil refuse.test could not be resolved (5: Operation refused)



=== TEST 16: resolver without an address
--- config
    resolver;
--- must_die
--- error_log eval
qr/invalid number of arguments in "resolver" directive in \S+\.conf:\d+/



=== TEST 17: a bad valid=
--- config
    resolver 127.0.0.1 valid=abc;
--- must_die
--- error_log eval
qr/invalid parameter: valid=abc in \S+\.conf:\d+/



=== TEST 18: a bad ipv6=
--- config
    resolver 127.0.0.1 ipv6=maybe;
--- must_die
--- error_log eval
qr/invalid parameter: ipv6=maybe in \S+\.conf:\d+/



=== TEST 19: an address that is not a host
--- config
    resolver 127.0.0.1:99999;
--- must_die
--- error_log eval
qr/invalid port in resolver "127\.0\.0\.1:99999" in \S+\.conf:\d+/



=== TEST 20: twice at one level
--- config
    resolver 127.0.0.1;
    resolver 127.0.0.2;
--- must_die
--- error_log eval
qr/"resolver" directive is duplicate in \S+\.conf:\d+/



=== TEST 21: resolver_timeout with a bad time
--- config
    resolver_timeout abc;
--- must_die
--- error_log eval
qr/"resolver_timeout" directive invalid value in \S+\.conf:\d+/



=== TEST 22: ipv4=off (nginx 1.23.1+) leaves only AAAA: the address ::1
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv4=off;
--- config
    location /t {
        set $h six.test;
        proxy_pass http://$h:$TEST_NGINX_NOONE_PORT;
    }
--- request
GET /t
--- error_code: 502
--- error_log eval
qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream, .*upstream: "http:\/\/\[::1\]:\d+\//
--- moongate_only



=== TEST 23: a timer's cosocket resolves through the http{} resolver
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;
    lua_shared_dict d 1m;
--- config
    location /start {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local s = ngx.socket.tcp()
                s:settimeout(2000)
                local ok, err = s:connect("a.test", $TEST_NGINX_T_PORT)
                if ok then
                    s:send("timer\n")
                    ok, err = s:receive()
                end
                ngx.shared.d:set("r", tostring(ok) .. " " .. tostring(err))
            end)
            ngx.say("started")
        }
    }
    location /t {
        content_by_lua_block {
            for i = 1, 50 do
                local r = ngx.shared.d:get("r")
                if r then
                    ngx.say(r)
                    return
                end
                ngx.sleep(0.1)
            end
            ngx.say("no result")
        }
    }
--- request eval
["GET /start", "GET /t"]
--- response_body eval
["started\n", "timer nil\n"]



=== TEST 24: no resolver needed for a host another proxy_pass names: its addresses from load
--- config
    location /lit { proxy_pass http://localhost:$TEST_NGINX_A_PORT; }
    location /t {
        set $h localhost:$TEST_NGINX_A_PORT;
        proxy_pass http://$h/echo;
    }
    location /other {
        set $h localhost:$TEST_NGINX_NOONE_PORT;
        proxy_pass http://$h/echo;
    }
--- request eval
["GET /t", "GET /other"]
--- error_code eval
[200, 502]
--- response_headers eval
["X-Backend: a", ""]
--- error_log
no resolver defined to resolve localhost
