# Found by running the same configs on Debian's nginx 1.22 and moongate: the JSON listing
# escapes a name's control bytes as nginx's JSON escaper does (log_format escape=json's): \n,
# \r, \t, \b, \f by letter, the others as \u00XX with upper-case hex. Before: moongate wrote
# every one as \u00xx in lower case ("t\u0009b", "q\u001f").
#
#   prove -I t/lib t/743-diff-autoindex-json-escapes.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/743-diff-autoindex-json-escapes.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# names no user_files line can make, all with one time
sub make_names {
    my $d = "$ENV{TEST_NGINX_HTML_DIR}/d";
    for my $n ("t\tb", "n\nl", "q\x1f", "c\x01x", "b\\s") {
        open my $f, '>', "$d/$n" or die "$n: $!";
        close $f;
        utime 1500000000, 1500000000, "$d/$n";
    }
}

run_tests();

__DATA__

=== TEST 1: letter escapes and upper-case \u00XX
--- config
    location / { root $TEST_NGINX_HTML_DIR; autoindex on; autoindex_format json; }
--- user_files
>>> d/.keep
--- init
main::make_names();
--- request
GET /d/
--- response_body eval
my $t = '"type":"file", "mtime":"Fri, 14 Jul 2017 02:40:00 GMT", "size":0 }';
"[\r\n" . join(",\r\n", map { "{ \"name\":\"$_\", $t" } ('b\\\\s', 'c\\u0001x', 'n\\nl', 'q\\u001F', 't\\tb')) . "\r\n]"
