# set_misc (OpenResty's set-misc-nginx-module): set_* directives run in order with the rewrite
# module's set/if, in place with one argument; and Lua's ndk.set_var.set_*.
#
#   prove -I t/lib t/432-set-misc.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/432-set-misc.t   (needs
#   libnginx-mod-http-set-misc and -echo, or TEST_MOONGATE_NGINX_MODULES)

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: set_if_empty
--- config
    location /a {
        set $b "";
        set_if_empty $a "default-a";
        set_if_empty $b "default-b";
        set $c "given";
        set_if_empty $c "default-c";
        set_if_empty $d $arg_d;
        echo "$a $b $c $d";
    }
--- request
GET /a?d=from-arg
--- response_body
default-a default-b given from-arg



=== TEST 2: SQL, PostgreSQL and JSON quoting, in place and from a source
--- config
    location /a {
        set $foo "hello\n\r'\"\\";
        set_quote_sql_str $sql $foo;
        set_quote_pgsql_str $pg $foo;
        set_quote_json_str $json $foo;
        set $inplace "it's";
        set_quote_sql_str $inplace;
        set_quote_sql_str $empty $arg_none;
        set_quote_pgsql_str $pgempty $arg_none;
        set_unescape_uri $ctl $arg_c;
        set_quote_sql_str $ctl;
        echo $sql;
        echo $pg;
        echo $json;
        echo $inplace;
        echo "$empty $pgempty";
        echo $ctl;
    }
--- request
GET /a?c=a%00b%08c%09d%1ae
--- response_body
'hello\n\r\'\"\\'
E'hello\n\r\'\"\\'
"hello\n\r'\"\\"
'it\'s'
'' ''
'a\0b\bc\td\Ze'



=== TEST 3: PostgreSQL quoting keeps valid UTF-8; in other values, bytes from 0x80 in octal
--- config
    location /a {
        set_unescape_uri $v $arg_v;
        set_quote_pgsql_str $v;
        echo $v;
    }
--- pipelined_requests eval
["GET /a?v=%E4%BD%A0x", "GET /a?v=%E4%BD%A0%C4%E3x"]
--- response_body eval
["E'\x{e4}\x{bd}\x{a0}x'\n", "E'\\\\344\\\\275\\\\240\\\\304\\\\343x'\n"]



