# Found by running the same configs on nginx and moongate: static-file answers that differed.
# gzip_static serves its .gz whole: no byte ranges and no Accept-Ranges (nginx allows ranges
# for the static module's files only), so a client never gets a slice of compressed bytes.
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
