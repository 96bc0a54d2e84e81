# gunzip (ngx_http_gunzip_module): a gzip'ed response (here from gzip_static always) is
# decompressed for a client that does not take gzip, as the gzip_* rules decide (no
# Accept-Encoding, HTTP/1.0 under gzip_http_version 1.1), and for subrequests; the headers it
# changes; several gzip members; a large body through few small buffers; the text filters see
# the decompressed text; broken data ends the response with nginx's log line.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/147-gunzip.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;
use IO::Compress::Gzip ();

plan 'no_plan';

sub gz {
    my $in = shift;
    my $out;
    IO::Compress::Gzip::gzip(\$in => \$out) or die;
    $out;
}

our $Text = "hello gunzip world\n";
our $Big = join '', map { sprintf("%06d %s\n", $_, join('', map { chr(97 + ($_ * 7) % 26) } 1 .. 400)) } 1 .. 15000;
our @Files = (["g.txt", $Text], ["g.txt.gz", gz($Text)],
    ["two.txt", "ignored\n"], ["two.txt.gz", gz("member one\n") . gz("member two\n")],
    ["big.txt", "ignored\n"], ["big.txt.gz", gz($Big)],
    ["bad.txt", "ignored\n"], ["bad.txt.gz", "this is not gzip data\n"],
    ["page.html", "ignored\n"], ["page.html.gz", gz("<p>old text</p>\n")],
    ["main.html", "main\n"]);

run_tests();

__DATA__

=== TEST 1: no Accept-Encoding: decompressed, no encoding, no length, a weak ETag
--- user_files eval
[@::Files]
--- config
    location / {
        gzip_static always;
        gunzip on;
    }
--- request
GET /g.txt
--- response_headers
!Content-Encoding
!Content-Length
!Accept-Ranges
--- response_headers_like
ETag: W/"[0-9a-f]+-[0-9a-f]+"
--- response_body eval
$::Text



=== TEST 2: a client that takes gzip gets it as it is
--- user_files eval
[@::Files]
--- config
    location / {
        gzip_static always;
        gunzip on;
    }
--- request
GET /g.txt
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_headers_like
Content-Length: \d+
--- response_body_like: ^\x1f\x8b



=== TEST 3: gunzip off (the default): the gzip'ed body goes out as it is
--- user_files eval
[@::Files]
--- config
    location / {
        gzip_static always;
    }
--- request
GET /g.txt
--- response_headers
Content-Encoding: gzip
--- response_body_like: ^\x1f\x8b



=== TEST 4: HTTP/1.0 with Accept-Encoding under gzip_http_version 1.1: decompressed; gzip_vary adds Vary
--- user_files eval
[@::Files]
--- config
    location / {
        gzip_static always;
        gunzip on;
        gzip_vary on;
    }
--- raw_request eval
"GET /g.txt HTTP/1.0\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n"
--- response_headers
!Content-Encoding
Vary: Accept-Encoding
--- response_body eval
$::Text



=== TEST 5: several gzip members one after the other
--- user_files eval
[@::Files]
--- config
    location / {
        gzip_static always;
        gunzip on;
    }
--- request
GET /two.txt
--- response_body
member one
member two



=== TEST 6: 6 MB through four 1 KB buffers
--- user_files eval
[@::Files]
--- config
    location / {
        gzip_static always;
        gunzip on;
        gunzip_buffers 4 1k;
    }
--- request
GET /big.txt
--- response_body_filters eval
\&::md5_len
--- response_body eval
::md5_len($::Big)



=== TEST 7: sub_filter sees the decompressed text
--- user_files eval
[@::Files]
--- config
    location / {
        gzip_static always;
        gunzip on;
        sub_filter 'old' 'new';
    }
--- request
GET /page.html
--- response_body
<p>new text</p>



=== TEST 8: a subrequest's response is decompressed whatever the client takes
--- user_files eval
[@::Files]
--- config
    location / {
        add_after_body /part/g.txt;
        addition_types text/plain;
    }
    location /part/ {
        alias html/;
        gzip_static always;
        gunzip on;
    }
--- request
GET /main.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
!Content-Encoding
--- response_body eval
"main\n$::Text"



=== TEST 9: data that is not gzip ends the response, logged as nginx does
--- user_files eval
[@::Files]
--- config
    location / {
        gzip_static always;
        gunzip on;
    }
--- request
GET /bad.txt
--- ignore_response
--- error_log
inflate() failed: 4, -3 while sending response to client



=== TEST 10: gunzip_buffers checks its values
--- config
    location / {
        gunzip_buffers 0 4k;
    }
--- must_die
--- error_log eval
qr/"gunzip_buffers" directive invalid value in .*:\d+/



=== TEST 11: gunzip takes on or off
--- config
    location / {
        gunzip maybe;
    }
--- must_die
--- error_log eval
qr/invalid value "maybe" in "gunzip" directive, it must be "on" or "off" in .*:\d+/



=== TEST 12: a proxied gzip'ed response, decompressed as it streams in
--- user_files eval
[@::Files]
--- config
    location /src/ {
        alias html/;
        gzip_static always;
    }
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/src/;
        proxy_buffers 4 4k;
        gunzip on;
    }
--- request
GET /p/big.txt
--- response_headers
!Content-Encoding
--- response_body_filters eval
\&::md5_len
--- response_body eval
::md5_len($::Big)
