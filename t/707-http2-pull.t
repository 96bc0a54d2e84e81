# Response bodies on h2 streams framed from the writer's own buffers (v2_data.c): a stream holds
# references to what the writer offers, not a copy, and the producer waits until they went.
# Proxied bodies (buffered and not, with a length and chunked) and Lua's many small prints
# arrive whole and in order under small windows; a Lua producer whose client keeps its window
# shut does not get past its first ngx.flush(true) (the stream buffers nothing of its own); a
# stream reset, or a connection closed, while its bytes are referenced leaves the worker serving.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/707-http2-pull.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateBackend;

plan 'no_plan';
log_level('info');

backend(up => 'echo', size => 1000000);

h2_blocks(no_error_log => "[crit]\n[alert]\n[emerg]");

run_tests();

__DATA__

=== TEST 1: proxied 1 MB bodies under a 16 KiB stream window: buffered, unbuffered with small buffers, chunked, four at once
--- config
    location /b { proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT; proxy_buffers 4 4k; }
    location /u { proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT; proxy_buffering off; proxy_buffer_size 4k; }
    location /c {
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT;
        proxy_set_header X-Echo-Mode chunked;
        proxy_buffering off;
    }
--- h2_py
import h2.settings
want = pattern(1000000)
c = Client($TEST_NGINX_SERVER_PORT, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16384})
ids = [c.request(p) for p in ('/b', '/u', '/c', '/b')]
c.wait(*ids, timeout=30)
for i in ids:
    st = c.streams[i]
    print(st.status, len(st.body), st.body == want, st.ended)
--- h2_out
200 1000000 True True
200 1000000 True True
200 1000000 True True
200 1000000 True True
--- timeout: 40



=== TEST 2: Lua: 20000 small prints (more pieces than a stream references at once), with and without flushes, under a 1000-byte window
--- config
    location /many {
        content_by_lua_block {
            for i = 1, 20000 do
                ngx.print(i, ",")
                if ngx.var.arg_flush and i % 997 == 0 then ngx.flush(i % 2 == 0) end
            end
        }
    }
--- h2_py
import h2.settings
want = ''.join('%d,' % i for i in range(1, 20001)).encode()
c = Client($TEST_NGINX_SERVER_PORT, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
ids = [c.request('/many'), c.request('/many?flush=1')]
c.wait(*ids, timeout=30)
for i in ids:
    st = c.streams[i]
    print(st.status, len(st.body) == len(want), st.body == want, st.ended)
--- h2_out
200 True True True
200 True True True
--- timeout: 40



=== TEST 3: a client that keeps its window shut: the producer stays at its first ngx.flush(true); once the window opens, all comes
--- http_config
    lua_shared_dict progress 1m;
--- config
    location /produce {
        content_by_lua_block {
            local piece = string.rep("p", 16384)
            for i = 1, 4 do
                ngx.print(piece)
                ngx.flush(true)
                ngx.shared.progress:set("n", i)
            end
        }
    }
    location /progress {
        content_by_lua_block { ngx.print(ngx.shared.progress:get("n") or 0) }
    }
--- h2_py
import time
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(Raw.frame(4, 0, 0, (4).to_bytes(2, 'big') + (0).to_bytes(4, 'big')))  # initial window 0
r.send(r.headers(1, '/produce'))
r.read(5, until=lambda: 1 in r.statuses)
# its HEADERS went: the first piece was given; a stream that buffered it would let the
# producer on to its next pieces at once
time.sleep(0.5)
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/progress')
c.wait(a)
print('status', r.statuses.get(1), 'flushed while shut', c.streams[a].body.decode())
r.send(Raw.frame(8, 0, 0, (1 << 20).to_bytes(4, 'big')) + Raw.frame(8, 0, 1, (1 << 20).to_bytes(4, 'big')))
got = lambda: sum(len(p) for n, f, s, p in r.frames if n == 'DATA' and s == 1)
r.read(10, until=lambda: got() >= 65536)
ended = any(n == 'DATA' and s == 1 and f & 1 for n, f, s, p in r.frames)
b = c.request('/progress')
c.wait(b)
print('data', got(), 'ended', ended, 'flushed', c.streams[b].body.decode())
--- h2_out
status 200 flushed while shut 0
data 65536 ended True flushed 4



=== TEST 4: streams reset, and a connection closed, while their bytes are referenced (windows shut): the worker serves on
--- config
    location /lua { content_by_lua_block { ngx.print(string.rep("x", 100000)) } }
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT; proxy_buffering off; }
    location /f { alias $TEST_NGINX_HTML_DIR/big; }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/big" or die $!;
