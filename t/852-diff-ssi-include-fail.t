# An SSI include whose handler fails, as Debian's nginx 1.22 ends the page: a Lua error or
# ngx.exit(444) after the include's output, or ngx.exit(ngx.ERROR) at any time, ends the
# client's request at once, whether the include's turn came or an earlier one still runs:
# the connection closes, what the server held back for postpone_output is dropped, what went
# out stays, without a last chunk. A stub stands for a 444 that gave nothing, never for
# ngx.ERROR. A Lua error before any output is an error page in the include's place.
#
#   prove -I t/lib t/852-diff-ssi-include-fail.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/852-diff-ssi-include-fail.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# /raw?p=PATH: PATH read from the same server through a cosocket; says whether a response
# head came, the de-chunked body, whether the last chunk came and how the connection ended
our $Locations = <<'EOT';
    location /raw {
        content_by_lua_block {
            local s = ngx.socket.tcp()
            s:settimeout(5000)
            assert(s:connect("127.0.0.1", ngx.var.server_port))
            assert(s:send("GET " .. ngx.var.arg_p .. " HTTP/1.1\r\nHost: x\r\n"
                          .. "Connection: close\r\n\r\n"))
            local got, err = ""
            while true do
                local d, e = s:receiveany(65536)
                if not d then err = e break end
                got = got .. d
            end
            local head_end = got:find("\r\n\r\n", 1, true)
            if not head_end then
                ngx.say("head: no, got: [", got, "], ", err)
                return
            end
            local rest, body, last = got:sub(head_end + 4), "", "no"
            while true do
                local size, at = rest:match("^(%x+)\r\n()")
                if not size then break end
                size = tonumber(size, 16)
                if size == 0 then last = "yes" break end
                body = body .. rest:sub(at, at + size - 1)
                rest = rest:sub(at + size + 2)
            end
            ngx.say("head: yes, body: [", body, "], last chunk: ", last, ", ", err)
        }
    }
    location ~ \.html$ { ssi on; }
    location /l/slow { content_by_lua_block { ngx.sleep(0.3) ngx.print("slow") } }
EOT

run_tests();

__DATA__

=== TEST 1: a Lua error after the include's output: nothing went out, the connection closes
--- config eval
$::Locations . q{
    location /l/inc { content_by_lua_block { ngx.print("x") error("boom") } }
}
--- user_files
>>> p.html
A[<!--# include virtual="/l/inc" -->]B
--- request
GET /raw?p=/p.html
--- response_body
head: no, got: [], closed
--- error_log eval
qr/\[error\] .*lua entry thread aborted: runtime error: content_by_lua\(\w+\.conf:\d+\):1: boom/



=== TEST 2: ... in a later include while the first still runs: the same, at once
--- config eval
$::Locations . q{
    location /l/inc { content_by_lua_block { ngx.print("x") ngx.sleep(0.05) error("boom") } }
}
--- user_files
>>> p.html
A[<!--# include virtual="/l/slow" -->]B[<!--# include virtual="/l/inc" -->]C
--- request
GET /raw?p=/p.html
--- response_body
head: no, got: [], closed
--- error_log eval
[qr/lua entry thread aborted: runtime error: /, qr/in main chunk, client: .*subrequest: "\/l\/inc"/]



=== TEST 3: what the include flushed before its error went out, without a last chunk
--- config eval
$::Locations . q{
    location /l/inc { content_by_lua_block { ngx.print("x") ngx.flush(true) error("boom") } }
}
--- user_files
>>> p.html
A[<!--# include virtual="/l/inc" -->]B
--- request
GET /raw?p=/p.html
--- response_body
head: yes, body: [A[x], last chunk: no, closed



=== TEST 4: ngx.exit(ngx.ERROR) before any output: a stub does not stand for it
--- config eval
$::Locations . q{
    location /l/inc { content_by_lua_block { ngx.exit(ngx.ERROR) } }
}
--- user_files
>>> p.html
<!--# block name="s" -->STUB<!--# endblock -->A[<!--# include virtual="/l/inc" stub="s" -->]B
--- request
GET /raw?p=/p.html
--- response_body
head: no, got: [], closed



=== TEST 5: ngx.exit(444) before any output: the stub stands for it, the page goes on
--- config eval
$::Locations . q{
    location /l/inc { content_by_lua_block { ngx.exit(444) } }
}
--- user_files
>>> p.html
<!--# block name="s" -->STUB<!--# endblock -->A[<!--# include virtual="/l/inc" stub="s" -->]B
--- request
GET /raw?p=/p.html
--- response_body
head: yes, body: [A[STUB]B
], last chunk: yes, closed



=== TEST 6: ngx.exit(444) after output: no stub, the request ends
--- config eval
$::Locations . q{
    location /l/inc { content_by_lua_block { ngx.print("x") ngx.exit(444) } }
}
--- user_files
>>> p.html
<!--# block name="s" -->STUB<!--# endblock -->A[<!--# include virtual="/l/inc" stub="s" -->]B
--- request
GET /raw?p=/p.html
--- response_body
head: no, got: [], closed



=== TEST 7: ngx.exit(444) without a stub ends the request too
--- config eval
$::Locations . q{
    location /l/inc { content_by_lua_block { ngx.exit(444) } }
}
--- user_files
>>> p.html
A[<!--# include virtual="/l/slow" -->]B[<!--# include virtual="/l/inc" -->]C
--- request
GET /raw?p=/p.html
--- response_body
head: no, got: [], closed



=== TEST 8: a Lua error before any output: its error page in its place, the page goes on
--- config eval
$::Locations . q{
    location /l/inc { content_by_lua_block { error("boom") } }
}
--- user_files
>>> p.html
A[<!--# include virtual="/l/slow" -->]B[<!--# include virtual="/l/inc" -->]C
--- request
GET /raw?p=/p.html
--- response_body_like
^head: yes, body: \[A\[slow\]B\[<html>.*500 Internal Server Error.*</html>\r\n\]C\n\], last chunk: yes, closed$
