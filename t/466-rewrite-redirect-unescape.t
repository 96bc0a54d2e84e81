# A rewrite redirect's target is unescaped as nginx does it: an escaped '?' ("%3F", "%3f")
# ends the decoding as a literal '?' does, the rest of the target going out as written.
# Found by t/fuzz/fuzz_rewrite_redirect.c (its model of nginx's redirect unescaping).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/466-rewrite-redirect-unescape.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: "%3F" in a redirect is a '?': the escapes after it stay, the arguments follow
--- config
    location /r { rewrite ^ http://example.com/a%3F%41%2F%7e redirect; }
    location /l { rewrite ^ http://example.com/b%41%3fc%41 redirect; }
--- request eval
["GET /r", "GET /r?x=1", "GET /l"]
--- error_code eval
[302, 302, 302]
--- response_headers eval
["Location: http://example.com/a?%41%2F%7e",
 "Location: http://example.com/a?%41%2F%7e?x=1",
 "Location: http://example.com/bA?c%41"]
