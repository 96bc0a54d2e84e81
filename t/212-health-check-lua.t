# require "ngx.upstream" (lua-upstream-nginx-module's API, issue 14 item 3): get_upstreams,
# get_servers, get_primary_peers, get_backup_peers, set_peer_down, current_upstream_name, and a
# checker written the way lua-resty-upstream-healthcheck is (Debian packages neither the module
# nor the library, so TEST 7 makes the library's calls itself: a timer from init_worker_by_lua,
# a cosocket probe of every peer from get_primary_peers/get_backup_peers, set_peer_down on
# failure).
#
# moongate only: Debian's nginx has lua-nginx-module without lua-upstream-nginx-module.
#
#   prove -I t/lib t/212-health-check-lua.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');
backend(b => 'echo');
backend(gone => 'refused');

# who answered, for several requests on their own connections
sub who {
    my ($path, $n) = @_;
    join ' ', map {
        my $x = Test::Moongate::exchange(["GET $path HTTP/1.0\r\n\r\n"], 0, ['GET'], 5);
        $x->{raw} =~ /^X-Backend: (\w+)/m ? $1 : ($x->{raw} =~ m{^HTTP/1\.\d (\d+)} ? $1 : 'none');
    } 1 .. $n;
}

run_tests();

__DATA__

=== TEST 1: get_upstreams lists the upstream{} blocks (not proxy_pass's host:port); get_servers their lines
--- http_config
    upstream foo.test {
        server 127.0.0.1:$TEST_NGINX_A_PORT weight=4 max_fails=100 fail_timeout=53;
        server 127.0.0.1:$TEST_NGINX_B_PORT backup;
    }
    upstream bar {
        server 127.0.0.1:$TEST_NGINX_B_PORT down;
        server localhost:$TEST_NGINX_A_PORT;
    }
--- config
    location /implicit { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
    location /t {
        content_by_lua_block {
            local upstream = require "ngx.upstream"
            for _, u in ipairs(upstream.get_upstreams()) do
                ngx.say("upstream ", u, ":")
                for _, s in ipairs(upstream.get_servers(u)) do
                    local addr = type(s.addr) == "table" and table.concat(s.addr, ",") or s.addr
                    ngx.say("  ", s.name, " addr=", addr:gsub("%d%d%d%d+", "P"), " weight=", s.weight,
                            " max_fails=", s.max_fails, " fail_timeout=", s.fail_timeout,
                            " backup=", tostring(s.backup), " down=", tostring(s.down))
                end
            end
            ngx.say(upstream.get_servers("nope"))
        }
    }
--- request
GET /t
--- response_body_like chomp
^upstream foo\.test:
  127\.0\.0\.1:\d+ addr=127\.0\.0\.1:P weight=4 max_fails=100 fail_timeout=53 backup=nil down=nil
  127\.0\.0\.1:\d+ addr=127\.0\.0\.1:P weight=1 max_fails=1 fail_timeout=10 backup=true down=nil
upstream bar:
  127\.0\.0\.1:\d+ addr=127\.0\.0\.1:P weight=1 max_fails=1 fail_timeout=10 backup=nil down=true
  localhost:\d+ addr=(127\.0\.0\.1:P|\[::1\]:P|127\.0\.0\.1:P,\[::1\]:P|\[::1\]:P,127\.0\.0\.1:P) weight=1 max_fails=1 fail_timeout=10 backup=nil down=nil
nilupstream not found
$
--- moongate_only



=== TEST 2: get_primary_peers and get_backup_peers: ids from 0, the run-time numbers
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT weight=2;
        server 127.0.0.1:$TEST_NGINX_GONE_PORT max_fails=3;
        server 127.0.0.1:$TEST_NGINX_B_PORT backup;
    }
--- config
    location /p { proxy_pass http://u; }
    location /t {
        content_by_lua_block {
            local upstream = require "ngx.upstream"
            local res = ngx.location.capture("/p")
            local function show(peers)
                for _, p in ipairs(peers) do
                    ngx.say(p.id, " ", p.name == nil and "?" or "name", " weight=", p.weight,
                            " cw=", type(p.current_weight), " ew=", p.effective_weight,
                            " conns=", p.conns, " fails=", p.fails, " max_fails=", p.max_fails,
                            " fail_timeout=", p.fail_timeout, " down=", tostring(p.down),
                            " checked=", type(p.checked))
                end
            end
            show(upstream.get_primary_peers("u"))
            ngx.say("backup:")
            show(upstream.get_backup_peers("u"))
            ngx.say(upstream.get_primary_peers("nope"))
            ngx.say(upstream.get_backup_peers("nope"))
        }
    }
--- request
GET /t
--- response_body
0 name weight=2 cw=number ew=2 conns=0 fails=0 max_fails=1 fail_timeout=10 down=nil checked=number
1 name weight=1 cw=number ew=1 conns=0 fails=0 max_fails=3 fail_timeout=10 down=nil checked=nil
backup:
0 name weight=1 cw=number ew=1 conns=0 fails=0 max_fails=1 fail_timeout=10 down=nil checked=nil
nilupstream not found
nilupstream not found
--- moongate_only



=== TEST 3: set_peer_down takes a peer out of this worker's choices and puts it back
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
    }
--- config
    location /p { proxy_pass http://u; }
    location /t {
        content_by_lua_block {
            local upstream = require "ngx.upstream"
            local function who(n)
                local t = {}
                for i = 1, n do
                    local res = ngx.location.capture("/p")
                    t[#t + 1] = res.header["X-Backend"] or res.status
                end
                return table.concat(t, " ")
            end
            ngx.say(upstream.set_peer_down("u", false, 1, true))
            ngx.say(who(4))
            ngx.say(tostring(upstream.get_primary_peers("u")[2].down))
            ngx.say(upstream.set_peer_down("u", false, 0, true))
            ngx.say(who(1))
            ngx.say(upstream.set_peer_down("u", false, 0, false))
            ngx.say(upstream.set_peer_down("u", false, 1, false))
            local got = {}
            for _, b in ipairs({who(4):match("(%w+) (%w+) (%w+) (%w+)")}) do got[b] = true end
            ngx.say(got.a and got.b and "both" or "not both")
            ngx.say(upstream.set_peer_down("u", false, 2, true))
            ngx.say(upstream.set_peer_down("u", true, 0, true))
            ngx.say(upstream.set_peer_down("nope", false, 0, true))
            ngx.say(pcall(upstream.set_peer_down, "u", false, 0))
        }
    }
--- request
GET /t
--- response_body
true
a a a a
true
true
502
true
true
both
nilbad peer id
nilbad peer id
nilupstream not found
falseexactly 4 arguments expected
--- moongate_only



=== TEST 4: current_upstream_name: the group of the request's proxy_pass, nil before it
--- http_config
    upstream named {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /n {
        rewrite_by_lua_block { ngx.ctx.before = tostring(require("ngx.upstream").current_upstream_name()) }
        proxy_pass http://named;
        header_filter_by_lua_block {
            ngx.header["X-Before"] = ngx.ctx.before
            ngx.header["X-Up"] = require("ngx.upstream").current_upstream_name()
        }
    }
    location /i {
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
        header_filter_by_lua_block {
            ngx.header["X-Up"] = require("ngx.upstream").current_upstream_name()
        }
    }
--- request
GET /n
--- response_headers
X-Before: nil
X-Up: named
--- moongate_only



=== TEST 5: current_upstream_name of proxy_pass to host:port: that host:port
--- config
    location /i {
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
        header_filter_by_lua_block {
            ngx.header["X-Up"] = require("ngx.upstream").current_upstream_name()
        }
    }
--- request
GET /i
--- response_headers_like
X-Up: 127\.0\.0\.1:\d+
--- moongate_only



=== TEST 6: current_upstream_name outside a request
--- http_config
    init_worker_by_lua_block {
        ngx.timer.at(0, function()
            local ok, err = pcall(require("ngx.upstream").current_upstream_name)
            ngx.log(ngx.WARN, "timer: ", ok, " ", err)
        end)
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log
timer: false no request found
--- moongate_only



=== TEST 7: a lua-resty-upstream-healthcheck style checker: peers that refuse are set down, requests avoid them
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT backup;
    }
    init_worker_by_lua_block {
        local upstream = require "ngx.upstream"
        local function probe(u, is_backup, peers)
            for _, peer in ipairs(peers) do
                local host, port = peer.name:match("^(.+):(%d+)$")
                local sock = ngx.socket.tcp()
                -- a live peer's answer can take seconds on a loaded machine (the backend forks a
                -- process per connection); a refused one fails at once whatever the bound
                sock:settimeout(10000)
                local ok = sock:connect(host, tonumber(port))
                if ok then
                    sock:send("GET /status HTTP/1.0\r\nHost: x\r\n\r\n")
                    local line = sock:receive()
                    ok = line and line:match("^HTTP/1%.%d 200")
                    sock:close()
                end
                if not ok ~= (peer.down == true) then
                    upstream.set_peer_down(u, is_backup, peer.id, not ok)
                    ngx.log(ngx.WARN, "peer ", peer.name, " is turned ", ok and "up" or "down")
                end
            end
        end
        local function check(premature)
            if premature then return end
            for _, u in ipairs(upstream.get_upstreams()) do
                probe(u, false, upstream.get_primary_peers(u))
                probe(u, true, upstream.get_backup_peers(u))
            end
            ngx.timer.at(0.2, check)
        end
        ngx.timer.at(0, check)
    }
--- config
    location /p { proxy_next_upstream off; proxy_pass http://u; }
    location /t {
        content_by_lua_block {
            local upstream = require "ngx.upstream"
            -- the checker's first round, bounded (15 s: a loaded machine); the response
            -- waits for it, hence the block's timeout
            for i = 1, 150 do
                if upstream.get_primary_peers("u")[1].down then break end
                ngx.sleep(0.1)
            end
            local t = {}
            for i = 1, 4 do
                local res = ngx.location.capture("/p")
                t[#t + 1] = res.header["X-Backend"] or res.status
            end
            ngx.say(table.concat(t, " "))
        }
    }
--- request
GET /t
--- response_body
a a a a
--- timeout: 20
--- error_log eval
qr/peer 127\.0\.0\.1:\d+ is turned down/
--- moongate_only
