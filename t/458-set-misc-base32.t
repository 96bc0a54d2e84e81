# set-misc's base32 settings: set_base32_padding (and its deprecated old name
# set_misc_base32_padding, which warns) and set_base32_alphabet, inherited from server to
# location and overridden there, every tail length encoded with and without padding, decoding of
# padded and unpadded input, of input whose length no byte string has (an empty value), and the
# configuration errors. set-misc has no set_misc_base32_alphabet: unknown, as in nginx.
#
#   prove -I t/lib t/458-set-misc-base32.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/458-set-misc-base32.t   (needs
#   libnginx-mod-http-set-misc and -echo)

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

use_bad_conf_blocks();

run_tests();

__DATA__

=== TEST 1: every tail length, padded (the default) and not
--- config
    location /pad {
        set_encode_base32 $a "f";
        set_encode_base32 $b "fo";
        set_encode_base32 $c "foo";
        set_encode_base32 $d "foob";
        set_encode_base32 $e "fooba";
        set_encode_base32 $f "foobar";
        echo "$a $b $c $d $e $f";
    }
    location /nopad {
        set_base32_padding off;
        set_encode_base32 $a "f";
        set_encode_base32 $b "fo";
        set_encode_base32 $c "foo";
        set_encode_base32 $d "foob";
        set_encode_base32 $e "fooba";
        set_encode_base32 $f "foobar";
        echo "$a $b $c $d $e $f";
    }
--- pipelined_requests eval
["GET /pad", "GET /nopad"]
--- response_body eval
["co====== cpng==== cpnmu=== cpnmuog= cpnmuoj1 cpnmuoj1e8======\n",
 "co cpng cpnmu cpnmuog cpnmuoj1 cpnmuoj1e8\n"]



=== TEST 2: the old name set_misc_base32_padding sets the same flag
--- config
    set_misc_base32_padding off;
    location /inherited {
        set_encode_base32 $a "fo";
        echo $a;
    }
    location /on {
        set_misc_base32_padding on;
        set_encode_base32 $a "fo";
        echo $a;
    }
--- pipelined_requests eval
["GET /inherited", "GET /on"]
--- response_body eval
["cpng\n", "cpng====\n"]



=== TEST 3: set_misc_base32_padding's deprecation warning (nginx's words) names the file and line
--- moongate_only
nginx writes configuration-time warnings to stderr (its error_log is opened after the parse);
moongate writes them to the configured error log
--- config
    location /t {
        set_misc_base32_padding off;
        set_encode_base32 $a "fo";
        echo $a;
    }
--- request
GET /t
--- response_body
cpng
--- error_log eval
qr/\[warn\] .*the "set_misc_base32_padding" directive is deprecated, use the "set_base32_padding" directive instead in \S+:\d+/



=== TEST 4: set_base32_alphabet from the server level, overridden by a location; decoding uses it
--- config
    set_base32_alphabet "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    set_base32_padding off;
    location /rfc {
        set_encode_base32 $a "foobar";
        set_decode_base32 $b $arg_v;
        echo "$a [$b]";
    }
    location /hex {
        set_base32_alphabet "0123456789ABCDEFGHIJKLMNOPQRSTUV";
        set_base32_padding on;
        set_encode_base32 $a "foobar";
        set_decode_base32 $b $arg_v;
        echo "$a [$b]";
    }
--- pipelined_requests eval
["GET /rfc?v=MZXW6YTBOI", "GET /rfc?v=MZXW6YTBOI======", "GET /hex?v=CPNMUOJ1E8======",
 "GET /hex?v=CPNMUOJ1E8"]
--- response_body eval
["MZXW6YTBOI [foobar]\n", "MZXW6YTBOI [foobar]\n", "CPNMUOJ1E8====== [foobar]\n",
 "CPNMUOJ1E8====== [foobar]\n"]



=== TEST 5: decoding: each valid tail length; 1, 3 or 6 characters past a group of 8 give an empty value
--- config
    location /d {
        set_decode_base32 $v $arg_v;
        set_encode_hex $h $v;
        echo "[$h]";
    }
--- pipelined_requests eval
["GET /d?v=co", "GET /d?v=cpng", "GET /d?v=cpnmu", "GET /d?v=cpnmuog", "GET /d?v=cpnmuoj1",
 "GET /d?v=c", "GET /d?v=cpn", "GET /d?v=cpnmuo", "GET /d?v=cpnmuoj1e", "GET /d?v="]
--- response_body eval
["[66]\n", "[666f]\n", "[666f6f]\n", "[666f6f62]\n", "[666f6f6261]\n",
 "[]\n", "[]\n", "[]\n", "[]\n", "[]\n"]



=== TEST 6: an alphabet of another size: nginx's error, with the file and line
--- bad_conf
set_base32_alphabet "abcdef";
--- error_log
"set_base32_alphabet" directive takes an alphabet of 6 bytes but 32 expected in %F:1



=== TEST 7: set_base32_alphabet twice in one location
--- bad_conf
set_base32_alphabet "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
set_base32_alphabet "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
--- include_in: location
--- error_log
"set_base32_alphabet" directive is duplicate in %F:2



=== TEST 8: set_misc_base32_alphabet is no set-misc directive
--- bad_conf
set_misc_base32_alphabet "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
--- error_log
unknown directive "set_misc_base32_alphabet" in %F:1
