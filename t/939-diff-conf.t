# Found by running "-t" on the same wrong configs with nginx and moongate: the message, its
# level and FILE:LINE must be nginx's. proxy_pass with no http:// or https:// says "invalid URL
# prefix" and names no URL (at run time, with variables, nginx names it); an absolute index
# before the last one is a warning, not an error, and the handler redirects to it when reached.
#
#   prove -I t/lib t/939-diff-conf.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/939-diff-conf.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

use_bad_conf_blocks();

run_tests();

__DATA__

=== TEST 1: proxy_pass without a scheme
--- include_in: location
--- bad_conf
# the next line
proxy_pass 127.0.0.1:8080;
--- error_log eval
qr/\[emerg\] .*invalid URL prefix in \Q${\ Test::Moongate::conf_dir()}\E\/bad\.conf:2$/m



=== TEST 2: an absolute index before the last one: a warning; the request goes to it
--- config
    location / { root html; index /a.html b.html; }
--- user_files
>>> a.html
the a page
>>> b.html
the b page
--- request
GET /
--- response_body
the a page
