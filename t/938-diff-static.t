# Found by running the same configs on nginx and moongate: static-file answers that differed.
# gzip_static serves its .gz whole: no byte ranges and no Accept-Ranges (nginx allows ranges
# for the static module's files only), so a client never gets a slice of compressed bytes. A
# directory redirect escapes the URI again (a "?" or "#" in a directory name ended its path).
#
#   prove -I t/lib t/938-diff-static.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/938-diff-static.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Compress::Gzip ();

plan 'no_plan';

our $Zipped = "precompressed text, long enough to be cut\n";
our $Gz = do { IO::Compress::Gzip::gzip(\$Zipped => \my $o) or die; $o };
our @Files = (["a.txt", "plain text\n"], ["a.txt.gz", $Gz]);

run_tests();

__DATA__

=== TEST 1: gzip_static on: a Range gets the whole .gz, 200, no Accept-Ranges
--- user_files eval
[@::Files]
--- config
    location / { root html; gzip_static on; }
--- request
GET /a.txt
--- more_headers
Accept-Encoding: gzip
Range: bytes=0-3
--- error_code: 200
--- response_headers eval
"Content-Encoding: gzip\nContent-Length: " . length($::Gz) . "\n!Accept-Ranges\n!Content-Range"
--- response_body eval
$::Gz



=== TEST 2: gzip_static always, no Accept-Encoding: the same
--- user_files eval
[@::Files]
--- config
    location / { root html; gzip_static always; }
--- request
GET /a.txt
--- more_headers
Range: bytes=-5
--- error_code: 200
--- response_headers eval
"Content-Encoding: gzip\nContent-Length: " . length($::Gz) . "\n!Accept-Ranges"
--- response_body eval
$::Gz



=== TEST 3: the plain file (no gzip taken) still answers ranges
--- user_files eval
[@::Files]
--- config
    location / { root html; gzip_static on; }
--- request
GET /a.txt
--- more_headers
Range: bytes=0-4
--- error_code: 206
--- response_headers
Accept-Ranges:
Content-Range: bytes 0-4/11
--- response_body: plain



=== TEST 4: a directory redirect escapes the URI again: "?", "#", "%", space, UTF-8 stay in the path
--- config
    location / { root html; }
    location /al/ { alias html/; }
--- user_files eval
[["d d/index.html", "x"], ["d?q/index.html", "x"], ["d#h/index.html", "x"], ["d%/index.html", "x"],
 ["d\xc3\xa9{}/index.html", "x"], ["d;+&=/index.html", "x"]]
--- request eval
["GET /d%20d", "GET /d%3Fq?a=1", "GET /al/d%23h", "GET /d%25", "GET /d%C3%A9%7B%7D", "GET /d;+&="]
--- error_code eval
[301, 301, 301, 301, 301, 301]
--- response_headers_like eval
["Location: http://localhost(:\\d+)?/d%20d/\r?\$", "Location: http://localhost(:\\d+)?/d%3Fq/\\?a=1\r?\$",
 "Location: http://localhost(:\\d+)?/al/d%23h/\r?\$", "Location: http://localhost(:\\d+)?/d%25/\r?\$",
 "Location: http://localhost(:\\d+)?/d%C3%A9%7B%7D/\r?\$", "Location: http://localhost(:\\d+)?/d;\\+&=/\r?\$"]
