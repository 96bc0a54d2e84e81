# Found by running the same configs on Debian's nginx 1.22 and moongate: the error log's
# context for the body filters' lines. A proxied body goes through them "while sending to client"
# (nginx's event pipe), a file "while sending response to client", a handler's own bytes with
# none; a subrequest starts with none; gunzip logs a broken stream once (moongate logged it again
# for the flush that follows).
#
#   prove -I t/lib t/732-diff-body-filter-log-context.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/732-diff-body-filter-log-context.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: gunzip of a proxied broken stream: one line, "while sending to client"
--- user_files
>>> g.gz
this is not gzip at all, this is not gzip at all
--- config
    location /x/ { add_header Content-Encoding gzip; alias $TEST_NGINX_HTML_DIR/; }
    location /pb/ { gunzip on; proxy_buffering off; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/x/; }
--- request
GET /pb/g.gz
--- ignore_response
--- grep_error_log eval
qr/inflate\(\) failed: \d+, -3 while [a-z ]+,/
--- grep_error_log_out
inflate() failed: 2, -3 while sending to client,



=== TEST 2: gunzip of a broken file gzip_static sends: "while sending response to client"
--- user_files
>>> s.txt
x
>>> s.txt.gz
this is not gzip at all, this is not gzip at all
--- config
    location /s.txt { gzip_static always; gunzip on; }
--- request
GET /s.txt
--- ignore_response
--- grep_error_log eval
qr/inflate\(\) failed: \d+, -3[^,]*,/
--- grep_error_log_out
inflate() failed: 4, -3 while sending response to client,



=== TEST 3: gunzip of a handler's own broken bytes: no context
--- config
    location /l { gunzip on; content_by_lua_block { ngx.header["Content-Encoding"] = "gzip"; ngx.print("this is not gzip at all") } }
--- request
GET /l
--- ignore_response
--- grep_error_log eval
qr/inflate\(\) failed: \d+, -3[^,]*,/
--- grep_error_log_out
inflate() failed: 0, -3,



=== TEST 4: SSI of a proxied page: its errors "while sending to client", an include's own none
--- user_files
>>> s.html
a <!--# bogus x="1" --> b <!--# include virtual="/nonexistent" --> c
--- config
    location /p/ { ssi on; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/raw/; }
    location /raw/ { alias $TEST_NGINX_HTML_DIR/; }
--- request
GET /p/s.html
--- ignore_response
--- error_log eval
[qr/invalid SSI command: "bogus" while sending to client, client: 127\.0\.0\.1/,
 qr/nonexistent" failed \(2: No such file or directory\), client: 127\.0\.0\.1/]



=== TEST 5: SSI of a handler's own bytes: no context; of a file: "while sending response to client"
--- user_files
>>> s.html
a <!--# bogus2 --> b
--- config
    location /r { ssi on; default_type text/html; return 200 'a <!--# bogus1 --> b'; }
    location /s/ { ssi on; alias $TEST_NGINX_HTML_DIR/; }
--- pipelined_requests eval
["GET /r", "GET /s/s.html"]
--- ignore_response
--- error_log eval
[qr/invalid SSI command: "bogus1", client: 127\.0\.0\.1/,
 qr/invalid SSI command: "bogus2" while sending response to client, client: 127\.0\.0\.1/]
