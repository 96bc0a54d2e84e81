# add_trailer (fields after a chunked body: chunked forced on HTTP/1.1 even with a length,
# none on HTTP/1.0 or HEAD, nginx's statuses or "always", values evaluated at the end, empty
# ones dropped, inheritance), $sent_trailer_NAME, and $upstream_trailer_NAME (never found with
# the proxy, which drops an upstream's trailers, as nginx's).  The raw responses are read
# by a Lua cosocket location (/raw?u=URI[&p=1.0][&m=HEAD]) that prints the status line, the
# framing header and the body as received (CRs removed).
#
#   prove -I t/lib t/317-trailers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/317-trailers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $port2 = env_port('TEST_NGINX_PORT2');

our $Raw = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / { add_trailer X-Up up; return 200 "up\n"; }
    }
_EOC_

our $RawLoc = <<'_EOC_';
    location = /raw {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", ngx.var.server_port))
            sock:send((ngx.var.arg_m or "GET") .. " " .. ngx.var.arg_u .. " HTTP/"
                      .. (ngx.var.arg_p or "1.1") .. "\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            local data = assert(sock:receive("*a"))
            sock:close()
            data = data:gsub("\r", "")
            local head, body = data:match("^(.-)\n\n(.*)$")
            local out = { head:match("^[^\n]*") }
            for line in head:gmatch("[^\n]+") do
                local l = line:lower()
                if l:find("^transfer%-encoding:") or l:find("^content%-length:") then
                    out[#out + 1] = line
                end
            end
            ngx.print(table.concat(out, "\n"), "\n\n", body)
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $Raw . ($block->http_config // ''));
    $block->set_value(config => $RawLoc . ($block->config // ''));
});

run_tests();

__DATA__

=== TEST 1: a static file: chunked instead of its length, the trailers after the last chunk; an empty value is dropped
--- config
    location /f/ {
        alias $TEST_NGINX_HTML_DIR/;
        add_trailer X-T "t-$status";
        add_trailer X-E "";
    }
--- user_files
>>> a.txt
file-a
--- request
GET /raw?u=/f/a.txt
--- response_body eval
"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n7\nfile-a\n\n0\nX-T: t-200\n\n"



=== TEST 2: HTTP/1.0 and HEAD: no trailers, the length kept
--- config
    location /f/ {
        alias $TEST_NGINX_HTML_DIR/;
        add_trailer X-T t;
    }
--- user_files
>>> a.txt
file-a
--- request eval
["GET /raw?u=/f/a.txt&p=1.0", "GET /raw?u=/f/a.txt&m=HEAD"]
--- response_body eval
["HTTP/1.1 200 OK\nContent-Length: 7\n\nfile-a\n", "HTTP/1.1 200 OK\nContent-Length: 7\n\n"]



=== TEST 3: an error status gets only the "always" trailers
--- config
    location /e {
        add_trailer X-T et;
        add_trailer X-A ea always;
        return 404;
    }
--- request
GET /raw?u=/e
--- response_body_like chomp
^HTTP/1.1 404 Not Found\nTransfer-Encoding: chunked\n\n[0-9a-f]+\n<html>.*</html>\n\n0\nX-A: ea\n\n$



=== TEST 4: inheritance: a level with its own add_trailer drops the parent's; add_header does not count
--- config
    location /inh {
        add_trailer X-T parent;
        location /inh/c {
            add_header X-H h;
            return 200 "c\n";
        }
        location /inh/d {
            add_trailer X-D d;
            return 200 "d\n";
        }
    }
--- request eval
["GET /raw?u=/inh/c", "GET /raw?u=/inh/d"]
--- response_body eval
["HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nc\n\n0\nX-T: parent\n\n",
 "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nd\n\n0\nX-D: d\n\n"]



=== TEST 5: proxied: the upstream's trailers are not passed on, $upstream_trailer_NAME is not found, the location's are sent
--- config
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_http_version 1.1;
        add_trailer X-T pt;
        add_trailer X-U "[$upstream_trailer_x_up]";
    }
--- request
GET /raw?u=/p
--- response_body eval
"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nup\n\n0\nX-T: pt\nX-U: []\n\n"



=== TEST 6: $sent_trailer_NAME, at the end of the response (log phase), case and dashes aside
--- config
    location /f/ {
        alias $TEST_NGINX_HTML_DIR/;
        add_trailer X-T "t-$status";
        log_by_lua_block { ngx.log(ngx.WARN, "sent [", ngx.var.sent_trailer_x_t, "] [", ngx.var.SENT_TRAILER_X_T, "] [", tostring(ngx.var.sent_trailer_none), "]") }
    }
--- user_files
>>> a.txt
file-a
--- request
GET /f/a.txt
--- response_body
file-a
--- error_log
sent [t-200] [t-200] [nil]



=== TEST 7: add_trailer: a bad parameter
--- config
    location / { add_trailer a b c; }
--- must_die
--- error_log eval
qr/invalid parameter "c" in \S+:\d+/



=== TEST 8: add_trailer: too few arguments
--- config
    location / { add_trailer a; }
--- must_die
--- error_log eval
qr/invalid number of arguments in "add_trailer" directive in \S+:\d+/
