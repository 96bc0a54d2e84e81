# $sent_http_keep_alive and $sent_http_connection, as Debian's nginx 1.22 gives them (a
# differential audit): not headers of the response's list but what the head says or will
# say: in add_header, in header_filter_by_lua and body_filter_by_lua "timeout=N" with
# keepalive_timeout's second argument on a kept connection, not found otherwise; "upgrade"
# for a 101. In the log phase (log_by_lua, access_log) nginx 1.22 says "close" and not found
# for every request, as it clears a kept request's keepalive flag just before it logs;
# moongate logs what the head said (as t/747 TEST 5 does for $sent_http_connection): those
# blocks are moongate_only, and a closing request's log, the same on both, is checked too. (The requests are HTTP/1.1
# without "Connection: close", which the harness's --- request would add.)
#
#   prove -I t/lib t/791-sent-http-keep-alive.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/791-sent-http-keep-alive.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(ws => 'websocket');

run_tests();

__DATA__

=== TEST 1: add_header: the Keep-Alive header's value, and Connection's
--- config
    keepalive_timeout 60 50;
    location /t {
        add_header X-KA "[$sent_http_keep_alive]";
        add_header X-Conn "[$sent_http_connection]";
        return 200 "ok\n";
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: x\r\n\r\n"
--- response_headers
Keep-Alive: timeout=50
X-KA: [timeout=50]
X-Conn: [keep-alive]



=== TEST 2: without keepalive_timeout's second argument: not found
--- config
    keepalive_timeout 60;
    location /t {
        add_header X-KA "[$sent_http_keep_alive]";
        add_header X-Conn "[$sent_http_connection]";
        return 200 "ok\n";
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: x\r\n\r\n"
--- response_headers
Keep-Alive:
X-KA: []
X-Conn: [keep-alive]



=== TEST 3: a connection that closes: no Keep-Alive
--- config
    keepalive_timeout 60 50;
    location /t {
        add_header X-KA "[$sent_http_keep_alive]";
        add_header X-Conn "[$sent_http_connection]";
        return 200 "ok\n";
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- response_headers
Keep-Alive:
X-KA: []
X-Conn: [close]



=== TEST 4: from Lua in the header and body filters
--- config
    keepalive_timeout 60 50;
    location /t {
        content_by_lua_block { ngx.say("ok") }
        header_filter_by_lua_block {
            ngx.header["X-KA"] = "[" .. tostring(ngx.var.sent_http_keep_alive) .. "] ["
                                 .. tostring(ngx.var.sent_http_connection) .. "]"
        }
        body_filter_by_lua_block {
            if ngx.arg[2] then
                ngx.arg[1] = (ngx.arg[1] or "") .. ngx.var.sent_http_keep_alive .. "\n"
            end
        }
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: x\r\n\r\n"
--- response_headers
X-KA: [timeout=50] [keep-alive]
--- response_body
ok
timeout=50



=== TEST 5: log_by_lua and access_log of a closing request: "close", not found
--- http_config
    log_format ka "ka=$sent_http_keep_alive conn=$sent_http_connection";
--- config
    keepalive_timeout 60 50;
    location /t {
        access_log $TEST_NGINX_LOG_DIR/error.log ka;
        return 200 "ok\n";
        log_by_lua_block {
            ngx.log(ngx.WARN, "log ka=", ngx.var.sent_http_keep_alive, " conn=",
                    ngx.var.sent_http_connection)
        }
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- response_body
ok
--- error_log
log ka=nil conn=close
ka=- conn=close



=== TEST 6: log_by_lua and access_log of a kept request: what the head said
# moongate_only: nginx 1.22 logs "nil conn=close" and "ka=- conn=close" (t/747 TEST 5)
--- moongate_only
--- http_config
    log_format ka "ka=$sent_http_keep_alive conn=$sent_http_connection";
--- config
    keepalive_timeout 60 50;
    location /t {
        access_log $TEST_NGINX_LOG_DIR/error.log ka;
        return 200 "ok\n";
        log_by_lua_block {
            ngx.log(ngx.WARN, "log ka=", ngx.var.sent_http_keep_alive, " conn=",
                    ngx.var.sent_http_connection)
        }
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: x\r\n\r\n"
--- response_body
ok
--- error_log
log ka=timeout=50 conn=keep-alive
ka=timeout=50 conn=keep-alive



=== TEST 7: a 101: Connection is "upgrade", Keep-Alive as the connection was
--- config
    keepalive_timeout 60 50;
    location /ws {
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_PORT;
        add_header X-KA "[$sent_http_keep_alive] [$sent_http_connection]" always;
    }
--- raw_request eval
"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nbye\n"
--- error_code: 101
--- response_headers
X-KA: [timeout=50] [upgrade]
--- timeout: 3



=== TEST 8: keepalive_timeout 0: "close" already in the header filters
--- config
    keepalive_timeout 0;
    location /t {
        add_header X-KA "[$sent_http_keep_alive] [$sent_http_connection]";
        return 200 "ok\n";
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: x\r\n\r\n"
--- response_headers
Connection: close
X-KA: [] [close]



=== TEST 9: the last request keepalive_requests allows: "close" already in the header filters
--- config
    keepalive_timeout 60 50;
    keepalive_requests 1;
    location /t {
        add_header X-KA "[$sent_http_keep_alive] [$sent_http_connection]";
        return 200 "ok\n";
    }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: x\r\n\r\n"
--- response_headers
Connection: close
X-KA: [] [close]



=== TEST 10: HTTP/1.0 keep-alive with no length: the header filters saw a kept connection
--- config
    keepalive_timeout 60 50;
    lua_http10_buffering off;
    location /t {
        add_header X-KA "[$sent_http_keep_alive] [$sent_http_connection]";
        content_by_lua_block { ngx.say("ok") }
    }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
--- response_headers
Connection: close
X-KA: [timeout=50] [keep-alive]
