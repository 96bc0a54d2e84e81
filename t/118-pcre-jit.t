# pcre_jit: the configuration's regexes are JIT-compiled when it is on (default off, as in
# nginx), also those written before the directive. Observable through PCRE2's JIT stack: a
# group repeated a few thousand times overflows it (a 500 and nginx's alert), where the
# interpreter matches.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/118-pcre-jit.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

our $LONG = '/' . ('a' x 3000);

run_tests();

__DATA__

=== TEST 1: pcre_jit on: a repeated group runs out of JIT stack; a short URI matches
--- main_config
pcre_jit on;
--- http_config
large_client_header_buffers 4 16k;
--- config
    location ~ "^/(a|b)*$" { return 200 "matched\n"; }
--- request eval
["GET $::LONG", "GET /abab"]
--- error_code eval
[500, 200]
--- response_body_like eval
["500 Internal Server Error", "^matched\$"]
--- error_log eval
qr/\[alert\] .*pcre2_match\(\) failed: -46 on "\/aaaa/



=== TEST 2: pcre_jit off (the default): the interpreter matches the same URI
--- http_config
large_client_header_buffers 4 16k;
--- config
    location ~ "^/(a|b)*$" { return 200 "matched\n"; }
--- request eval
["GET $::LONG", "GET /abab"]
--- error_code eval
[200, 200]
--- response_body eval
["matched\n", "matched\n"]
--- no_error_log
pcre2_match



=== TEST 3: a map's regexes follow pcre_jit too: a failed match is no match, with the alert
--- main_config
pcre_jit on;
--- http_config
large_client_header_buffers 4 16k;
map $uri $m { ~^/(a|b)*$ yes; default no; }
--- config
    location / { return 200 "$m\n"; }
--- request eval
["GET $::LONG", "GET /abab", "GET /c"]
--- response_body eval
["no\n", "yes\n", "no\n"]
--- error_log eval
qr/\[alert\] .*pcre2_match\(\) failed: -46 on "\/aaaa/
