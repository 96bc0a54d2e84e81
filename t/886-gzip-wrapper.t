# The gzip wrapper around the deflate data: each compressed response is exactly one gzip member
# (RFC 1952) whose trailer holds the right CRC-32 and length, whatever the size of the body and
# of gzip_buffers and however the body arrives (files read in pieces, a producer's flushes, no
# body at all). gunzip_strict lets zlib check the trailer, which plain gunzip does not.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/886-gzip-wrapper.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;

plan 'no_plan';

our $Text = join '', map { "line $_: the quick brown fox jumps over the lazy dog\n" } 1 .. 4000;
our $Pieces = join '', map { "piece $_ " x 300 } 1 .. 50;

run_tests();

__DATA__

=== TEST 1: a 200 KiB file, read in pieces, is one gzip member with the right trailer
--- user_files eval
">>> big.txt\n$::Text"
--- config
    gzip on;
    gzip_types text/plain;
--- request
GET /big.txt
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
!Content-Length
--- response_body_filters: gunzip_strict md5_len
--- response_body eval
::md5_len($::Text)



=== TEST 2: gzip_buffers of 5 bytes: the header and the trailer split over buffers
--- user_files eval
[map { ["$_.txt", substr($::Text, 0, $_)] } 100, 3001, 20002]
--- config
    gzip on;
    gzip_types text/plain;
    gzip_min_length 1;
    gzip_buffers 2 5;
--- request eval
["GET /100.txt", "GET /3001.txt", "GET /20002.txt"]
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters: gunzip_strict md5_len
--- response_body eval
[::md5_len(substr($::Text, 0, 100)), ::md5_len(substr($::Text, 0, 3001)),
 ::md5_len(substr($::Text, 0, 20002))]



=== TEST 3: gzip_comp_level 9, a body printed in pieces with flushes between them
--- config
    gzip on;
    gzip_comp_level 9;
    default_type text/html;
    location /t {
        content_by_lua_block {
            for i = 1, 50 do
                ngx.print(string.rep("piece " .. i .. " ", 300))
                if i % 7 == 0 then ngx.flush(true) end
            end
        }
    }
--- request
GET /t
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters: gunzip_strict md5_len
--- response_body eval
::md5_len($::Pieces)



=== TEST 4: a response with no body is still a whole gzip member (an empty one)
--- config
    gzip on;
    default_type text/html;
    location /t { content_by_lua_block { ngx.send_headers() } }
--- request
GET /t
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters: gunzip_strict
--- response_body chomp



=== TEST 5: the header: gzip magic, deflate, no flags, no time, OS Unix
--- user_files eval
">>> big.txt\n$::Text"
--- config
    gzip on;
    gzip_types text/plain;
--- request
GET /big.txt
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
sub { CORE::join ' ', unpack 'H6 H2 H8 x H2', $_[0] }
--- response_body chomp
1f8b08 00 00000000 03
