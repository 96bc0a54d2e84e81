# Debian's lua-nginx-string (OpenResty's lua-resty-string: SHA/MD5 through OpenSSL's
# functions, AES, random bytes, to_hex/atoi through nginx's own ngx_hex_dump/ngx_atoi) and
# lua-nginx-cookie, unchanged, unpacked by Test::MoongateLuaNginx (apt-get download + dpkg -x;
# configure --install-deps fetches them). The libraries call C through ffi.C, so the binary
# must export what they declare.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/448-lua-nginx-string-cookie.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateLuaNginx;

plan 'no_plan';

my $lib = Test::MoongateLuaNginx::lib(qw(lua-nginx-string lua-nginx-cookie));
$ENV{TEST_NGINX_LUA_NGINX} = $lib // '';
add_block_preprocessor(sub {
    $_[0]->set_value(moongate_skip => $Test::MoongateLuaNginx::Why) unless $lib;
});

run_tests();

__DATA__

=== TEST 1: nginx.sha1/md5/sha224/256/384/512 digests of "abc", in two updates, as hex
--- http_config
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local str = require "nginx.string"
            for _, name in ipairs({ "md5", "sha1", "sha224", "sha256", "sha384", "sha512" }) do
                local d = require("nginx." .. name):new()
                assert(d:update("a"))
                assert(d:update("bc"))
                ngx.say(name, " ", str.to_hex(d:final()))
            end
            local d = require("nginx.sha1"):new()
            d:update("abc")
            ngx.say("same as ngx.sha1_bin: ", d:final() == ngx.sha1_bin("abc"))
        }
    }
--- request
GET /t
--- response_body
md5 900150983cd24fb0d6963f7d28e17f72
sha1 a9993e364706816aba3e25717850c26c9cd0d89d
sha224 23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7
sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
sha384 cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7
sha512 ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f
same as ngx.sha1_bin: true
--- no_error_log
[error]

=== TEST 2: nginx.string to_hex and atoi (nginx's ngx_hex_dump and ngx_atoi)
--- http_config
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local str = require "nginx.string"
            ngx.say(str.to_hex("\0\1\127\255AZ"), " [", str.to_hex(""), "]")
            ngx.say(str.atoi("12345"), " ", str.atoi("0"), " ", str.atoi("12a"), " ", str.atoi(""))
        }
    }
--- request
GET /t
--- response_body
00017fff415a []
12345 0 -1 -1

=== TEST 3: nginx.aes: EVP_BytesToKey with md5, aes-128-cbc (what `openssl enc -md md5 -nosalt` gives), round trip
--- http_config
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local aes = require "nginx.aes"
            local str = require "nginx.string"
            local a = assert(aes:new("secret", nil, aes.cipher(128, "cbc"), aes.hash.md5))
            local enc = a:encrypt("hello world")
            ngx.say(str.to_hex(enc))
            ngx.say(a:decrypt(enc))
            local b = assert(aes:new("secret", "12345678", aes.cipher(256, "cbc"), aes.hash.sha256, 3))
            ngx.say(b:decrypt(b:encrypt("longer text, more than one block of sixteen")))
            ngx.say(aes:new("secret", "short"))
        }
    }
--- request
GET /t
--- response_body
25f3160d93859d62b732fcfc970f00d0
hello world
longer text, more than one block of sixteen
nilsalt must be 8 characters or nil

=== TEST 4: nginx.random bytes (OpenSSL's RAND_bytes), strong and not, differing each call
--- http_config
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local random = require "nginx.random"
            local a, b = random.bytes(16, true), random.bytes(16)
            ngx.say(#a, " ", #b, " ", a ~= random.bytes(16, true), " ", b ~= random.bytes(16))
        }
    }
--- request
GET /t
--- response_body
16 16 true true

=== TEST 5: nginx.cookie: get, get_all from the request's Cookie, set several Set-Cookie headers
--- http_config
    lua_package_path "$TEST_NGINX_LUA_NGINX/?.lua;;";
--- config
    location /t {
        content_by_lua_block {
            local ck = require "nginx.cookie"
            local cookie = assert(ck:new())
            -- headers first: ngx.say sends them
            assert(cookie:set({ key = "session", value = "xyz", path = "/", httponly = true,
                                max_age = 60 }))
            assert(cookie:set({ key = "lang", value = "en", secure = true }))
            local ok, err = cookie:set({ value = "nokey" })
            ngx.say("a=", cookie:get("a"), " b=", cookie:get("b"), " none=", tostring(cookie:get("none")))
            local all = cookie:get_all()
            local keys = {}
            for k, v in pairs(all) do keys[#keys + 1] = k .. ":" .. v end
            table.sort(keys)
            ngx.say(table.concat(keys, ","))
            ngx.say(ok, err)
        }
    }
--- request
GET /t
--- more_headers
Cookie: a=1; b=two%20words; c=3
--- raw_response_headers_like chomp
Set-Cookie: session=xyz; Max-Age=60; Path=/; HttpOnly\r\nSet-Cookie: lang=en; Secure\r\n
--- response_body
a=1 b=two%20words none=nil
a:1,b:two%20words,c:3
nilmissing cookie field "key" or "value"
