# modern_browser, ancient_browser, modern_browser_value, ancient_browser_value and
# $modern_browser, $ancient_browser, $msie (ngx_http_browser_module): nginx's browser list and
# the order it looks browsers up in, its version comparison, "unlisted", netscape4, the
# values, inheritance, and the configuration errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/195-browser.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# one GET of $uri per User-Agent (undef: none sent)
sub uas {
    my ($uri, @ua) = @_;
    return ([("GET $uri") x @ua], [map { defined $_ ? "User-Agent: $_" : "" } @ua]);
}


our ($Req1, $Hdr1) = uas('/m', undef,
    'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)',
    'Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.1)',
    'Mozilla/4.0 (compatible; MSIE 10.0; Windows NT 6.1)',
    'MSIE 7.0',
    'Mozilla/5.0 (X11; rv:1.9.0.1) Gecko/2008 Firefox/3.0',
    'Mozilla/5.0 (X11; rv:1.8.1) Gecko/2008',
    'Mozilla/5.0 (Macintosh) AppleWebKit/525 (KHTML, like Gecko) Safari/525.13',
    'Mozilla/5.0 (Macintosh) AppleWebKit/412 (KHTML, like Gecko) Safari/412',
    'Opera/9.80 (X11; Linux) Presto/2.2 Version/10.00',
    'Opera/8.5',
    'Mozilla/5.0 (compatible; Konqueror/3.5; Linux)',
    'Mozilla/5.0 (compatible; Konqueror/2.5; Linux)',
    'curl/7.88');

our ($Req2, $Hdr2) = uas('/v',
    'Mozilla/4.0 (compatible; MSIE 6.0.1; W)', 'Mozilla/4.0 (compatible; MSIE 6.0.3; W)',
    'Mozilla/4.0 (compatible; MSIE 6.0b; W)', 'Mozilla/4.0 (compatible; MSIE 6.1.1; W)',
    'Mozilla/4.0 (compatible; MSIE 6.0.2.9; W)', 'Mozilla/4.0 (compatible; MSIE 6.; W)',
    'Mozilla/4.0 (compatible; MSIE 7', 'Mozilla/4.0 (compatible; MSIE ');

our $Both = 'Mozilla/4.0 (compatible; MSIE 5.0; Konqueror/2.0 rv:2.0) Safari/2';

run_tests();

__DATA__

=== TEST 1: nginx's browsers and versions; anything else is ancient without "unlisted"
--- config
    location /m {
        modern_browser opera 9.0;
        modern_browser msie 6.0;
        modern_browser gecko 1.9;
        modern_browser safari 500;
        modern_browser konqueror 3.0;
        return 200 "m=[$modern_browser] a=[$ancient_browser]\n";
    }
--- request eval
$main::Req1
--- more_headers eval
$main::Hdr1
--- response_body eval
["m=[] a=[1]\n", "m=[1] a=[]\n", "m=[] a=[1]\n", "m=[1] a=[]\n", "m=[] a=[1]\n", "m=[1] a=[]\n",
 "m=[] a=[1]\n", "m=[1] a=[]\n", "m=[] a=[1]\n", "m=[1] a=[]\n", "m=[] a=[1]\n", "m=[1] a=[]\n",
 "m=[] a=[1]\n", "m=[] a=[1]\n"]



=== TEST 2: the version comparison: parts worth a hundredth of the one before
--- config
    location /v {
        modern_browser msie 6.0.2;
        return 200 "m=[$modern_browser]\n";
    }
--- request eval
$main::Req2
--- more_headers eval
$main::Hdr2
--- response_body eval
["m=[]\n", "m=[1]\n", "m=[]\n", "m=[1]\n", "m=[1]\n", "m=[]\n", "m=[1]\n", "m=[]\n"]



=== TEST 3: nginx's lookup order decides, not the lines' order; lines of one browser as given
--- config
    location /s1 { modern_browser gecko 9.0; modern_browser msie 1.0; return 200 "[$modern_browser]"; }
    location /s2 { modern_browser safari 9.0; modern_browser gecko 1.0; return 200 "[$modern_browser]"; }
    location /s3 { modern_browser konqueror 1.0; modern_browser safari 9.0; return 200 "[$modern_browser]"; }
    location /o1 { modern_browser msie 7.0; modern_browser msie 6.0; return 200 "[$modern_browser]"; }
    location /o2 { modern_browser msie 6.0; modern_browser msie 7.0; return 200 "[$modern_browser]"; }
    location /op { modern_browser opera 10.0; return 200 "[$modern_browser]"; }
--- request eval
["GET /s1", "GET /s2", "GET /s3", "GET /o1", "GET /o2", "GET /op", "GET /op"]
--- more_headers eval
["User-Agent: $main::Both", "User-Agent: $main::Both", "User-Agent: $main::Both",
 "User-Agent: Mozilla/4.0 (compatible; MSIE 6.5; W)", "User-Agent: Mozilla/4.0 (compatible; MSIE 6.5; W)",
 "User-Agent: Opera/9.80 (X11; Linux) Presto/2.2 Version/10.00", "User-Agent: Opera/10.00"]
