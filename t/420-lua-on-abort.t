# ngx.on_abort and lua_check_client_abort: with the directive on, a client that closes its
# connection while Lua code waits (ngx.sleep, a cosocket, light threads) runs the registered
# function in a light thread (the request goes on unless it calls ngx.exit), or, with none,
# ends the request with 499 ("client prematurely closed connection" at info); the return
# values (1, "lua_check_client_abort is off", "duplicate call"), argument and context errors,
# and a request whose client stays (pipelined requests included) is not disturbed.
#
#   prove -I t/lib t/420-lua-on-abort.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/420-lua-on-abort.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

# send a request for $path and close the connection once its Lua code logged that it waits
# (10 s bound). A close read together with the request comes before lua_check_client_abort
# watches the connection, and is not noticed (nginx alike): a fixed 0.1 s let a loaded machine's
# worker read both at once, or end a short wait before the close came.
sub hang_up {
    my ($path) = @_;
    my $log = Test::Moongate::error_log_file();
    my $from = -s $log // 0;
    my $s = client_connect();
    client_send($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my $deadline = Time::HiRes::time() + 10;
    until (Time::HiRes::time() > $deadline) {
        last if substr(Test::Moongate::slurp($log), $from) =~ /waits for the client/;
        Time::HiRes::sleep(0.01);
    }
    close $s;
}

# the access log line (logs/$file) of the request that was hung up on, checked
sub hung_up_log {
    my ($file, $path, $want, $name) = @_;
    hang_up($path);
    my ($l) = logged_lines($file, 1);
    Test::More::is($l, $want, "$name: access log");
}

our $Log = <<'EOF';
    log_format s '$uri $status';
EOF

log_level('info');

run_tests();

__DATA__

=== TEST 1: lua_check_client_abort off (the default): ngx.on_abort says so
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.on_abort(function() end))
        }
    }
--- request
GET /t
--- response_body
nillua_check_client_abort is off



=== TEST 2: on: the first call registers, a second one is a duplicate
--- config
    location /t {
        lua_check_client_abort on;
        content_by_lua_block {
            ngx.say(ngx.on_abort(function() end))
            ngx.say(ngx.on_abort(function() end))
        }
    }
--- request
GET /t
--- response_body
1
nilduplicate call



=== TEST 3: the argument must be a function
--- config
    lua_check_client_abort on;
    location /t {
        content_by_lua_block {
            ngx.say(pcall(ngx.on_abort, 1))
            ngx.say(pcall(ngx.on_abort))
            ngx.say(pcall(ngx.on_abort, function() end, "ignored"))
        }
    }
--- request
GET /t
--- response_body
falsebad argument #1 to '?' (Lua function expected)
falsebad argument #1 to '?' (Lua function expected)
true1



=== TEST 4: only in rewrite, access and content
--- http_config
    lua_check_client_abort on;
--- config
    location /t {
        content_by_lua_block {
            ngx.timer.at(0, function()
                local ok, err = pcall(ngx.on_abort, function() end)
                ngx.log(ngx.ERR, "timer: ", err)
            end)
            ngx.sleep(0.05)
            ngx.say("ok")
        }
        header_filter_by_lua_block {
            local ok, err = pcall(ngx.on_abort, function() end)
            ngx.log(ngx.ERR, "header filter: ", err)
        }
    }
--- request
GET /t
--- response_body
ok
--- error_log
timer: API disabled in the context of ngx.timer
header filter: API disabled in the context of header_filter_by_lua*



=== TEST 5: no function registered: the client's close ends the request with 499
--- http_config eval: $main::Log
--- config
    location /sleep {
        access_log logs/a5.log s;
        lua_check_client_abort on;
        content_by_lua_block {
            ngx.log(ngx.INFO, "waits for the client")
            ngx.sleep(5)
            ngx.log(ngx.ERR, "main still running")
        }
    }
--- init
main::hung_up_log('a5.log', '/sleep', '/sleep 499', 'TEST 5');
--- request
GET /t
--- error_code: 404
--- error_log
client prematurely closed connection
--- no_error_log
main still running



=== TEST 6: the same in access_by_lua, waiting on a cosocket: 499, content never runs
--- http_config eval: $main::Log
--- config
    location /acc {
        access_log logs/a6.log s;
        lua_check_client_abort on;
        access_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            assert(sock:send("GET /slow HTTP/1.0\r\nHost: x\r\n\r\n"))
            ngx.log(ngx.INFO, "waits for the client")
            sock:receive("*a")
            ngx.log(ngx.ERR, "access still running")
        }
        content_by_lua_block {
            ngx.log(ngx.ERR, "content ran")
        }
    }
    location /slow {
        content_by_lua_block { ngx.sleep(2) ngx.say("slow") }
    }