=== TEST 4: set_unescape_uri and set_escape_uri (which keeps set-misc's "!$'()*,-.@_`|~")
--- config
    location /a {
        set_unescape_uri $key $arg_key;
        set_escape_uri $esc $key;
        set $raw "a b&c/d~e_f.g-h=i?j";
        set_escape_uri $raw;
        echo $key;
        echo $esc;
        echo $raw;
    }
--- request
GET /a?key=hello+world%21
--- response_body
hello world!
hello%20world!
a%20b%26c%2Fd~e_f.g-h%3Di%3Fj



=== TEST 5: base32 (base32hex, padding, another alphabet), base64, base64url, hex
--- config
    location /a {
        set $raw "abcde";
        set_encode_base32 $b32 $raw;
        set_decode_base32 $b32d $b32;
        set $raw2 "ab";
        set_encode_base32 $b32p $raw2;
        set_decode_base32 $b32pd $b32p;
        set_encode_base64 $b64 $raw2;
        set_decode_base64 $b64d $b64;
        set_encode_base64url $b64u "??>>";
        set_decode_base64url $b64ud $b64u;
        set $h "章亦春";
        set_encode_hex $h;
        set_decode_hex $hd $h;
        echo "$b32 $b32d $b32p $b32pd";
        echo "$b64 $b64d $b64u $b64ud";
        echo "$h $hd";
    }
    location /np {
        set_base32_padding off;
        set_encode_base32 $v "ab";
        echo $v;
    }
    location /alpha {
        set_base32_alphabet "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        set_encode_base32 $v "abcde";
        set_decode_base32 $d $v;
        echo "$v $d";
    }
--- pipelined_requests eval
["GET /a", "GET /np", "GET /alpha"]
--- response_body eval
["c5h66p35 abcde c5h0==== ab\nYWI= ab Pz8-Pg ??>>\ne7aba0e4baa6e698a5 章亦春\n", "c5h0\n",
 "MFRGGZDF abcde\n"]



=== TEST 6: digests and HMACs
--- config
    location /a {
        set $raw "hello";
        set_md5 $md5 $raw;
        set_sha1 $sha1 $raw;
        set $secret 'thisisverysecretstuff';
        set $string_to_sign 'some string we want to sign';
        set_hmac_sha1 $sig1 $secret $string_to_sign;
        set_encode_base64 $sig1 $sig1;
        set_hmac_sha256 $sig256 $secret $string_to_sign;
        set_encode_base64 $sig256;
        echo $md5;
        echo $sha1;
        echo $sig1;
        echo $sig256;
    }
--- request
GET /a
--- response_body
5d41402abc4b2a76b9719d911017c592
aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d
R/pvxzHC4NLtj7S+kXFg/NePTmk=
4pU3GRQrKKIoeLb9CqYsavHE2l6Hx+KMmRmesU+Cfrs=



=== TEST 7: set_random, set_secure_random_alphanum and _lcalpha
--- config
    location /a {
        set $from 7;
        set_random $r $from 5;
        set_secure_random_alphanum $an 32;
        set_secure_random_lcalpha $lc 12;
        echo "$r $an $lc";
    }
--- request
GET /a
--- response_body_like chomp
^[5-7] [a-zA-Z0-9]{32} [a-z]{12}\n$



=== TEST 8: set_rotate keeps the location's last value; a valid value is incremented
--- config
    location /r {
        set_rotate $counter 0 2;
        echo $counter;
    }
    location /c {
        set $counter $arg_c;
        set_rotate $counter 1 5;
        echo $counter;
    }
--- pipelined_requests eval
["GET /r", "GET /r", "GET /r", "GET /r", "GET /c?c=3", "GET /c?c=5", "GET /c?c=9"]
--- response_body eval
["0\n", "1\n", "2\n", "0\n", "4\n", "1\n", "1\n"]



=== TEST 9: set_local_today and the formatted times
--- config
    location /a {
        set_local_today $today;
        set_formatted_gmt_time $gmt "%Y-%m-%d %H:%M GMT";
        set_formatted_local_time $local "%Y/%m/%d";
        echo "$today|$gmt|$local";
    }
--- request
GET /a
--- response_body_like chomp
^\d{4}-\d\d-\d\d\|\d{4}-\d\d-\d\d \d\d:\d\d GMT\|\d{4}/\d\d/\d\d\n$



=== TEST 10: set_hashed_upstream picks the same name for the same key, as nginx's module
--- http_config
    upstream_list universe moon sun earth;
--- config
    location /a {
        set_unescape_uri $key $arg_key;
        set $list universe;
        set_hashed_upstream $backend $list $key;
        echo $backend;
    }
--- pipelined_requests eval
["GET /a?key=blah", "GET /a?key=foo", "GET /a?key=Hello", "GET /a?key=x"]
--- response_body eval
["earth\n", "moon\n", "sun\n", "moon\n"]



=== TEST 11: the set_* run in order with set and if
--- config
    location /a {
        set $v "a b";
        if ($arg_x) {
            set $v "x y";
        }
        set_escape_uri $v;
        set $w "[$v]";
        echo $w;
    }
--- pipelined_requests eval
["GET /a", "GET /a?x=1"]
--- response_body eval
["[a%20b]\n", "[x%20y]\n"]



=== TEST 12: ndk.set_var from Lua: the value directives; others raise OpenResty's error
--- config
    location /a {
        content_by_lua_block {
            ngx.say(ndk.set_var.set_quote_sql_str("it's"))
            ngx.say(ndk.set_var.set_escape_uri("a b"))
            ngx.say(ndk.set_var.set_encode_base64("hello"))
            ngx.say(ndk.set_var.set_md5("hello"))
            ngx.say(ndk.set_var.set_unescape_uri("a+b%21"))
            local ok, err = pcall(function() return ndk.set_var.set_hmac_sha1("k", "v") end)
            ngx.say(ok, " ", err)
        }
    }
--- request
GET /a
--- response_body_like chomp
^'it\\'s'
a%20b
aGVsbG8=
5d41402abc4b2a76b9719d911017c592
a b!
false .*ndk.set_var: directive "set_hmac_sha1" not found or does not use ndk_set_var_value
$



=== TEST 13: base64 that does not decode is a 500
--- config
    location /b64 { set_decode_base64 $v "!!!"; echo "[$v]"; }
--- request
GET /b64
--- error_code: 500



=== TEST 14: hex that does not decode is a 500
--- config
    location /hex { set_decode_hex $v "zz"; echo "[$v]"; }
--- request
GET /hex
--- error_code: 500



=== TEST 15: unescaping drops a broken escape; quoting a missing or empty value in JSON gives
null; base64url has no padding
--- config
    location /u {
        set_unescape_uri $u "%zz%4x%4";
        set_quote_json_str $null $arg_none;
        set $empty "";
        set_quote_json_str $empty;
        set_encode_base64url $url "abcde";
        echo "[$u] [$null] [$empty] [$url]";
    }
--- request
GET /u
--- response_body
[zz] [null] [null] [YWJjZGU]
