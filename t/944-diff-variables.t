# Found by running the same configs on nginx and moongate: nginx variables moongate did not
# know, so a config naming them (a log_format, as in nginx's own gzip logging example) did not
# start: $gzip_ratio (a finished compression's input over output, "-" without one), $pipe
# ("p" for a pipelined request, "." otherwise) and $connection_time (seconds since accept).
#
#   prove -I t/lib t/944-diff-variables.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/944-diff-variables.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

our $Text = ('hello world, this is some text to compress. ' x 50) . "\n";

run_tests();

__DATA__

=== TEST 1: $gzip_ratio in the access log: the ratio when compressed, "-" otherwise
--- http_config
    log_format g '$request_uri $gzip_ratio';
--- config
    access_log logs/gz.log g;
    gzip on;
    gzip_min_length 1;
    gzip_types text/plain;
    location / { root html; }
    location /log { access_log off; alias $TEST_NGINX_SERVROOT/logs/gz.log; }
--- user_files eval
[["big.txt", $::Text]]
--- request eval
["GET /big.txt", "GET /big.txt?plain", "GET /log"]
--- more_headers eval
["Accept-Encoding: gzip", "", ""]
--- response_body_like eval
[".", "hello", "\\A/big.txt 25.01\n/big.txt\\?plain -\n\\z"]



=== TEST 2: $pipe is "p" for the pipelined requests; $connection_time counts from the accept
--- config
    location /t { return 200 "$pipe $connection_requests [$connection_time]\n"; }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["^\\. 1 \\[\\d+\\.\\d{3}\\]\n\\z", "^p 2 \\[\\d+\\.\\d{3}\\]\n\\z", "^p 3 \\[\\d+\\.\\d{3}\\]\n\\z"]
