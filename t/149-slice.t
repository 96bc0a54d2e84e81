# slice (ngx_http_slice_module): a proxied response fetched in slices of "slice" bytes, each a
# subrequest with "Range: $slice_range", put back together as one 200 (or the client's single
# range as 206, fetching only the slices it covers); a response that is not 206 passes as it
# is; a later slice with another status or ETag ends the response with nginx's log line.
# The Range headers the backend saw are checked by the init of the block after (`ranges_were`).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/149-slice.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;
use Test::MoongateBackend;
use Test::More ();

plan 'no_plan';

backend(a => 'echo', ranges => 1, size => 10000, headers => ['ETag: "v1"', 'Content-Type: text/plain']);
backend(n => 'echo', size => 10000, headers => ['Content-Type: text/plain']);

our $Body = Test::MoongateBackend::pattern(10000);

sub ranges_were {
    my ($what, $want) = @_;
    Test::More::is(join(',', Test::MoongateBackend::backend_ranges('a')), $want, "ranges asked for: $what");
    Test::MoongateBackend::backend_log_clear('a');
}
sub slices { join ',', map { my $s = $_ * 1024; my $e = $s + 1023; "bytes=$s-$e" } @_ }

run_tests();

__DATA__

=== TEST 1: 10000 bytes in slices of 1k: one 200 with the whole length and body
--- init
Test::MoongateBackend::backend_log_clear('a');
--- config
    location / {
        slice 1k;
        proxy_set_header Range $slice_range;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
        add_header X-Slice-Range $slice_range;
    }
--- request
GET /file
--- response_headers
Content-Length: 10000
!Content-Range
ETag: "v1"
X-Slice-Range: bytes=0-1023
--- response_body_filters eval
\&::md5_len
--- response_body eval
::md5_len($::Body)



=== TEST 2: the client's range: a 206 from the slices it covers only
--- init
::ranges_were("TEST 1", ::slices(0 .. 9));
--- config
    location / {
        slice 1k;
        proxy_set_header Range $slice_range;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /file
--- more_headers
Range: bytes=2500-3499
--- error_code: 206
--- response_headers
Content-Range: bytes 2500-3499/10000
Content-Length: 1000
--- response_body eval
substr($::Body, 2500, 1000)



=== TEST 3: an open range to the end
--- init
::ranges_were("TEST 2", ::slices(2, 3));
--- config
    location / {
        slice 1k;
        proxy_set_header Range $slice_range;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /file
--- more_headers
Range: bytes=9000-
--- error_code: 206
--- response_headers
Content-Range: bytes 9000-9999/10000
--- response_body eval
substr($::Body, 9000)



=== TEST 4: slices larger than the response: one request
--- init
::ranges_were("TEST 3", ::slices(8, 9));
--- config
    location / {
        slice 1m;
        proxy_set_header Range $slice_range;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /file
--- response_headers
Content-Length: 10000
--- response_body_filters eval
\&::md5_len
--- response_body eval
::md5_len($::Body)



=== TEST 5: without slice, $slice_range is empty and the backend gets no Range
--- init
::ranges_were("TEST 4", "bytes=0-1048575");
--- config
    location / {
        proxy_set_header Range $slice_range;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /file
--- response_headers
Content-Length: 10000
--- response_body_filters eval
\&::md5_len
--- response_body eval
::md5_len($::Body)



=== TEST 6: a backend that answers 200 to the first slice: passed on as it is
--- init
::ranges_were("TEST 5", "-");
--- config
    location / {
        slice 1k;
        proxy_set_header Range $slice_range;
        proxy_pass http://127.0.0.1:$TEST_NGINX_N_PORT;
    }
--- request
GET /file
--- response_headers
Content-Length: 10000
--- response_body_filters eval
\&::md5_len
--- response_body eval
::md5_len($::Body)



=== TEST 7: a later slice answered with 200 ends the response, logged
--- http_config
    map $slice_range $ranges { volatile; "bytes=0-1023" 1; default ""; }
--- config
    location / {
        slice 1k;
        proxy_set_header Range $slice_range;
        proxy_set_header X-Echo-Ranges $ranges;
        proxy_pass http://127.0.0.1:$TEST_NGINX_N_PORT;
    }
--- request
GET /file
--- ignore_response
--- error_log
unexpected status code 200 in slice response



=== TEST 8: a later slice with another ETag ends the response, logged
--- http_config
    map $slice_range $etag { volatile; "bytes=0-1023" '"v1"'; default '"v2"'; }
--- config
    location / {
        slice 1k;
        proxy_set_header Range $slice_range;
        proxy_set_header X-Echo-Ranges 1;
        proxy_set_header X-Echo-Header "ETag: $etag";
        proxy_pass http://127.0.0.1:$TEST_NGINX_N_PORT;
    }
--- request
GET /file
--- ignore_response
--- error_log
etag mismatch in slice response



=== TEST 9: 3 MB in 64k slices, gzip'ed as one stream
--- config
    location / {
        slice 64k;
        proxy_set_header Range $slice_range;
        proxy_set_header X-Echo-Size 3000000;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
        gzip on;
        gzip_types text/plain;
    }
--- request
GET /file
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters eval
\&::gunzip_md5
--- response_body eval
::md5_len(Test::MoongateBackend::pattern(3000000))
--- timeout: 30



=== TEST 10: HEAD: the first slice's head, as a 200 of the whole length
--- config
    location / {
        slice 1k;
        proxy_set_header Range $slice_range;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
HEAD /file
--- response_headers
Content-Length: 10000
--- response_body



=== TEST 11: "slice" takes a size
--- config
    location / {
        slice big;
    }
--- must_die
--- error_log eval
qr/"slice" directive invalid value in .*:\d+/
