# A redirect's target is decoded as nginx decodes it: "%" and two hex digits, where a hex digit
# is 0-9, a-f or A-F. A control byte that differs from a digit only in bit 0x20 (0x10-0x19)
# is no digit: the '%' before it is dropped and the byte kept, as for any other non-digit.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/961-rewrite-redirect-hex.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: "%" then byte 0x10 in a redirect (a named capture: not escaped again)
--- config
    location ~ ^/v/(?<nm>.*)$ { rewrite ^ http://h.test/x/$nm redirect; }
--- request eval
["GET /v/%25%10b", "GET /v/%25%19c", "GET /v/%25%2Fz", "GET /v/%25Ab"]
--- error_code eval
[302, 302, 302, 302]
--- raw_response_headers_like eval
["Location: http://h.test/x/\x10b\r\n", "Location: http://h.test/x/\x19c\r\n", "Location: http://h.test/x//z\r\n", "Location: http://h.test/x/%Ab\r\n"]