print $fh 'f' x 300000;
close $fh;
--- h2_py
for close in (False, True):
    r = Raw($TEST_NGINX_SERVER_PORT)
    r.send(Raw.frame(4, 0, 0, (4).to_bytes(2, 'big') + (0).to_bytes(4, 'big')))
    r.send(r.headers(1, '/lua') + r.headers(3, '/p') + r.headers(5, '/f'))
    r.read(5, until=lambda: len(r.statuses) == 3)
    if close:
        r.sock.close()
    else:
        r.send(b''.join(Raw.frame(3, 0, i, (8).to_bytes(4, 'big')) for i in (1, 3, 5)))
        r.send(Raw.frame(8, 0, 0, (1 << 20).to_bytes(4, 'big')))
        r.send(Raw.frame(4, 0, 0, (4).to_bytes(2, 'big') + (1 << 20).to_bytes(4, 'big')))
        r.send(r.headers(7, '/f'))
        r.read(10, until=lambda: sum(len(p) for n, f, s, p in r.frames if n == 'DATA' and s == 7) >= 300000)
        print('statuses', sorted(r.statuses.items()), 'after reset',
              sum(len(p) for n, f, s, p in r.frames if n == 'DATA' and s == 7))
--- h2_out
statuses [(1, '200'), (3, '200'), (5, '200'), (7, '200')] after reset 300000
--- timeout: 30



=== TEST 5: a file truncated while its range waits to be framed (the window shut): the read fails, the stream is reset, the worker serves on
--- config
    location /f { alias $TEST_NGINX_HTML_DIR/big; }
    location / { return 200 "ok\n"; }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/big" or die $!;
print $fh 'f' x 300000;
close $fh;
--- h2_py
import os
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(Raw.frame(4, 0, 0, (4).to_bytes(2, 'big') + (0).to_bytes(4, 'big')))
r.send(r.headers(1, '/f'))
r.read(5, until=lambda: 1 in r.statuses)
os.truncate(os.path.join('$TEST_NGINX_HTML_DIR', 'big'), 1000)
r.send(Raw.frame(8, 0, 0, (1 << 20).to_bytes(4, 'big')) + Raw.frame(8, 0, 1, (1 << 20).to_bytes(4, 'big')))
r.read(5, until=lambda: 1 in r.resets() or r.closed)
data = sum(len(p) for n, f, s, p in r.frames if n == 'DATA' and s == 1)
r.send(r.headers(3, '/'))
r.read(5, until=lambda: 3 in r.statuses or r.closed)
print(r.statuses.get(1), 'reset', r.resets().get(1), 'whole', data == 300000, 'then', r.statuses.get(3))
--- h2_out
200 reset 2 whole False then 200
--- error_log
file was truncated while sending the response
--- no_error_log
[crit]
[emerg]
--- moongate_only: nginx words its alert otherwise ("... was truncated")



=== TEST 6: limit_rate on streams (the writer waits for its timer with bytes offered): file, Lua and proxied bodies whole
--- config
    limit_rate 400k;
    limit_rate_after 16k;
    location /f { alias $TEST_NGINX_HTML_DIR/big; }
    location /lua { content_by_lua_block { for i = 1, 30 do ngx.print(string.rep(string.char(96 + i % 26), 10000)) end } }
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT; }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/big" or die $!;
print $fh join('', map { chr($_ % 251) } 0 .. 299999);
close $fh;
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
ids = [c.request('/f'), c.request('/lua'), c.request('/p')]
c.wait(*ids, timeout=20)
s = pattern(1000000)
want = [bytes(i % 251 for i in range(300000)),
        b''.join(bytes([96 + i % 26]) * 10000 for i in range(1, 31)), s]
for i, w in zip(ids, want):
    st = c.streams[i]
    print(st.status, len(st.body), st.body == w, st.ended)
--- h2_out
200 300000 True True
200 300000 True True
200 1000000 True True
--- timeout: 30
