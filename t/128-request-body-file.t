# Request bodies on disk (ngx_http_core_module): a body beyond client_body_buffer_size goes to
# a temporary file in client_body_temp_path (levels named by the file number's last digits),
# removed when the request ends unless client_body_in_file_only on; clean; nginx's log lines
# (a warning, a notice with client_body_in_file_only); an empty body's
# file; $request_body_file and an empty $request_body then; the temp directories made at
# start (and owned by the worker user, as the master runs as root here); bad arguments.
#
# The body is read by proxy_pass to a location of the same server, which answers at once;
# what the file held is fetched afterwards through an alias on the temp directory.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/128-request-body-file.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

our $Body3k = join '', map { sprintf "%09d\n", $_ } 1 .. 300;

add_block_preprocessor(sub {
    my $b = shift;
    return if $b->must_die || $b->config =~ /location \/r /;
    $b->set_value('config', $b->config . <<'EOF');
    location /r { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok; }
    location /ok { return 200 "got\n"; }
EOF
});

run_tests();

__DATA__

=== TEST 1: client_body_in_file_only on, levels 1 2: even a small body is in a kept file
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt1 1 2;
    location /on {
        client_body_in_file_only on;
        add_header X-File $request_body_file;
        add_header X-Body "[$request_body]";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/cbt1/; }
--- request eval
["POST /on\nhello", "GET /files/1/00/0000000001"]
--- response_headers_like eval
["X-File: \\S+/cbt1/1/00/0000000001\nX-Body: \\[\\]", ""]
--- response_body eval
["got\n", "hello"]
--- error_log eval
qr/\[notice\] .*a client request body is buffered to a temporary file \S+\/cbt1\/1\/00\/0000000001, client: /



=== TEST 2: a body beyond client_body_buffer_size: nginx's warning, and the file is removed
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt2;
    client_body_buffer_size 1k;
    location /p {
        add_header X-File $request_body_file;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/cbt2/; }
--- request eval
["POST /p\n$main::Body3k", "GET /files/0000000001", "POST /p\nsmall"]
--- error_code eval
[200, 404, 200]
--- response_headers eval
["X-File: $ENV{TEST_NGINX_SERVROOT}/cbt2/0000000001", "", "X-File:"]
--- error_log eval
qr/\[warn\] .*a client request body is buffered to a temporary file \S+\/cbt2\/0000000001, client: 127\.0\.0\.1, server: localhost, request: "POST \/p HTTP\/1\.1"/



=== TEST 3: client_body_in_file_only clean: the file goes with the request, no warning
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt3;
    location /c {
        client_body_in_file_only clean;
        add_header X-File $request_body_file;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/cbt3/; }
--- request eval
["POST /c\nsome body", "GET /files/0000000001"]
--- error_code eval
[200, 404]
--- response_headers_like eval
["X-File: \\S+/cbt3/0000000001", ""]
--- error_log eval
qr/\[notice\] .*a client request body is buffered to a temporary file \S+\/cbt3\/0000000001, client: /



=== TEST 4: a chunked body beyond client_body_buffer_size goes to a file, whole
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt4;
    client_body_buffer_size 1k;
    location /on {
        client_body_in_file_only on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/cbt4/; }
