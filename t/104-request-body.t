# The request body read into memory (core/http/body.c): a body of very many tiny chunks is
# read in time and memory proportional to its size (each piece is copied into the buffer being
# filled, never linked on its own and never found by walking the chain), both for
# ngx.req.read_body and for proxy_pass with request buffering; bodies spanning several
# client_body_buffer_size buffers keep their bytes in order; a chunk whose announced size
# passes client_max_body_size is refused with 413 from its first byte on; a body already read
# goes to a location that wants it unbuffered from memory.
#
# The CPU check reads the server's own /proc/self/stat (utime + stime, in USER_HZ = 100 ticks
# a second): the whole process stays under 2 s where the old chain walk took ~16 s for
# 150,000 chunks and the fixed code takes ~0.05 s (ASan ~3x): a margin of 8x and more each way.
#
#   prove -I t/lib t/104-request-body.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/104-request-body.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Digest::MD5 ();

# nginx built with debugging logs every chunk at debug level, which costs it seconds here
log_level('info');

# 150,000 chunks of one byte each (0.9 MB on the wire, a 150,000-byte body)
our $Letters = CORE::join '', map { chr(97 + $_ % 26) } 0 .. 149_999;
our $Chunks = CORE::join('', map { "1\r\n$_\r\n" } split //, $Letters) . "0\r\n\r\n";
our $Md5 = Digest::MD5::md5_hex($Letters);

# a body whose bytes say where they are, for the multi-buffer cases
sub pattern { my $n = shift; substr(CORE::join('', map { sprintf "%07d,", $_ } 0 .. $n / 8), 0, $n) }

add_block_preprocessor(sub {
    my $block = shift;
    # the process's CPU seconds so far, and the body's length and MD5
    $block->set_value(http_config => <<'EOF' . ($block->http_config // ''));
    init_by_lua_block {
        function cpu_seconds()
            local f = io.open("/proc/self/stat")
            local s = f:read("*a")
            f:close()
            local rest = s:match("%)%s+(.*)")
            local i, utime, stime = 0
            for field in rest:gmatch("%S+") do
                i = i + 1
                if i == 12 then utime = tonumber(field) end
                if i == 13 then stime = tonumber(field); break end
            end
            return (utime + stime) / 100
        end
        function say_body()
            ngx.req.read_body()
            local body = ngx.req.get_body_data()
            if not body then
                -- nginx keeps a body over client_body_buffer_size in a file
                local name = ngx.req.get_body_file()
                local f = name and io.open(name)
                body = f and f:read("*a") or ""
            end
            ngx.say(#body, " ", ngx.md5(body))
        end
    }
EOF
});

run_tests();

__DATA__

=== TEST 1: 150,000 one-byte chunks read by ngx.req.read_body: the whole body, in far less than 2 s of CPU
--- config
    location /t {
        client_body_buffer_size 1m;
        content_by_lua_block {
            say_body()
            local cpu = cpu_seconds()
            ngx.say(cpu < 2 and "cpu ok" or "cpu " .. cpu .. " s")
        }
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" . $main::Chunks
--- timeout: 5
--- response_body eval
"150000 $main::Md5\ncpu ok\n"



=== TEST 2: the same body through proxy_pass (request buffering on): the upstream gets it whole with a Content-Length
--- config
    location /t {
        client_body_buffer_size 1m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location /backend {
        client_body_buffer_size 1m;
        content_by_lua_block {
            ngx.say(ngx.var.http_content_length, " ", tostring(ngx.var.http_transfer_encoding))
            say_body()
            local cpu = cpu_seconds()
            ngx.say(cpu < 2 and "cpu ok" or "cpu " .. cpu .. " s")
        }
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" . $main::Chunks
--- timeout: 5
--- response_body eval
"150000 nil\n150000 $main::Md5\ncpu ok\n"



=== TEST 3: a Content-Length body arriving in pieces across several client_body_buffer_size buffers
--- config
    location /t {
        client_body_buffer_size 1k;
        content_by_lua_block { say_body() }
    }
--- raw_request eval
my $b = main::pattern(10000);
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 10000\r\n\r\n"
 . substr($b, 0, 3333), substr($b, 3333, 3333), substr($b, 6666)]
--- raw_request_middle_delay: 0.1
--- response_body eval
"10000 " . Digest::MD5::md5_hex(main::pattern(10000)) . "\n"



=== TEST 4: a chunked body of uneven chunks across several buffers, then proxied with it
--- config
    location /t {
        client_body_buffer_size 1k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location /backend {
        client_body_buffer_size 64k;
        content_by_lua_block { say_body() }
    }
--- raw_request eval
my $b = main::pattern(20000);
my ($c, $at) = ('', 0);
for my $n (1, 1000, 7, 3000, 1024, 1, 5000, 2500) {
    $c .= sprintf("%x\r\n%s\r\n", $n, substr($b, $at, $n));
    $at += $n;
}
$c .= sprintf("%x\r\n%s\r\n", 20000 - $at, substr($b, $at)) . "0\r\n\r\n";
["POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
 . substr($c, 0, 9000), substr($c, 9000)]
--- raw_request_middle_delay: 0.1
--- response_body eval
"20000 " . Digest::MD5::md5_hex(main::pattern(20000)) . "\n"



=== TEST 5: a chunk announcing more than client_max_body_size is refused at its first byte
--- config
    location /t {
        client_max_body_size 1k;
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("not reached")
        }
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "10\r\n0123456789abcdef\r\n500\r\nx"
--- error_code: 413
--- response_body_like: 413 Request Entity Too Large
--- error_log eval
qr/\[error\] .*: \*\d+ client intended to send too large chunked body: 16\+1280 bytes, client: 127\.0\.0\.1, server: localhost, request: "POST \/t HTTP\/1\.1", host: "localhost"$/
--- no_error_log
not reached



=== TEST 6: the same while proxying without request buffering
--- config
    location /t {
        client_max_body_size 1k;
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location /backend {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.log(ngx.ERR, "backend reached")
        }
    }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "100000\r\nx"
--- error_code: 413
--- response_body_like: 413 Request Entity Too Large
--- error_log eval
qr/\[error\] .*client intended to send too large chunked body: 0\+1048576 bytes/



=== TEST 7: ngx.req.append_body piece by piece costs what the bytes cost (150,000 pieces)
--- config
    location /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.req.init_body(200000) -- nginx: in memory up to this size, not a temp file
            for i = 1, 150000 do ngx.req.append_body("x") end
            ngx.req.finish_body()
            ngx.say(#ngx.req.get_body_data(), " ", ngx.md5(ngx.req.get_body_data()) == ngx.md5(string.rep("x", 150000)))
        }
    }
--- request
GET /t
--- response_body
150000 true



=== TEST 8: a body already read (by Lua here, or for a mirror) goes upstream whole when the location asks for it unbuffered
--- config
    location /t {
        access_by_lua_block { ngx.req.read_body() }
        proxy_request_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    location /backend {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("got [", ngx.req.get_body_data(), "]")
        }
    }
--- request
POST /t
hello there
--- response_body
got [hello there]
