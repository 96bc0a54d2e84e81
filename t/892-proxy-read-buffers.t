# A buffered proxied response (proxy_buffering on) read as nginx's event pipe reads it: one
# read fills as many free proxy_buffers as the upstream has bytes for, and buffers the client
# has taken are read into again rather than the response going to a temporary file. The
# upstream here is a Lua handler on a raw socket of the same server that sends its whole
# answer (head, body, anything after) in one send, so all of it waits in the socket when the
# proxy reads: a client that reads at once gets a 64 KiB body with no temporary file (there was
# one for every such response: its buffers, all filled, were written to a file even though the
# client had taken the first ones); a Content-Length body that ends where a buffer ends, with
# bytes after it in the next one, is still "more data than specified" (the connection is not
# kept); chunked and close-delimited bodies over many buffers come whole.
#
#   prove -I t/lib t/892-proxy-read-buffers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/892-proxy-read-buffers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

add_block_preprocessor(sub {
    my $b = shift;
    # /up?m=cl|chunked|close&n=N&extra=E: a head, N bytes of a pattern (chunked: in 1000-byte
    # chunks), then E bytes of "z", all in one send
    $b->set_value(config => <<'EOF2' . $b->config);
    location /up {
        content_by_lua_block {
            local sock = ngx.req.socket(true)
            local m, n = ngx.var.arg_m, tonumber(ngx.var.arg_n)
            local body = string.rep("0123456789abcdef", math.ceil(n / 16)):sub(1, n)
            local head = "HTTP/1.1 200 OK\r\n"
                .. (m == "cl" and "Content-Length: " .. n .. "\r\n" or "")
                .. (m == "chunked" and "Transfer-Encoding: chunked\r\n" or "")
                .. (m == "close" and "Connection: close\r\n" or "")
                .. "\r\n"
            if m == "chunked" then
                local parts = {}
                for i = 1, n, 1000 do
                    local p = body:sub(i, i + 999)
                    parts[#parts + 1] = string.format("%x\r\n", #p) .. p .. "\r\n"
                end
                body = table.concat(parts) .. "0\r\n\r\n"
            end
            sock:send(head .. body .. string.rep("z", tonumber(ngx.var.arg_extra or 0)))
            ngx.sleep(0.2)
        }
    }
EOF2
});

sub body { my $n = shift; substr("0123456789abcdef" x (int($n / 16) + 1), 0, $n) }

run_tests();

__DATA__

=== TEST 1: a 64 KiB body to a client that reads at once: no temporary file
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=cl&n=65536; }
--- request
GET /t
--- response_body eval
main::body(65536)
--- no_error_log
buffered to a temporary file
[error]



=== TEST 2: a Content-Length body ending where a proxy buffer ends, more bytes after it
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=cl&n=12246&extra=100;
    }
--- request
GET /t
--- response_body eval
main::body(12246)
--- error_log
upstream sent more data than specified in "Content-Length" header
--- no_error_log
[error]



=== TEST 3: a chunked body over many buffers comes whole
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=chunked&n=70000;
    }
--- request
GET /t
--- response_body eval
main::body(70000)
--- no_error_log
buffered to a temporary file
[error]



=== TEST 4: a body the upstream's close ends, over many buffers
--- config
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up?m=close&n=70000; }
--- request
GET /t
--- response_body eval
main::body(70000)
--- no_error_log
buffered to a temporary file
[error]