--- raw_request eval
[(CORE::join '', "POST /on HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    map({ sprintf("%x\r\n%s\r\n", length $_, $_) } unpack('(A700)*', $main::Body3k)), "0\r\n\r\n"),
 "GET /files/0000000001 HTTP/1.0\r\n\r\n"]
--- response_body eval
["got\n", $main::Body3k]



=== TEST 5: a chunked body that fits client_body_buffer_size stays in memory
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt5;
    location /p {
        add_header X-File $request_body_file;
        add_header X-Body "[$request_body]";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- raw_request eval
"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
--- response_headers
X-File:
X-Body: [hello world]
--- no_error_log
buffered to a temporary file



=== TEST 6: "Content-Length: 0" with client_body_in_file_only on gets an empty file; no body
gets none
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt6;
    location /on {
        client_body_in_file_only on;
        add_header X-File $request_body_file;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/cbt6/; }
--- request eval
["POST /on\n", "GET /on", "GET /files/0000000001"]
--- more_headers eval
["Content-Length: 0", "", ""]
--- response_headers_like eval
["X-File: \\S+/cbt6/0000000001", "X-File: ", "Content-Length: 0"]
--- response_body eval
["got\n", "got\n", ""]



=== TEST 7: the temp directories exist after start, rwx for the worker user only
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt 2;
    location /x { proxy_temp_path $TEST_NGINX_SERVROOT/pt 1 1; return 204; }
--- init
my @nobody = getpwnam('nobody');
for my $d (qw(cbt pt)) {
    my @st = stat "$ENV{TEST_NGINX_SERVROOT}/$d";
    Test::More::ok(@st && -d _, "$d exists");
    Test::More::is(sprintf('%o', $st[2] & 0777), '700', "$d: mode 700");
    Test::More::is($st[4], $nobody[2], "$d: the worker user's") if $> == 0 && @nobody;
}
--- request
GET /x
--- error_code: 204



=== TEST 8: the same directory with other levels
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt 2;
    location /x { client_body_temp_path $TEST_NGINX_SERVROOT/cbt 1; }
--- must_die
--- error_log eval
qr/\[emerg\] .*the same path name "\S+\/cbt" in \S+:\d+ has the different levels than in \S+:\d+/



=== TEST 9: proxy_temp_path on the client body's directory with other levels
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt 2;
    location /x { proxy_temp_path $TEST_NGINX_SERVROOT/cbt; }
--- must_die
--- error_log eval
qr/the same path name "\S+\/cbt" in \S+:\d+ has the different levels than in \S+:\d+/



=== TEST 10: a level of 0
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt 0;
--- must_die
--- error_log eval
qr/"client_body_temp_path" directive invalid value in \S+:\d+/



=== TEST 11: levels of more than 10 digits
--- config
    location /x { proxy_temp_path $TEST_NGINX_SERVROOT/pt 5 5 1; }
--- must_die
--- error_log eval
qr/"proxy_temp_path" directive invalid value in \S+:\d+/



=== TEST 12: four levels
--- config
    location /x { scgi_temp_path $TEST_NGINX_SERVROOT/st 1 1 1 1; }
--- must_die
--- error_log eval
qr/invalid number of arguments in "scgi_temp_path" directive in \S+:\d+/



=== TEST 13: a directory that cannot be made
--- config
    location /x { uwsgi_temp_path /nonexistent/moongate/ut; }
--- must_die
--- error_log eval
qr/\[emerg\] .*mkdir\(\) "\/nonexistent\/moongate\/ut" failed \(2: No such file or directory\)/



=== TEST 14: client_body_in_file_only takes on, clean or off
--- config
    client_body_in_file_only yes;
--- must_die
--- error_log eval
qr/invalid value "yes" in \S+:\d+/



=== TEST 15: client_body_in_single_buffer is a flag
--- config
    client_body_in_single_buffer yes;
--- must_die
--- error_log eval
qr/invalid value "yes" in "client_body_in_single_buffer" directive, it must be "on" or "off" in \S+:\d+/



=== TEST 16: fastcgi_temp_path twice at one level
--- config
    fastcgi_temp_path $TEST_NGINX_SERVROOT/ft;
    fastcgi_temp_path $TEST_NGINX_SERVROOT/ft2;
--- must_die
--- error_log eval
qr/"fastcgi_temp_path" directive is duplicate in \S+:\d+/



=== TEST 17: client_body_in_single_buffer on: the body in memory, $request_body whole
--- config
    client_body_in_single_buffer on;
    location /p {
        add_header X-Body "[$request_body]";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request
POST /p
single buffer
--- response_headers
X-Body: [single buffer]



=== TEST 18: the default client_body_buffer_size is two memory pages (8k here): a 12000-byte
body goes to a file, a 6000-byte one stays in memory
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt18;
    location /p {
        add_header X-File $request_body_file;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
--- request eval
["POST /p\n" . ('a' x 6000), "POST /p\n" . ('b' x 12000)]
--- response_headers_like eval
["X-File: \\z", "X-File: \\S+/cbt18/0000000001\\z"]
--- error_log eval
qr/\[warn\] .*a client request body is buffered to a temporary file \S+\/cbt18\/0000000001, client: /
