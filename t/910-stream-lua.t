# stream{} Lua (issue 20: stream-lua-nginx-module's interface) with real clients and servers:
# an echo server written in content_by_lua, a preread_by_lua that peeks and routes to Perl
# servers, a Lua TCP proxy to redis-server through cosockets, a shared dict shared by http{} and
# stream{}, timers and ngx.sleep, log_by_lua before access_log, a Lua error (500 and the
# traceback), balancer_by_lua choosing a stream upstream peer, misuse answered with errors.
# moongate only: Debian has no stream Lua module (libnginx-mod-stream-lua does not exist), so
# the file is skipped against nginx; the non-Lua stream parts are in t/900-902.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateRedis ();
use Test::More;
use Test::MoongateStream qw(tcp_server);
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes ();

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

# answers "<tag>:" and then echoes
sub tagged_echo {
    my $tag = shift;
    return sub {
        my $c = shift;
        syswrite($c, "$tag:");
        while (sysread($c, my $b, 65536)) { syswrite($c, $b) // last }
    };
}

# connect, send the pieces (a scalar ref: sleep that long first), read until $want bytes or EOF
# (timeout 5 s); returns what was read and whether the peer closed
sub exchange {
    my ($port, $data, $want, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or return ("connect: $!", 1);
    for my $d (ref $data ? @$data : ($data)) {
        if (ref $d) { Time::HiRes::sleep($$d); next }
        syswrite($s, $d);
    }
    shutdown($s, 1) if $o{half_close};
    my $sel = IO::Select->new($s);
    my ($got, $eof) = ('', 0);
    my $end = Time::HiRes::time() + ($o{timeout} // 5);
    while (!defined $want || length($got) < $want) {
        my $left = $end - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $b, 65536);
        if (!$n) { $eof = 1; last }
        $got .= $b;
    }
    close $s;
    return ($got, $eof);
}

sub log_lines { my $f = shift; -f $f ? split /\n/, Test::MoongateProc::slurp($f) : () }

# the access log line of the $nth session (from 0) on port $port, once written
sub wait_access {
    my ($f, $port, $nth) = @_;
    my $line;
    wait_for(sub {
        my @l = grep { / $port$/ } log_lines($f);
        $line = $l[$nth] if @l > $nth;
        return defined $line;
    }, 5);
    return $line // '';
}

my $a_port = tcp_server(tagged_echo('A'));
my $b_port = tcp_server(tagged_echo('B'));
my $dead = do {
    my $t = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die;
    my $p = $t->sockport;
    close $t;
    $p;
};
my $rport = Test::MoongateRedis::start();
my @p = map { Test::Moongate::find_free_port() } 1 .. 12;

my $s = Test::MoongateProc->new(name => 'stream_lua', workers => 1, error_level => 'info');
my $dir = $s->dir;
my $alog = "$dir/logs/stream.log";
mkdir "$dir/lua";
Test::MoongateProc::spew("$dir/lua/greet.lua", "return { hello = function(w) return 'hello ' .. w end }\n");
my $redis = $rport ? "127.0.0.1:$rport" : "127.0.0.1:$dead";
$s->write_conf(http => <<"EOF", server => <<"EOF2", stream => <<"EOF3");
    lua_shared_dict both 1m;
EOF
        location = /get { content_by_lua_block { ngx.say(ngx.config.subsystem, " ", ngx.shared.both:get(ngx.var.arg_k)) } }
        location = /set { content_by_lua_block { ngx.shared.both:set(ngx.var.arg_k, ngx.var.arg_v) ngx.say("ok") } }
EOF2
    lua_shared_dict both 1m;
    lua_package_path "$dir/lua/?.lua;;";
    lua_socket_read_timeout 300ms;
    init_by_lua_block { greet = require("greet") subsystem_at_init = ngx.config.subsystem }
    init_worker_by_lua_block {
        ngx.timer.at(0, function(premature)
            ngx.shared.both:set("init_worker", ngx.config.subsystem .. " " .. ngx.get_phase())
        end)
    }
    log_format lua '\$remote_addr \$status \$bytes_sent \$bytes_received "\$upstream_addr" \$lv \$server_port';
    access_log $alog lua;

    # an echo server: a greeting, then each line back until "quit"
    server { listen 127.0.0.1:$p[0]; set \$lv '-';
        content_by_lua_block {
            local sock = assert(ngx.req.socket(true))
            ngx.say(greet.hello(subsystem_at_init), " ", ngx.get_phase(), " ", ngx.var.server_port)
            while true do
                local line, err = sock:receive()
                if not line then ngx.log(ngx.INFO, "echo: ", err) return end
                if line == "quit" then ngx.exit(ngx.OK) end
                if line == "forbid" then ngx.exit(403) end
                if line == "boom" then error("boom from the echo") end
                local n = assert(sock:send("> " .. line .. "\\n"))
            end
        }
        log_by_lua_block { ngx.var.lv = "logged:" .. ngx.var.status }
    }

    # sizes, receiveany, receiveuntil, ngx.print with tables, ngx.flush(true), ngx.eof
    server { listen 127.0.0.1:$p[1]; set \$lv '-';
        content_by_lua_block {
            local sock = ngx.req.socket()
            local five = sock:receive(5)
            local any = sock:receiveany(100)
            local until_end = sock:receiveuntil("--END--")
            local body = until_end()
            ngx.print({"five=", five, {" any=", any}}, " body=", body, " ", true, " ", nil, "\\n")
            assert(ngx.flush(true))
            ngx.say("after flush")
            ngx.eof()
            local ok, err = ngx.say("late")
            ngx.var.lv = tostring(ok) .. "/" .. tostring(err)
        }
    }

    # preread peeks and routes: the peeked bytes still reach the peer
    server { listen 127.0.0.1:$p[2]; set \$lv '-'; set \$target 127.0.0.1:$dead;
        preread_by_lua_block {
            local sock = assert(ngx.req.socket())
            local head, err = sock:peek(2)
            if not head then ngx.log(ngx.ERR, "peek: ", err) return ngx.exit(400) end
            if head == "NO" then return ngx.exit(403) end
            ngx.var.target = head == "AA" and "127.0.0.1:$a_port" or "127.0.0.1:$b_port"
            ngx.var.lv = head
        }
        proxy_pass \$target;
    }

    # a Lua TCP proxy to redis-server: each line a command, through a kept-alive cosocket
    server { listen 127.0.0.1:$p[3]; set \$lv '-';
        content_by_lua_block {
            local down = ngx.req.socket(true)
            local n = 0
            while true do
                local cmd = down:receive()
                if not cmd then break end
                local up = ngx.socket.tcp()
                assert(up:connect("${\ ($redis =~ s/:.*//r)}", ${\ ($redis =~ s/.*://r)}))
                n = n + 1
                assert(up:send(cmd .. "\\r\\n"))
                local reply = assert(up:receive())
                if reply:sub(1, 1) == "\$" and reply ~= "\$-1" then
                    reply = reply .. "\\r\\n" .. assert(up:receive())
                end
                up:setkeepalive()
                down:send(reply .. "\\r\\n")
            end
            ngx.var.lv = "commands:" .. n
        }
    }

    # shared dict with http{}, timers, ngx.sleep, ngx.ctx between phases
    server { listen 127.0.0.1:$p[4]; set \$lv '-';
        preread_by_lua_block { ngx.ctx.from = "preread" }
        content_by_lua_block {
            local d = ngx.shared.both
            ngx.say("from http: ", d:get("h"), "; init_worker: ", d:get("init_worker"))
            local ok = ngx.timer.at(0.05, function(premature, v)
                d:set("timer", v .. " " .. ngx.config.subsystem)
            end, "fired")
            local t0 = ngx.now()
            ngx.sleep(0.2)
            ngx.update_time()
            ngx.say("timer: ", d:get("timer"), "; slept: ", ngx.now() - t0 >= 0.19,
                    "; ctx: ", ngx.ctx.from, "; worker: ", ngx.worker.id())
            d:set("s", "from stream")
        }
    }

    # balancer_by_lua picks the peer; the first try fails over to the next
    upstream lb {
        server 0.0.0.1:1234;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local failed, status = b.get_last_failure()
            if not failed then
                assert(b.set_more_tries(1))
                assert(b.set_current_peer("127.0.0.1", $dead))
            else
                ngx.log(ngx.WARN, "balancer: last try ", failed, ", ctx ", ngx.ctx.tag)
                assert(b.set_current_peer("127.0.0.1:" .. ngx.var.want))
            end
        }
    }
    server { listen 127.0.0.1:$p[5]; set \$lv '-'; set \$want $b_port;
        preread_by_lua_block { ngx.ctx.tag = "t5" }
        proxy_pass lb;
    }

    # misuse
    server { listen 127.0.0.1:$p[6]; set \$lv '-';
        preread_by_lua_block {
            local ok, err = pcall(ngx.say, "x")
            ngx.ctx.say = err
            local s1 = ngx.req.socket()
            local s2, e2 = ngx.req.socket()
            ngx.ctx.dup = tostring(s2) .. " " .. e2
        }
        content_by_lua_block {
            local sock = ngx.req.socket()
            local ok, err = pcall(sock.peek, sock, 1)
            ngx.say("say in preread: ", ngx.ctx.say)
            ngx.say("second socket: ", ngx.ctx.dup)
            ngx.say("peek in content: ", err)
            ok, err = pcall(function() ngx.var.server_port = "1" end)
            ngx.say("var: ", (err:gsub("^.-:%d+: ", "")))
            ngx.say("http apis: ", type(ngx.header), " ", type(ngx.location), " ", type(ngx.redirect))
            local ok, err = pcall(require, "ngx.resp")
            ngx.say("ngx.resp: ", ok, " ", err)
            ok, err = pcall(require, "ngx.upstream")
            ngx.say("ngx.upstream: ", ok, " ", (err:match("module 'ngx.upstream' not found")))
            local line, err = sock:receive()
            ngx.say("read timeout: ", err)
        }
    }
EOF3
$s->start or stop_here('the server did not start');

# the echo server
{
    my ($got, $eof) = exchange($p[0], ["one\n", \0.05, "two\nquit\n"], undef);
    is($got, "hello stream content $p[0]\n> one\n> two\n", 'content_by_lua: an echo server with ngx.req.socket(true)');
    ok($eof, 'ngx.exit(ngx.OK) ends the session');
    like(wait_access($alog, $p[0], 0), qr/^127\.0\.0\.1 200 \d+ 13 "-" logged:200 $p[0]$/,
         'log_by_lua runs before access_log; $status 200, $bytes_received');
    ($got) = exchange($p[0], "x\nforbid\n", undef);
    is($got, "hello stream content $p[0]\n> x\n", 'ngx.exit(403): the session ends');
    like(wait_access($alog, $p[0], 1), qr/^127\.0\.0\.1 403 .* logged:403 $p[0]$/, 'ngx.exit(403): $status 403');
    my $mark = $s->log_mark;
    ($got) = exchange($p[0], "boom\n", undef);
    is($got, "hello stream content $p[0]\n", 'a Lua error ends the session');
    like(wait_access($alog, $p[0], 2), qr/^127\.0\.0\.1 500 .* logged:500 $p[0]$/, 'a Lua error: $status 500');
    ok($s->wait_log(qr/\[error\] \d+#\d+: \*\d+ lua entry thread aborted: runtime error: content_by_lua\(\w+\.conf:\d+\):\d+: boom from the echo\nstack traceback:\ncoroutine 0:\n\t\[C\]: in function 'error'\n\tcontent_by_lua\(\w+\.conf:\d+\):\d+: in main chunk, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[0]/, $mark),
       'a Lua error: the traceback in the error log with the session\'s context');
    ($got, $eof) = exchange($p[0], "last", undef, half_close => 1);
    is($got, "hello stream content $p[0]\n", 'the client closes: receive says so');
    ok($s->wait_log(qr/\[info\] .*\[lua\] content_by_lua\(\w+\.conf:\d+\):\d+: echo: closed, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[0]/),
       'ngx.log in a stream session: its context in the line');
}

# receive sizes, receiveany, receiveuntil; output
{
    my ($got, $eof) = exchange($p[1], ["12345", \0.1, "abc", \0.1, "the body--END--"], undef);
    is($got, "five=12345 any=abc body=the body true nil\nafter flush\n", 'receive(n), receiveany, receiveuntil; ngx.print of tables, booleans, nil');
    ok($eof, 'ngx.eof: the client sees the end');
    like(wait_access($alog, $p[1], 0), qr/^127\.0\.0\.1 200 54 23 "-" nil\/seen eof $p[1]$/,
         'ngx.say after ngx.eof: nil, "seen eof"; $bytes_sent counts ngx.say\'s bytes');
}

# preread: peek and route
{
    my ($got) = exchange($p[2], ["AA", \0.05, "hello"], 9);
    is($got, 'A:AAhello', 'preread_by_lua peeks 2 bytes, routes to A; the peeked bytes reach it');
    ($got) = exchange($p[2], ["B", \0.1, "Bx"], 5);
    is($got, 'B:BBx', 'peek waits until 2 bytes came; routes to B');
    # the peeked bytes are the preread phase's reads: not in $bytes_received, as nginx's (t/979)
    like(wait_access($alog, $p[2], 1), qr/^127\.0\.0\.1 200 5 0 "127\.0\.0\.1:$b_port" BB $p[2]$/,
         'ngx.var writes a "set" variable; $upstream_addr');
    my ($g, $eof) = exchange($p[2], "NO", undef);
    is($g, '', 'preread ngx.exit(403): nothing sent');
    like(wait_access($alog, $p[2], 2), qr/^127\.0\.0\.1 403 0 0 "-" - $p[2]$/, 'preread ngx.exit(403): $status 403');
    my $mark = $s->log_mark;
    ($g, $eof) = exchange($p[2], "X", undef);
    ok($s->wait_log(qr/\[error\] .*\[lua\] preread_by_lua\(\w+\.conf:\d+\):\d+: peek: timeout while initializing session, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[2]/, $mark),
       'peek times out under lua_socket_read_timeout');
    like(wait_access($alog, $p[2], 3), qr/^127\.0\.0\.1 400 0 0 "-" - $p[2]$/, 'preread ngx.exit(400): $status 400');
}

# a Lua proxy to redis-server through cosockets
SKIP: {
    skip($Test::MoongateRedis::Why, 2) unless $rport;
    my ($got) = exchange($p[3], "SET k v\nGET k\nPING\nGET nope\n", 27);
    is($got, "+OK\r\n\$1\r\nv\r\n+PONG\r\n\$-1\r\n", 'content_by_lua proxies commands to redis-server over cosockets');
    like(wait_access($alog, $p[3], 0), qr/ commands:4 $p[3]$/, '4 commands went through');
}

# shared dict with http{}, timers, sleep, ctx
{
    my $r = Test::MoongateProc::http_get($s->port, '/set?k=h&v=fromhttp');
    is($r->{body}, "ok\n", 'http{} writes the shared dict');
    my ($got) = exchange($p[4], '', undef);
    is($got, "from http: fromhttp; init_worker: stream timer\n"
           . "timer: fired stream; slept: true; ctx: preread; worker: 0\n",
       'stream{} reads it; init_worker_by_lua\'s timer, ngx.timer.at, ngx.sleep, ngx.ctx');
    $r = Test::MoongateProc::http_get($s->port, '/get?k=s');
    is($r->{body}, "http from stream\n", 'what stream{} wrote, http{} reads: one zone');
}

# balancer_by_lua
{
    my $mark = $s->log_mark;
    my ($got) = exchange($p[5], "hi", 4);
    is($got, 'B:hi', 'balancer_by_lua: the second try goes to the peer the code names');
    like(wait_access($alog, $p[5], 0), qr/^127\.0\.0\.1 200 4 2 "127\.0\.0\.1:$dead, 127\.0\.0\.1:$b_port" - $p[5]$/,
         'balancer_by_lua: both tries in $upstream_addr');
    ok($s->wait_log(qr/\[warn\] .*\[lua\] balancer_by_lua\(\w+\.conf:\d+\):\d+: balancer: last try failed, ctx t5/, $mark),
       'get_last_failure, and ngx.ctx from preread');
}

# misuse
{
    my ($got) = exchange($p[6], '', undef);
    is($got, "say in preread: API disabled in the context of preread_by_lua*\n"
           . "second socket: nil duplicate call\n"
           . "peek in content: API disabled in the context of content_by_lua*\n"
           . "var: variable \"server_port\" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use \"set \$server_port '';\" in the config file to define it\n"
           . "http apis: nil nil nil\n"
           . "ngx.resp: false unsupported subsystem: stream\n"
           . "ngx.upstream: false module 'ngx.upstream' not found\n"
           . "read timeout: timeout\n",
       'misuse: errors as stream-lua words them; lua_socket_read_timeout in stream{}');
}

# configuration errors name FILE:LINE
{
    my $conf = $s->conf_file;
    my $bad = Test::MoongateProc::slurp($conf);
    $bad =~ s/(proxy_pass lb;)/$1 content_by_lua_block { ngx.say(1) }/;
    Test::MoongateProc::spew($conf, $bad);
    my ($code, $out, $err) = $s->cmd('-t');
    isnt($code, 0, 'content_by_lua_block beside proxy_pass: refused');
    like($err, qr/"content_by_lua_block" directive is duplicate in \Q$conf\E:\d+/, '... as a duplicate handler, with FILE:LINE');
    $bad =~ s/content_by_lua_block \{ ngx\.say\(1\) \}/content_by_lua_block { ngx.say( }/;
    $bad =~ s/proxy_pass lb;//;
    Test::MoongateProc::spew($conf, $bad);
    ($code, $out, $err) = $s->cmd('-t');
    like($err, qr/failed to load inlined Lua code: content_by_lua\(\w+\.conf:\d+\):1: unexpected symbol near '[^']+' in \Q$conf\E:\d+/,
         'a Lua syntax error in stream{}: a config error with FILE:LINE');
}

$s->stop;
done_testing();
