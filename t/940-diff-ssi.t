# Found by running the same pages through nginx's and moongate's SSI: where a broken command
# ends. A '-' where a parameter's name, its "=" or its value was due is, for nginx, the first
# '-' of the command's "-->", so "<!--# echo var -->" ends at its own "-->" and the text after
# it is kept (moongate skipped on to the next command's end and lost that text); and a broken
# command ends at exactly "-->": after "--", anything but '>' (a third '-' too) starts over.
#
#   prove -I t/lib t/940-diff-ssi.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/940-diff-ssi.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

our $Err = '[an error occurred while processing the directive]';

run_tests();

__DATA__

=== TEST 1: a parameter without a value: the command ends at its own "-->"
--- user_files
>>> t.html
1<!--# bad command -->|a<!--# echo var="uri" -->.
2<!--# echo var -->|b<!--# echo var="uri" -->.
3<!--# echo var= -->|c<!--# echo var="uri" -->.
4<!--# echo var-->|d<!--# echo var="uri" -->.
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body eval
"1$::Err|a/t.html.
2$::Err|b/t.html.
3$::Err|c/t.html.
4$::Err|d/t.html.
"



=== TEST 2: a broken command's end is exactly "-->": "--->" or "---->" after the break is not
--- user_files
>>> t.html
1<!--# echo var --->|a<!--# echo var="uri" -->.
2<!--# bad command ---->|b<!--# echo var="uri" -->.
3<!--# bad command --x-->|c<!--# echo var="uri" -->.
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body eval
"1$::Err.
2$::Err.
3$::Err|c/t.html.
"
