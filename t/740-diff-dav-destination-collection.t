# Found by running the same configs on Debian's nginx 1.22 and moongate: COPY/MOVE's check that
# the source and the Destination are both collections or both not looks, as nginx does, at the
# last byte of the Destination header as sent (before its query is cut and %XX decoded), and
# the 409's error line names the header whole. Before: moongate looked at the decoded path and
# logged it without scheme and host.
#
#   prove -I t/lib t/740-diff-dav-destination-collection.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/740-diff-dav-destination-collection.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: an escaped slash at the end is no collection: 409, the header logged whole
--- config
    location /d/ { root $TEST_NGINX_HTML_DIR; dav_methods COPY; }
--- user_files
>>> d/x/a.txt
a
--- request
COPY /d/x/
--- more_headers
Destination: http://localhost/d/y%2F
--- error_code: 409
--- error_log
both URI "/d/x/" and "Destination" URI "http://localhost/d/y%2F" should be either collections or non-collections



=== TEST 2: a query ending in "/" makes a collection of the Destination
--- config
    location /d/ { root $TEST_NGINX_HTML_DIR; dav_methods COPY; }
--- user_files
>>> d/f.txt
f
--- request
COPY /d/f.txt
--- more_headers
Destination: http://localhost/d/g?x=/
--- error_code: 409
--- error_log
"Destination" URI "http://localhost/d/g?x=/" should be



=== TEST 3: a slash before the query does not: the file is copied
--- config
    location /d/ { root $TEST_NGINX_HTML_DIR; dav_methods COPY; }
--- user_files
>>> d/f.txt
f
--- request
COPY /d/f.txt
--- more_headers
Destination: http://localhost/d/g/?x
--- error_code: 204
--- no_error_log
[error]
