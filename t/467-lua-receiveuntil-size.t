# receiveuntil's iterator with a size, as lua-nginx-module's: when a partial match of the
# pattern fails, its bytes go into the result at once (which may then pass the size), but the
# byte that broke the match, if it starts nothing, is the next call's.
# Found by t/fuzz/fuzz_receiveuntil.c.
#
#   prove -I t/lib t/467-lua-receiveuntil-size.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/467-lua-receiveuntil-size.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(broken => 'script', script => ["xaaXYZ"]);
backend(crlf   => 'script', script => ["abc\r\nxyz"]);

add_block_preprocessor(sub {
    my $block = shift;
    return if defined $block->http_config;
    $block->set_value(http_config => <<'_EOC_');
    init_by_lua_block {
        function show(...)
            local n = select("#", ...)
            local t = {}
            for i = 1, n do
                local v = select(i, ...)
                t[i] = type(v) == "string" and string.format("%q", v) or tostring(v)
            end
            ngx.say(n, ": ", table.concat(t, ", "))
        end
    }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: a size of 2: "aa" given back fills it, the "X" that broke "aab" comes next
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_BROKEN_PORT))
            local it = sock:receiveuntil("aab")
            for i = 1, 3 do
                show(it(2))
            end
        }
    }
--- request
GET /t
--- response_body
1: "xaa"
1: "XY"
3: nil, "closed", "Z"



=== TEST 2: a size of 4 with "\rJ": "abc" and the "\r" given back, the "\n" in the next call
--- config
    location /t {
        content_by_lua_block {
            local function crlf(s)
                return s and (s:gsub("\r", "<CR>"):gsub("\n", "<LF>"))
            end
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_CRLF_PORT))
            local it = sock:receiveuntil("\rJ")
            for i = 1, 3 do
                local data, err, partial = it(4)
                show(crlf(data), err, crlf(partial))
            end
        }
    }
--- request
GET /t
--- response_body
3: "abc<CR>", nil, nil
3: "<LF>xyz", nil, nil
3: nil, "closed", ""