--- response_body eval
["[1]", "[1]", "[]", "[]", "[1]", "[]", "[1]"]



=== TEST 4: "unlisted", ancient substrings, netscape4, custom values
--- config
    location /u {
        modern_browser msie 6.0;
        modern_browser unlisted;
        ancient_browser Lynx netscape4;
        modern_browser_value new;
        ancient_browser_value old;
        return 200 "m=[$modern_browser] a=[$ancient_browser]\n";
    }
--- request eval
["GET /u", "GET /u", "GET /u", "GET /u", "GET /u", "GET /u", "GET /u"]
--- more_headers eval
["", "User-Agent: curl/7", "User-Agent: Lynx/2.8", "User-Agent: Mozilla/4.7 (X11)",
 "User-Agent: Mozilla/4.0 (", "User-Agent: Mozilla/5.0 (X11)",
 "User-Agent: Mozilla/4.0 (compatible; MSIE 5.0; Windows)"]
--- response_body eval
["m=[new] a=[]\n", "m=[new] a=[]\n", "m=[] a=[old]\n", "m=[] a=[old]\n", "m=[new] a=[]\n",
 "m=[new] a=[]\n", "m=[] a=[old]\n"]



=== TEST 5: with no browser directive every browser is ancient
--- config
    location /n { return 200 "m=[$modern_browser] a=[$ancient_browser]\n"; }
--- request eval
["GET /n", "GET /n"]
--- more_headers eval
["", "User-Agent: Mozilla/5.0 (X11; rv:100.0) Gecko/20100101 Firefox/100.0"]
--- response_body eval
["m=[] a=[1]\n", "m=[] a=[1]\n"]



=== TEST 6: a level with its own modern or ancient lines does not inherit that list
--- http_config
    modern_browser msie 6.0;
    ancient_browser Lynx;
    ancient_browser_value a1;
    ancient_browser_value a2;
--- config
    location /inh { return 200 "m=[$modern_browser] a=[$ancient_browser]\n"; }
    location /unl { modern_browser unlisted; return 200 "m=[$modern_browser] a=[$ancient_browser]\n"; }
    location /ns { ancient_browser netscape4; modern_browser unlisted; return 200 "m=[$modern_browser] a=[$ancient_browser]\n"; }
--- request eval
["GET /inh", "GET /inh", "GET /unl", "GET /unl", "GET /ns", "GET /ns"]
--- more_headers eval
["User-Agent: Mozilla/4.0 (compatible; MSIE 5.0; W)", "User-Agent: curl",
 "User-Agent: Mozilla/4.0 (compatible; MSIE 5.0; W)", "User-Agent: Lynx",
 "User-Agent: Lynx", "User-Agent: Mozilla/3.0 (X11)"]
--- response_body eval
["m=[] a=[a2]\n", "m=[] a=[a2]\n", "m=[1] a=[]\n", "m=[] a=[a2]\n", "m=[1] a=[]\n", "m=[] a=[a2]\n"]



=== TEST 7: $msie: "MSIE x.x" and not Opera
--- config
    location /ie { return 200 "[$msie]\n"; }
--- request eval
["GET /ie", "GET /ie", "GET /ie", "GET /ie", "GET /ie"]
--- more_headers eval
["User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", "User-Agent: MSIE 6.0",
 "User-Agent: MSIE 6.", "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows) Opera 7.5", ""]
--- response_body eval
["[1]\n", "[1]\n", "[]\n", "[]\n", "[]\n"]



=== TEST 8: the typical use
--- config
    location / {
        modern_browser gecko 1.0;
        modern_browser unlisted;
        ancient_browser Lynx;
        if ($ancient_browser) { rewrite ^ /ancient.html last; }
        return 200 "modern\n";
    }
    location = /ancient.html { return 200 "ancient\n"; }
--- request eval
["GET /x", "GET /x"]
--- more_headers eval
["User-Agent: Lynx/2.8", "User-Agent: Mozilla/5.0 (X11; rv:100.0) Gecko/20100101"]
--- response_body eval
["ancient\n", "modern\n"]



=== TEST 9: an unknown browser
--- config
    location / { modern_browser netscape 4.0; }
--- must_die
--- error_log eval
qr/unknown browser name "netscape" in \S+:\d+/



=== TEST 10: a version with letters
--- config
    location / { modern_browser msie 6.0b; }
--- must_die
--- error_log eval
qr/invalid browser version "6\.0b" in \S+:\d+/



=== TEST 11: modern_browser with one argument other than "unlisted" fails (nginx says no more)
--- config
    location / { modern_browser msie; }
--- must_die



=== TEST 12: modern_browser with three arguments
--- config
    location / { modern_browser msie 6.0 7.0; }
--- must_die
--- error_log eval
qr/invalid number of arguments in "modern_browser" directive in \S+:\d+/
