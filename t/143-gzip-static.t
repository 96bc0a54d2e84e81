# gzip_static: "FILE.gz" served beside FILE with Content-Encoding: gzip when the client takes
# gzip ("on") or always ("always"), with the original's type, the .gz's length and dates,
# Vary under gzip_vary, and a fallback to the plain file.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/143-gzip-static.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;
use IO::Compress::Gzip ();

plan 'no_plan';

our $Plain = "<p>the plain page</p>\n";
our $Zipped = "<p>the page that was gzip'ed ahead of time</p>\n";
our $Gz = do { IO::Compress::Gzip::gzip(\$Zipped => \my $o) or die; $o };
our @Files = (["a.html", $Plain, "201707140240.00"], ["a.html.gz", $Gz, "202009131226.40"]);

run_tests();

__DATA__

=== TEST 1: "on" serves the .gz to a client that takes gzip
--- user_files eval
[@::Files]
--- config
    gzip_static on;
--- request
GET /a.html
--- more_headers
Accept-Encoding: gzip
--- response_headers eval
"Content-Encoding: gzip\nContent-Type: text/html\nContent-Length: " . length($::Gz) .
"\nLast-Modified: Sun, 13 Sep 2020 12:26:40 GMT\n!Vary"
--- response_body_filters: gunzip
--- response_body eval
$::Zipped



=== TEST 2: "on" serves the plain file to a client that does not take gzip
--- user_files eval
[@::Files]
--- config
    gzip_static on;
--- request eval
["GET /a.html", "GET /a.html"]
--- more_headers eval
["", "Accept-Encoding: gzip;q=0"]
--- response_headers eval
["!Content-Encoding\nContent-Length: " . length($::Plain),
 "!Content-Encoding\nContent-Length: " . length($::Plain)]
--- response_body eval
[$::Plain, $::Plain]



=== TEST 3: gzip_vary adds Vary to both answers when the .gz exists
--- user_files eval
[@::Files, ["b.html", "only plain\n"]]
--- config
    gzip_static on;
    gzip_vary on;
--- request eval
["GET /a.html", "GET /a.html", "GET /b.html"]
--- more_headers eval
["Accept-Encoding: gzip", "", "Accept-Encoding: gzip"]
--- response_headers eval
["Vary: Accept-Encoding\nContent-Encoding: gzip", "Vary: Accept-Encoding\n!Content-Encoding",
 "!Vary\n!Content-Encoding"]



=== TEST 4: "always" serves the .gz whatever the client says, without Vary
--- user_files eval
[@::Files]
--- config
    gzip_static always;
    gzip_vary on;
--- request
GET /a.html
--- response_headers
Content-Encoding: gzip
!Vary
--- response_body_filters: gunzip
--- response_body eval
$::Zipped



=== TEST 5: no .gz: the plain file, and nothing logged
--- user_files
>>> c.html
plain c
--- config
    gzip_static on;
--- request
GET /c.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
!Content-Encoding
--- response_body
plain c
--- no_error_log
[error]



=== TEST 6: off (the default) ignores the .gz
--- user_files eval
[@::Files]
--- request
GET /a.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
!Content-Encoding
--- response_body eval
$::Plain



=== TEST 7: with gzip on too, the .gz is not compressed again
--- user_files eval
[@::Files]
--- config
    gzip on;
    gzip_static on;
    gzip_min_length 1;
--- request
GET /a.html
--- more_headers
Accept-Encoding: gzip
--- response_headers eval
"Content-Encoding: gzip\nContent-Length: " . length($::Gz)
--- response_body_filters: gunzip
--- response_body eval
$::Zipped



=== TEST 8: HEAD gets the .gz's headers and no body
--- user_files eval
[@::Files]
--- config
    gzip_static on;
--- request
HEAD /a.html
--- more_headers
Accept-Encoding: gzip
--- response_headers eval
"Content-Encoding: gzip\nContent-Length: " . length($::Gz)
--- response_body



=== TEST 9: an index file found through the index module
--- user_files eval
[["dir/index.html", $::Plain], ["dir/index.html.gz", $::Gz]]
--- config
    gzip_static on;
--- request
GET /dir/
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
Content-Type: text/html
--- response_body_filters: gunzip
--- response_body eval
$::Zipped



=== TEST 10: per location, and "Accept-Encoding: *" is not gzip
--- user_files eval
[["s/a.html", $::Plain], ["s/a.html.gz", $::Gz], ["p/a.html", $::Plain], ["p/a.html.gz", $::Gz]]
--- config
    location /s/ { gzip_static on; }
    location /p/ { }
--- request eval
["GET /s/a.html", "GET /p/a.html", "GET /s/a.html"]
--- more_headers eval
["Accept-Encoding: gzip", "Accept-Encoding: gzip", "Accept-Encoding: *"]
--- response_headers eval
["Content-Encoding: gzip", "!Content-Encoding", "!Content-Encoding"]



=== TEST 11: a bad value
--- config
    gzip_static maybe;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "maybe" in .*moongate\.conf:\d+/



=== TEST 12: two arguments
--- config
    gzip_static on off;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "gzip_static" directive in .*moongate\.conf:\d+/
