# Proxied request bodies on disk: a body beyond client_body_buffer_size is read into its
# temporary file and sent upstream from there (sendfile), whole, for Content-Length and chunked
# bodies, again from its start to the next upstream after a failed try, on a kept-alive
# upstream connection; client_body_in_file_only on keeps it.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/318-proxy-body-file.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;
use Test::MoongateBackend;

plan 'no_plan';

backend(a     => 'echo');
backend(reset => 'reset');

# the Content-Length line the echo backend saw
sub echoed_length {
    my $b = shift;
    return $b =~ /^Content-Length: (\d+)$/mi ? "length $1" : 'no length';
}

our $Chunked = join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                        unpack('(a30000)*', Test::MoongateBackend::pattern(300000))) . "0\r\n\r\n";

log_level('info');

run_tests();

__DATA__

=== TEST 1: a 1 MB body goes through its temporary file to the upstream, whole
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt1;
    location /t {
        add_header X-File $request_body_file;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request eval
"POST /t\n" . Test::MoongateBackend::pattern(1000010)
--- response_headers_like
X-File: \S+/cbt1/0000000001
--- response_body_filters: echoed_body as_pattern
--- response_body: 1000010 pattern
--- error_log eval
qr/\[warn\] .*a client request body is buffered to a temporary file \S+\/cbt1\/0000000001, /
--- timeout: 5



=== TEST 2: a chunked body in a file goes upstream with its Content-Length
--- config
    client_body_buffer_size 8k;
    location /t { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. $main::Chunked
--- response_headers
X-Request-Framing: length
--- response_body_filters eval
[sub { main::echoed_length($_[0]) . ', ' . main::as_pattern(main::echoed_body($_[0])) }]
--- response_body: length 300000, 300000 pattern
--- error_log: a client request body is buffered to a temporary file



=== TEST 3: the first upstream resets the connection: the body is sent again, from its start,
to the next one
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_RESET_PORT;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    client_body_buffer_size 4k;
    location /t {
        proxy_next_upstream error non_idempotent;
        proxy_pass http://u;
    }
--- request eval
"POST /t\n" . Test::MoongateBackend::pattern(200001)
--- response_headers
X-Backend: a
--- response_body_filters: echoed_body as_pattern
--- response_body: 200001 pattern
--- error_log eval
qr/\[error\] .*(?:recv|readv|writev|sendfile)\(\) failed \(104: Connection reset by peer\)/



=== TEST 4: two file bodies over one kept-alive upstream connection
--- http_config
    upstream u {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        keepalive 2;
    }
--- config
    client_body_buffer_size 4k;
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://u;
    }
--- pipelined_requests eval
["POST /t\n" . Test::MoongateBackend::pattern(100000), "POST /t\n" . Test::MoongateBackend::pattern(70000)]
--- response_headers eval
["X-Backend-Req: 1", "X-Backend-Req: 2"]
--- response_body_filters: echoed_body as_pattern
--- response_body eval
["100000 pattern", "70000 pattern"]



=== TEST 5: client_body_in_file_only on: even a small body is sent from its file, and kept
--- config
    client_body_temp_path $TEST_NGINX_SERVROOT/cbt5;
    location /t {
        client_body_in_file_only on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location /files/ { alias $TEST_NGINX_SERVROOT/cbt5/; }
--- request eval
["POST /t\nsmall body", "GET /files/0000000001"]
--- response_body_filters eval
[sub { main::echoed_body($_[0]) }, sub { "file: $_[0]" }]
--- response_body eval
["small body", "file: small body"]
