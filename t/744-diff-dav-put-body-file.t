# Found by running the same configs on Debian's nginx 1.22 and moongate: a PUT's body goes,
# whatever its size, to a client_body_temp_path file that is renamed into place, with no
# "buffered to a temporary file" line, as nginx's dav does; so every PUT takes one file number
# (and honours the path's levels). Before: moongate read the body as any other (a large one
# spilled to a file with a [warn]) and copied it into a second file it named itself (a number
# of its own, not the request bodies' count, no levels), so the next temporary file's number
# and the error log differed from nginx's.
#
#   prove -I t/lib t/744-diff-dav-put-body-file.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/744-diff-dav-put-body-file.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a large PUT body: no line; small and large PUTs take one number each
--- config
    client_body_buffer_size 1k;
    client_body_temp_path $TEST_NGINX_HTML_DIR/../cbt 1;
    location /d/ { root $TEST_NGINX_HTML_DIR; dav_methods PUT; }
    location /p { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/r; }
    location /r { return 200 "r\n"; }
--- user_files
>>> d/.keep
--- pipelined_requests eval
["PUT /d/a\r\nContent-Length: 5000\r\n\r\n" . ("a" x 5000),
 "PUT /d/b\r\nContent-Length: 1\r\n\r\nb",
 "POST /p\r\nContent-Length: 5000\r\n\r\n" . ("p" x 5000)]
--- error_code eval
[201, 201, 200]
--- error_log eval
qr{\[warn\] .*a client request body is buffered to a temporary file \S+/cbt/3/0000000003, .*POST /p}
--- no_error_log eval
qr{buffered to a temporary file .*PUT}
