# split_clients: MurmurHash2 of a complex value puts it in the bucket nginx puts it in
# (including strings whose hash sits exactly on a bound, where rounding and "<" matter),
# percentages with two decimals, "*" for the rest, an empty value past the last bucket,
# and the configuration errors. TEST 2's strings: adPbycr hashes to 429496729, the 10% bound;
# k00219bb431 to 858993458, two 10% shares each rounded down, one below 20% rounded down.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/162-split-clients.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the same strings land in the same buckets as with nginx
--- http_config
    split_clients $arg_k $s { 10% a; 20% b; 30% c; * d; }
    split_clients $arg_k $short { 10% a; 20.5% b; }
    split_clients "${arg_k}x" $x { 50% a; 50% b; }
--- config
    location /t { return 200 "[$s] [$short] [$x]\n"; }
--- request eval
["GET /t", "GET /t?k=a", "GET /t?k=abc", "GET /t?k=abcd", "GET /t?k=127.0.0.1", "GET /t?k=hello",
 "GET /t?k=k4", "GET /t?k=k5", "GET /t?k=k9"]
--- response_body eval
["[a] [a] [a]\n", "[c] [] [a]\n", "[a] [a] [b]\n", "[b] [b] [a]\n", "[d] [] [b]\n", "[d] [] [b]\n",
 "[d] [] [a]\n", "[b] [b] [b]\n", "[a] [a] [a]\n"]



=== TEST 2: on the bounds: a hash equal to a bound is past it; each share is rounded down alone
--- http_config
    split_clients $arg_k $s { 10% a; 10% b; * c; }
--- config
    location /t { return 200 "[$s]\n"; }
--- request eval
["GET /t?k=adPbycr", "GET /t?k=k00219bb431"]
--- response_body eval
["[b]\n", "[c]\n"]



=== TEST 3: values are text; a percentage may omit its integer part or its decimals
--- http_config
    split_clients $arg_k $s { .5% first; 5.% $not_a_variable; * rest; }
--- config
    location /t { return 200 "[$s]\n"; }
--- request eval
["GET /t", "GET /t?k=k14", "GET /t?k=b"]
--- response_body eval
["[first]\n", "[\$not_a_variable]\n", "[rest]\n"]



=== TEST 4: the percentages add up to more than 100% (reported where the block ends)
--- http_config
    split_clients $arg_k $s {
        60% a;
        50% b;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*percent total is greater than 100% in \S+\.conf:\d+/



=== TEST 5: "*" counts as the rest: nothing may follow it
--- http_config
    split_clients $arg_k $s { * a; 1% b; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*percent total is greater than 100% in \S+\.conf:\d+/



=== TEST 6: more than two decimals
--- http_config
    split_clients $arg_k $s { 50.001% a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid percent value "50\.001%" in \S+\.conf:\d+/



=== TEST 7: no "%"
--- http_config
    split_clients $arg_k $s { 50 a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid percent value "50" in \S+\.conf:\d+/



=== TEST 8: zero percent
--- http_config
    split_clients $arg_k $s { 0% a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid percent value "0%" in \S+\.conf:\d+/



=== TEST 9: the result must be a $variable
--- http_config
    split_clients $arg_k s { 1% a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid variable name "s" in \S+\.conf:\d+/



=== TEST 10: split_clients belongs to http{}
--- config
    split_clients $arg_k $s { 1% a; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"split_clients" directive is not allowed here in \S+\.conf:\d+/



=== TEST 11: argument count
--- http_config
    split_clients $arg_k { 1% a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "split_clients" directive in \S+\.conf:\d+/
