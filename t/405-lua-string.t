# The ngx.* string helpers (lua/string.c): escape_uri with its types and unescape_uri,
# encode_args/decode_args, quote_sql_str, md5/md5_bin/sha1_bin/hmac_sha1 against the RFC
# vectors, crc32, base64 (RFC 4648 vectors, no_padding, invalid input), and how each treats
# nil, numbers, other types and a wrong argument count (lua-nginx-module 0.10.23 with
# lua-resty-core, as Debian ships it).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/405-lua-string.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: escape_uri of every byte, per type: what stays, and %XX in capitals for the rest
--- config
    location /t {
        content_by_lua_block {
            for t = 0, 6 do
                local kept, high, bad = {}, 0, 0
                for b = 0, 255 do
                    local c = string.char(b)
                    local e = t == 2 and ngx.escape_uri(c) or ngx.escape_uri(c, t)
                    if e == c then
                        if b >= 0x20 and b < 0x7f then
                            kept[#kept + 1] = c
                        else
                            high = high + 1
                        end
                    elseif e ~= string.format("%%%02X", b) then
                        bad = bad + 1
                    end
                end
                ngx.say(t, ": [", table.concat(kept), "] +", high, " bad ", bad)
            end
        }
    }
--- request
GET /t
--- response_body
0: [!"$&'()*+,-./0123456789:;<=>@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~] +0 bad 0
1: [!"$&'()*,-./0123456789:;<=>@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~] +0 bad 0
2: [!'()*-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~] +0 bad 0
3: [!$&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~] +0 bad 0
4: [!#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~] +0 bad 0
5: [!"#$&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~] +129 bad 0
6: [!"#$&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~] +129 bad 0



=== TEST 2: escape_uri: UTF-8, nil/false/numbers/tostring, the type argument's checks
--- config
    location /t {
        content_by_lua_block {
            ngx.say(ngx.escape_uri("a 你/b?c=d&e"))
            ngx.say(ngx.escape_uri("/a b?c#d", 0))
            ngx.say("[", ngx.escape_uri(nil), "][", ngx.escape_uri(false), "][", ngx.escape_uri(), "]")
            ngx.say(ngx.escape_uri(12.5), " ", ngx.escape_uri(true), " ", ngx.escape_uri(1e20))
            local t = setmetatable({}, { __tostring = function() return "x y" end })
            ngx.say(ngx.escape_uri(t))
            ngx.say(ngx.escape_uri("a b", 5.9), " ", ngx.escape_uri("a+b", 1.5))
            for _, typ in ipairs({ 7, -1, 6.5, "2", true }) do
                local ok, err = pcall(ngx.escape_uri, "x", typ)
                ngx.say(ok, " ", err:match('"type".*'))
            end
        }
    }
--- request
GET /t
--- response_body
a%20%E4%BD%A0%2Fb%3Fc%3Dd%26e
/a%20b%3Fc%23d
[][][]
12.5 true 1e%2B20
x%20y
a%20b a%2Bb
false "type" 7 out of range
false "type" -1 out of range
false "type" 6.5 out of range
false "type" is not a number
false "type" is not a number



=== TEST 3: unescape_uri: %XX either case, '+' is a space, broken escapes stay as they are
--- config
    location /t {
        content_by_lua_block {
            local cases = {
                { "a%20%e4%bd%a0", "a 你" }, { "%E4%BD%A0", "你" }, { "a+b%2B", "a b+" },
                { "%zz", "%zz" }, { "%4%41", "%4A" }, { "%%41", "%A" }, { "%", "%" },
                { "a%2", "a%2" }, { "%g1%1g", "%g1%1g" }, { "%00x", "\0x" }, { "%41%", "A%" },
                { "", "" },
            }
            for _, c in ipairs(cases) do
                local got = ngx.unescape_uri(c[1])
                ngx.say(c[1], " ", got == c[2] and "ok" or "got " .. got)
            end
            ngx.say("[", ngx.unescape_uri(nil), "] ", ngx.unescape_uri(12))
        }
    }
--- request
GET /t
--- response_body
a%20%e4%bd%a0 ok
%E4%BD%A0 ok
a+b%2B ok
%zz ok
%4%41 ok
%%41 ok
% ok
a%2 ok
%g1%1g ok
%00x ok
%41% ok
 ok
[] 12



=== TEST 4: unescape_uri undoes escape_uri of all 256 bytes, for every type
--- config
    location /t {
        content_by_lua_block {
            local all = {}
            for b = 0, 255 do all[#all + 1] = string.char(b) end
            all = table.concat(all)
            for t = 0, 6 do
                local e = ngx.escape_uri(all, t)
                -- length: 256 + 2 per escaped byte (TEST 1: 165, 166, 185, 166, 164, 34, 34);
                -- '+' is left alone by most types but means a space to unescape_uri
                local back = ngx.unescape_uri((e:gsub("%+", "%%2B")))
                ngx.say(t, " ", #e, " ", back == all)
            end
        }
    }
--- request
GET /t
--- response_body
0 586 true
1 588 true
2 626 true
3 588 true
4 584 true
5 324 true
6 324 true



=== TEST 5: encode_args: escaping, true (key alone), false (skipped), lists, numbers
--- config
    location /t {
        content_by_lua_block {
            local cases = {
                { a = "b c" }, { ["a b&"] = "x=y&z/?" }, { a = true }, { a = false },
                { a = { 1, 2, "x y" } }, { a = { true, false, "v" } }, { a = { false } },
                { a = { false, 1 } }, { a = 3.5 }, { a = 1e20 }, { a = {} }, {},
                { a = "!'()*-._~" }, { ["\0"] = "\255" }, { ["你"] = "好" },
            }
            for i, t in ipairs(cases) do
                ngx.say(i, ": [", ngx.encode_args(t), "]")
            end
        }
    }
--- request
GET /t
--- response_body
1: [a=b%20c]
2: [a%20b%26=x%3Dy%26z%2F%3F]
3: [a]
4: []
5: [a=1&a=2&a=x%20y]
6: [a&a=v]
7: []
8: [a=1]
9: [a=3.5]
10: [a=1e%2B20]
11: []
12: []
13: [a=!'()*-._~]
14: [%00=%FF]
15: [%E4%BD%A0=%E5%A5%BD]



=== TEST 6: encode_args of several keys (table order is unspecified: pairs sorted here)
--- config
    location /t {
        content_by_lua_block {
            local s = ngx.encode_args({ foo = "bar", n = 3, flag = true, off = false, list = { "x", "y" } })
            local parts = {}
            for p in s:gmatch("[^&]+") do parts[#parts + 1] = p end
            table.sort(parts)
            ngx.say(#s, " ", table.concat(parts, " "))
        }
    }
--- request
GET /t
--- response_body
30 flag foo=bar list=x list=y n=3



=== TEST 7: encode_args errors
--- config
    location /t {
        content_by_lua_block {
            -- { argument count, arguments... }
            local cases = {
                { 1, { [1] = "x" } }, { 1, { a = print } }, { 1, { a = { {} } } },
                { 1, { a = { ngx.null } } }, { 1, "x" }, { 0 }, { 2, {}, 1 }, { 1, nil },
            }
            for _, c in ipairs(cases) do
                local ok, err = pcall(ngx.encode_args, unpack(c, 2, c[1] + 1))
                ngx.say(ok, " ", err)
            end
        }
    }
--- request
GET /t
--- response_body
false attempt to use a non-string key in the "args" option table
false attempt to use function as query arg value
false attempt to use table as query arg value
false attempt to use userdata as query arg value
false bad argument #1 to '?' (table expected, got string)
false expecting 1 argument but seen 0
false expecting 1 argument but seen 2
false bad argument #1 to '?' (table expected, got nil)



=== TEST 8: decode_args: repeated keys make a list, a key without '=' is true, empty keys go
--- config
    location /t {
        content_by_lua_block {
            local function dump(t)
                local keys = {}
                for k in pairs(t) do keys[#keys + 1] = k end
                table.sort(keys)
                local out = {}
                for _, k in ipairs(keys) do
                    local v = t[k]
                    if type(v) == "table" then
                        local items = {}
                        for i, x in ipairs(v) do items[i] = tostring(x) end
                        v = "[" .. table.concat(items, ",") .. "]"
                    end
                    out[#out + 1] = k .. "=" .. tostring(v)
                end
                return table.concat(out, " ")
            end
            for _, s in ipairs({ "a=1&b=2", "a=1&a=2&a=3", "a&b=&c", "a=1=2", "=x&&&y",
                                 "a%20b=c+d%3D&%41=%zz", "", "&", "a&", "a=1&a&a=",
                                 "k=%E4%BD%A0" }) do
                ngx.say("[", s, "] ", dump(ngx.decode_args(s)))
            end
            ngx.say(dump(ngx.decode_args(123)))
        }
    }
--- request
GET /t
--- response_body
[a=1&b=2] a=1 b=2
[a=1&a=2&a=3] a=[1,2,3]
[a&b=&c] a=true b= c=true
[a=1=2] a=1=2
[=x&&&y] y=true
[a%20b=c+d%3D&%41=%zz] A=%zz a b=c d=
[] 
[&] 
[a&] a=true
[a=1&a&a=] a=[1,true,]
[k=%E4%BD%A0] k=你
123=true



=== TEST 9: decode_args: max_args (100 by default, 0 or less for all; empty pairs count)
--- config
    location /t {
        content_by_lua_block {
            local function count(t)
                local n = 0
                for _ in pairs(t) do n = n + 1 end
                return n
            end
            local s = {}
            for i = 1, 150 do s[#s + 1] = "k" .. i .. "=" .. i end
            s = table.concat(s, "&")
            local t = ngx.decode_args(s)
            ngx.say(count(t), " ", t.k100, " ", tostring(t.k101))
            ngx.say(count(ngx.decode_args(s, 0)), " ", count(ngx.decode_args(s, -1)))
            ngx.say(count(ngx.decode_args(s, 2)), " ", count(ngx.decode_args(s, "3")), " ",
                    count(ngx.decode_args(s, 1.7)))
            ngx.say(count(ngx.decode_args("&&a=1&b=2", 2)), " ",
                    count(ngx.decode_args("=1&a=1&b=2", 2)))
        }
    }
--- request
GET /t
--- response_body
100 100 nil
150 150
2 3 1
0 1



=== TEST 10: decode_args errors
--- config
    location /t {
        content_by_lua_block {
            -- { argument count, arguments... }
            for _, c in ipairs({ { 1, nil }, { 1, {} }, { 0 }, { 3, "a", 1, 2 }, { 2, "a=1", "x" },
                                 { 2, "a=1", nil } }) do
                local ok, err = pcall(ngx.decode_args, unpack(c, 2, c[1] + 1))
                ngx.say(ok, " ", err)
            end
        }
    }
--- request
GET /t
--- response_body
false bad argument #1 to '?' (string expected, got nil)
false bad argument #1 to '?' (string expected, got table)
false expecting 1 or 2 arguments but seen 0
false expecting 1 or 2 arguments but seen 3
false bad argument #2 to '?' (number expected, got string)
false bad argument #2 to '?' (number expected, got nil)



=== TEST 11: quote_sql_str: MySQL's escapes, every other byte (UTF-8 too) as it is
--- config
    location /t {
        content_by_lua_block {
            local escaped = {}
            for b = 0, 255 do
                local q = ngx.quote_sql_str(string.char(b))
                if q ~= "'" .. string.char(b) .. "'" then
                    escaped[#escaped + 1] = string.format("%02x:%s", b, q:sub(2, -2))
                end
            end
            ngx.say(table.concat(escaped, " "))
            ngx.say(ngx.quote_sql_str("it's \"你\"\r\n"), " ", ngx.quote_sql_str(""), " ",
                    ngx.quote_sql_str(12))
            for _, c in ipairs({ { 1, nil }, { 1, {} }, { 0 }, { 2, "a", "b" } }) do
                local ok, err = pcall(ngx.quote_sql_str, unpack(c, 2, c[1] + 1))
                ngx.say(ok, " ", err)
            end
        }
    }
--- request
GET /t
--- response_body
00:\0 08:\b 09:\t 0a:\n 0d:\r 1a:\Z 22:\" 27:\' 5c:\\
'it\'s \"你\"\r\n' '' '12'
false bad argument #1 to '?' (string expected, got nil)
false bad argument #1 to '?' (string expected, got table)
false expecting one argument
false expecting one argument



=== TEST 12: md5 and md5_bin: the RFC 1321 test suite
--- config
    location /t {
        content_by_lua_block {
            local function hex(s)
                return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
            end
            for _, s in ipairs({ "", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz",
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                                 string.rep("1234567890", 8) }) do
                local m = ngx.md5(s)
                ngx.say(m, " ", hex(ngx.md5_bin(s)) == m, " ", #ngx.md5_bin(s))
            end
            ngx.say(ngx.md5(string.rep("a", 1000000)))
        }
    }
--- request
GET /t
--- response_body
d41d8cd98f00b204e9800998ecf8427e true 16
0cc175b9c0f1b6a831c399e269772661 true 16
900150983cd24fb0d6963f7d28e17f72 true 16
f96b697d7cb7938d525a2f31aaf161d0 true 16
c3fcd3d76192e4007dfb496cca67e13b true 16
d174ab98d277d9f5a5611c2c9f419d9f true 16
57edf4a22be3c955ac49da2e2107b67a true 16
7707d6ae4e027c70eea2a935c2296f21



=== TEST 13: sha1_bin: the FIPS 180 examples
--- config
    location /t {
        content_by_lua_block {
            local function hex(s)
                return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
            end
            ngx.say(hex(ngx.sha1_bin("")))
            ngx.say(hex(ngx.sha1_bin("abc")))
            ngx.say(hex(ngx.sha1_bin("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))
            ngx.say(hex(ngx.sha1_bin(string.rep("a", 1000000))))
        }
    }
--- request
GET /t
--- response_body
da39a3ee5e6b4b0d3255bfef95601890afd80709
a9993e364706816aba3e25717850c26c9cd0d89d
84983e441c3bd26ebaae4aa1f95129e5e54670f1
34aa973cd4c4daa4f61eeb2bdbad27316534016f



=== TEST 14: md5, sha1_bin, crc32, encode_base64: nil and false are "", others go through tostring
--- config
    location /t {
        content_by_lua_block {
            local t = {}
            local mt = setmetatable({}, { __tostring = function() return "custom" end })
            for _, name in ipairs({ "md5", "md5_bin", "sha1_bin", "crc32_short", "crc32_long",
                                    "encode_base64" }) do
                local f = ngx[name]
                ngx.say(name, " ", f(nil) == f(""), " ", f() == f(""), " ", f(false) == f(""),
                        " ", f(12) == f("12"), " ", f(true) == f("true"), " ",
                        f(t) == f(tostring(t)), " ", f(mt) == f("custom"))
            end
            -- no argument count check
            ngx.say(ngx.md5("a", "b") == ngx.md5("a"), " ", ngx.sha1_bin("a", {}) == ngx.sha1_bin("a"),
                    " ", ngx.crc32_long("a", 1, 2) == ngx.crc32_long("a"))
        }
    }
--- request
GET /t
--- response_body
md5 true true true true true true true
md5_bin true true true true true true true
sha1_bin true true true true true true true
crc32_short true true true true true true true
crc32_long true true true true true true true
encode_base64 true true true true true true true
true true true



=== TEST 15: hmac_sha1: RFC 2202 test cases
--- config
    location /t {
        content_by_lua_block {
            local function hex(s)
                return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
            end
            local aa = string.rep("\170", 80)
            ngx.say(hex(ngx.hmac_sha1(string.rep("\11", 20), "Hi There")))
            ngx.say(hex(ngx.hmac_sha1("Jefe", "what do ya want for nothing?")))
            ngx.say(hex(ngx.hmac_sha1(aa:sub(1, 20), string.rep("\221", 50))))
            local key = {}
            for i = 1, 25 do key[i] = string.char(i) end
            ngx.say(hex(ngx.hmac_sha1(table.concat(key), string.rep("\205", 50))))
            ngx.say(hex(ngx.hmac_sha1(string.rep("\12", 20), "Test With Truncation")))
            ngx.say(hex(ngx.hmac_sha1(aa, "Test Using Larger Than Block-Size Key - Hash Key First")))
            ngx.say(hex(ngx.hmac_sha1(aa, "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data")))
            ngx.say(#ngx.hmac_sha1("", ""), " ", ngx.hmac_sha1(12, 34) == ngx.hmac_sha1("12", "34"))
        }
    }
--- request
GET /t
--- response_body
b617318655057264e28bc0b6fb378c8ef146be00
effcdf6ae5eb2fa2d27416d5f184df9c259a7c79
125d7342b9ac11cd91a39af48aa17b4f63f175d3
4c9007f4026250c6bc8414f9bf50c86c2d7235da
4c1a03424b55e07fe7f27be1d58bb9324a9a5a04
aa4ae5e15272d00e95705637ce8a3b55ed402112
e8e99d0f45237d786d6bbaa7965c7808bbff1a91
20 true



=== TEST 16: hmac_sha1 argument errors
--- config
    location /t {
        content_by_lua_block {
            for _, c in ipairs({ { 1, "key" }, { 2, nil, "x" }, { 2, "k", {} }, { 3, "k", "x", "y" } }) do
                local ok, err = pcall(ngx.hmac_sha1, unpack(c, 2, c[1] + 1))
                ngx.say(ok, " ", err)
            end
        }
    }
--- request
GET /t
--- response_body
false expecting 2 arguments, but got 1
false bad argument #1 to '?' (string expected, got nil)
false bad argument #2 to '?' (string expected, got table)
false expecting 2 arguments, but got 3



=== TEST 17: an uncaught argument error names the function and fails the request
--- config
    location /t {
        content_by_lua_block {
            ngx.hmac_sha1(nil, "x")
        }
    }
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #1 to 'hmac_sha1' (string expected, got nil)



=== TEST 18: crc32_short and crc32_long are the same CRC-32 (zlib's, as unsigned numbers)
--- config
    location /t {
        content_by_lua_block {
            for _, s in ipairs({ "", "hello", "The quick brown fox jumps over the lazy dog",
                                 "123456789", string.rep("x", 100000) }) do
                local a, b = ngx.crc32_short(s), ngx.crc32_long(s)
                ngx.say(a == b, " ", string.format("%08x", a))
            end
        }
    }
--- request
GET /t
--- response_body
true 00000000
true 3610a686
true 414fa339
true cbf43926
true fe071171



=== TEST 19: encode_base64 and decode_base64: the RFC 4648 vectors, no_padding, round trips
--- config
    location /t {
        content_by_lua_block {
            for _, s in ipairs({ "", "f", "fo", "foo", "foob", "fooba", "foobar" }) do
                local e, n = ngx.encode_base64(s), ngx.encode_base64(s, true)
                ngx.say("[", e, "] [", n, "] ", ngx.decode_base64(e) == s, " ", ngx.decode_base64(n) == s)
            end
            ngx.say(ngx.encode_base64("\255\254\253\252"), " ", ngx.encode_base64("x", false))
            local all = {}
            for b = 0, 255 do all[#all + 1] = string.char(b) end
            all = table.concat(all)
            for i = 0, 3 do
                local s = all:sub(1, 253 + i)
                ngx.say(ngx.decode_base64(ngx.encode_base64(s)) == s, " ",
                        ngx.decode_base64(ngx.encode_base64(s, true)) == s)
            end
            local ok, err = pcall(ngx.encode_base64, "x", 1)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /t
--- response_body
[] [] true true
[Zg==] [Zg] true true
[Zm8=] [Zm8] true true
[Zm9v] [Zm9v] true true
[Zm9vYg==] [Zm9vYg] true true
[Zm9vYmE=] [Zm9vYmE] true true
[Zm9vYmFy] [Zm9vYmFy] true true
//79/A== eA==
true true
true true
true true
true true
false bad no_padding: boolean expected, got number



=== TEST 20: decode_base64: nil for bad input; it stops at the first '='
--- config
    location /t {
        content_by_lua_block {
            for _, s in ipairs({ "Zm9vYg==", "Zm9vYg=", "Zm9vYg", "Zm9vYg===", "==", "Zg=a",
                                 "Zm9=v", "Zh==", "+/8=", "Zm9v!", "Zm 9v", "Z", "Zm9vY",
                                 "-_8", "Zm9vYmFy\n" }) do
                local d = ngx.decode_base64(s)
                ngx.say("[", s, "] ", d and "[" .. d:gsub("[^%w]", function(c)
                    return string.format("\\x%02x", c:byte()) end) .. "]" or "nil")
            end
            for _, v in ipairs({ 12, true }) do
                local ok, err = pcall(ngx.decode_base64, v)
                ngx.say(ok, " ", err)
            end
            ngx.say(pcall(ngx.decode_base64))
        }
    }
--- request
GET /t
--- response_body
[Zm9vYg==] [foob]
[Zm9vYg=] [foob]
[Zm9vYg] [foob]
[Zm9vYg===] [foob]
[==] []
[Zg=a] [f]
[Zm9=v] [fo]
[Zh==] [f]
[+/8=] [\xfb\xff]
[Zm9v!] nil
[Zm 9v] nil
[Z] nil
[Zm9vY] nil
[-_8] nil
[Zm9vYmFy
] nil
false string argument only
false string argument only
falsestring argument only