--- init
main::hung_up_log('a6.log', '/acc', '/acc 499', 'TEST 6');
--- request
GET /t
--- error_code: 404
--- error_log
client prematurely closed connection
--- no_error_log
access still running
content ran



=== TEST 7: the function runs in a light thread; the request goes on without it
--- http_config eval: $main::Log
--- config
    location /h {
        access_log logs/a7.log s;
        lua_check_client_abort on;
        content_by_lua_block {
            ngx.on_abort(function()
                ngx.log(ngx.ERR, "on abort called")
            end)
            ngx.log(ngx.INFO, "waits for the client")
            ngx.sleep(1.5)
            ngx.log(ngx.ERR, "main still running")
        }
    }
--- init
main::hung_up_log('a7.log', '/h', '/h 200', 'TEST 7');
--- request
GET /t
--- error_code: 404
--- grep_error_log eval: qr/on abort called|main still running/
--- grep_error_log_out
on abort called
main still running



=== TEST 8: the function ends the request with ngx.exit(499)
--- http_config eval: $main::Log
--- config
    location /hx {
        access_log logs/a8.log s;
        lua_check_client_abort on;
        content_by_lua_block {
            ngx.on_abort(function()
                ngx.log(ngx.ERR, "on abort called")
                ngx.exit(499)
            end)
            ngx.log(ngx.INFO, "waits for the client")
            ngx.sleep(5)
            ngx.log(ngx.ERR, "main still running")
        }
    }
--- init
main::hung_up_log('a8.log', '/hx', '/hx 499', 'TEST 8');
--- request
GET /t
--- error_code: 404
--- error_log
on abort called
--- no_error_log
main still running



=== TEST 9: registered in access: it runs there, and the request goes on to content
--- http_config eval: $main::Log
--- config
    location /acc {
        access_log logs/a9.log s;
        lua_check_client_abort on;
        access_by_lua_block {
            ngx.on_abort(function() ngx.log(ngx.ERR, "on abort called in access") end)
            ngx.log(ngx.INFO, "waits for the client")
            ngx.sleep(1.5)
        }
        content_by_lua_block {
            ngx.log(ngx.ERR, "content ran")
            ngx.say("hi")
        }
    }
--- init
main::hung_up_log('a9.log', '/acc', '/acc 200', 'TEST 9');
--- request
GET /t
--- error_code: 404
--- grep_error_log eval: qr/on abort called in access|content ran/
--- grep_error_log_out
on abort called in access
content ran



=== TEST 10: the entry thread returned, a light thread still sleeps: the function runs too
--- http_config eval: $main::Log
--- config
    location /thr {
        access_log logs/a10.log s;
        lua_check_client_abort on;
        content_by_lua_block {
            ngx.on_abort(function() ngx.log(ngx.ERR, "on abort called") end)
            ngx.thread.spawn(function()
                ngx.sleep(1.5)
                ngx.log(ngx.ERR, "thread done")
            end)
            ngx.log(ngx.INFO, "waits for the client")
        }
    }
--- init
main::hung_up_log('a10.log', '/thr', '/thr 200', 'TEST 10');
--- request
GET /t
--- error_code: 404
--- grep_error_log eval: qr/on abort called|thread done/
--- grep_error_log_out
on abort called
thread done



=== TEST 11: a client that stays is answered; pipelined requests meanwhile are no close
--- config
    lua_check_client_abort on;
    location /slow {
        content_by_lua_block {
            ngx.on_abort(function() ngx.log(ngx.ERR, "on abort called") end)
            ngx.sleep(0.3)
            ngx.say("slow")
        }
    }
    location /fast {
        content_by_lua_block {
            ngx.say("fast")
        }
    }
--- pipelined_requests eval
["GET /slow", "GET /fast"]
--- response_body eval
["slow\n", "fast\n"]
--- no_error_log
on abort called
client prematurely closed connection



=== TEST 12: each phase's entry may register its own function
--- config
    location /t {
        lua_check_client_abort on;
        rewrite_by_lua_block {
            ngx.ctx.rewrite = ngx.on_abort(function() end)
        }
        content_by_lua_block {
            ngx.say(ngx.ctx.rewrite, " ", ngx.on_abort(function() end))
        }
    }
--- request
GET /t
--- response_body
1 1
