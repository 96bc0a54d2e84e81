# Debian's lua-nginx-websocket (OpenResty's lua-resty-websocket), unchanged: its server on
# ngx.req.socket(true) after ngx.send_headers, its client on a cosocket, against each other
# (the client in one location talks to the server in another), with text, binary, ping/pong,
# a fragmented message and the close handshake. Unpacked by Test::MoongateLuaNginx.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/449-lua-nginx-websocket.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateLuaNginx;

plan 'no_plan';

my $lib = Test::MoongateLuaNginx::lib(qw(lua-nginx-websocket));
$ENV{TEST_NGINX_LUA_NGINX} = $lib // '';
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(moongate_skip => $Test::MoongateLuaNginx::Why) unless $lib;
    $block->set_value(http_config => <<'CONF') unless defined $block->http_config;
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
CONF
    # the server side every block talks to: echoes text and binary frames, answers pings
    $block->set_value(config => $block->config . <<'CONF');
    location /ws {
        content_by_lua_block {
            local server = require "nginx.websocket.server"
            local wb, err = server:new({ timeout = 5000, max_payload_len = 65535 })
            if not wb then
                ngx.log(ngx.ERR, "server: ", err)
                return ngx.exit(400)
            end
            local parts = {}
            while true do
                local data, typ, err = wb:recv_frame()
                if not data then
                    ngx.log(ngx.ERR, "server recv: ", err)
                    return ngx.exit(444)
                end
                if typ == "close" then
                    wb:send_close(1000, "bye " .. data)
                    ngx.log(ngx.NOTICE, "server closed, code ", err)
                    return
                elseif typ == "ping" then
                    wb:send_pong(data)
                elseif typ == "text" or typ == "continuation" then
                    -- err "again": more fragments follow
                    parts[#parts + 1] = data
                    if err ~= "again" then
                        wb:send_text("echo: " .. table.concat(parts))
                        parts = {}
                    end
                elseif typ == "binary" then
                    wb:send_binary(data:reverse())
                end
            end
        }
    }
CONF
});

run_tests();

__DATA__

=== TEST 1: client and server: text, binary, ping/pong, close with code and reason
--- config
    location /t {
        content_by_lua_block {
            local client = require "nginx.websocket.client"
            local wb = assert(client:new({ timeout = 5000 }))
            local ok, err = wb:connect("ws://127.0.0.1:$TEST_NGINX_SERVER_PORT/ws")
            if not ok then
                ngx.say("connect: ", err)
                return
            end
            assert(wb:send_text("hello"))
            local data, typ = wb:recv_frame()
            ngx.say(typ, " ", data)
            assert(wb:send_binary("\1\2\3abc"))
            local data, typ = wb:recv_frame()
            ngx.say(typ, " ", #data, " ", data:sub(1, 3))
            assert(wb:send_ping("are you there"))
            local data, typ = wb:recv_frame()
            ngx.say(typ, " ", data)
            assert(wb:send_close(1000, "done"))
            local data, typ, code = wb:recv_frame()
            ngx.say(typ, " ", code, " ", data)
            wb:close()
        }
    }
--- request
GET /t
--- response_body
text echo: hello
binary 6 cba
pong are you there
close 1000 bye done
--- error_log
server closed, code 1000
--- no_error_log
[error]

=== TEST 2: a message over the server's max_payload_len: the server refuses it and closes
--- config
    location /t {
        content_by_lua_block {
            local client = require "nginx.websocket.client"
            local wb = assert(client:new({ timeout = 5000, max_payload_len = 100000 }))
            assert(wb:connect("ws://127.0.0.1:$TEST_NGINX_SERVER_PORT/ws"))
            assert(wb:send_text(string.rep("x", 70000)))
            local data, typ, err = wb:recv_frame()
            ngx.say(data, " ", err)
        }
    }
--- request
GET /t
--- response_body_like chomp
^nil failed to receive the first 2 bytes: (?:connection reset by peer|closed)$
--- error_log
server recv: exceeding max payload len

=== TEST 3: the server's handshake checks: a plain GET without Upgrade gets 400
--- config
--- request
GET /ws
--- error_code: 400
--- error_log
server: bad "upgrade" request header

=== TEST 4: a fragmented text message reaches the server as continuation frames
--- config
    location /t {
        content_by_lua_block {
            local client = require "nginx.websocket.client"
            local wb = assert(client:new({ timeout = 5000 }))
            assert(wb:connect("ws://127.0.0.1:$TEST_NGINX_SERVER_PORT/ws"))
            assert(wb:send_frame(false, 0x1, "part one, "))
            assert(wb:send_frame(true, 0x0, "part two"))
            local data, typ = wb:recv_frame()
            ngx.say(typ, " ", data)
            assert(wb:send_close())
            ngx.say(wb:recv_frame())
        }
    }
--- request
GET /t
--- response_body
text echo: part one, part two
bye close1000
--- no_error_log
[error]
