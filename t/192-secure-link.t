# secure_link, secure_link_md5, secure_link_secret (ngx_http_secure_link_module): the md5 form
# ("HASH,EXPIRES" with a base64url MD5, $secure_link "" / "0" / "1", $secure_link_expires), the
# old form ("/prefix/HEXMD5/link" and the secret, $secure_link the link), inheritance, and the
# configuration errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/192-secure-link.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Digest::MD5 qw(md5 md5_hex);
use MIME::Base64 qw(encode_base64url);

plan 'no_plan';

our $Future = 4102444800;   # 2100-01-01
our $Past = 1000000000;     # 2001-09-09

sub b64 { encode_base64url(md5($_[0])) }

our @Md5Req = (
    "GET /s/x?md5=" . b64("$Future/s/x secret") . "&expires=$Future",       # valid
    "GET /s/x?md5=" . b64("$Past/s/x secret") . "&expires=$Past",           # expired
    "GET /s/x?md5=" . b64("$Future/s/x other") . "&expires=$Future",        # wrong hash
    "GET /s/x?md5=" . b64("0/s/x secret") . "&expires=0",                   # expires 0
    "GET /s/x?md5=" . b64("abc/s/x secret") . "&expires=abc",               # not a number
    "GET /s/x?md5=" . b64("/s/x secret") . "&expires=",                     # empty expires
    "GET /s/y?md5=" . b64("$Future/s/x secret") . "&expires=$Future",       # another URI
);

our @NoExpReq = (
    "GET /n/x?md5=" . b64("/n/x secret"),                   # valid
    "GET /n/x?md5=" . b64("/n/x secret") . "==",            # padded
    "GET /n/x?md5=" . b64("/n/x secret") . "==junk",        # too long
    "GET /n/x?md5=" . b64("/n/x secret") . "AAAA",          # too long
    "GET /n/x?md5=" . substr(b64("/n/x secret"), 0, 20),    # too short
    "GET /n/x?md5=",
    "GET /n/x",
    "GET /n/x?md5=" . encode_base64url(md5("/n/x secret") . "x"),  # 17 bytes
);

# a hash with '-' or '_' in its base64url form, and the same hash spelt with '+' and '/'
our ($UrlPath, $UrlHash);
for my $i (1 .. 1000) {
    my $h = b64("/n/$i secret");
    next unless $h =~ /[-_]/;
    ($UrlPath, $UrlHash) = ("/n/$i", $h);
    last;
}
(our $StdHash = $UrlHash) =~ tr{-_}{+/};

our @OldReq = (
    "GET /p/" . md5_hex("link/a.htmlsec") . "/link/a.html",
    "GET /p/" . uc(md5_hex("link/a.htmlsec")) . "/link/a.html",
    "GET /p/" . md5_hex("link/a.html?x=1sec") . "/link/a.html?x=1",
    "GET /p/" . md5_hex("link/a.htmlsec") . "/link/a.html?x=1",
    "GET /p/" . md5_hex("sec") . "/",
    "GET /p/" . md5_hex("link/a.htmlsec"),
    "GET /p/" . md5_hex("link/a.htmlsec") . "x/link/a.html",
    "GET /p/" . md5_hex("link/a.htmlother") . "/link/a.html",
    "GET /p/" . ("zz" x 16) . "/link/a.html",
);

run_tests();

__DATA__

=== TEST 1: the md5 form: valid, expired, wrong, bad expiry times
--- config
    location /s/ {
        secure_link $arg_md5,$arg_expires;
        secure_link_md5 "$secure_link_expires$uri secret";
        return 200 "[$secure_link][$secure_link_expires]\n";
    }
--- request eval
\@main::Md5Req
--- response_body eval
["[1][$main::Future]\n", "[0][$main::Past]\n", "[][$main::Future]\n", "[][]\n", "[][]\n", "[][]\n",
 "[][$main::Future]\n"]



=== TEST 2: without an expiry time; the hash's length and padding
--- config
    location /n/ {
        secure_link $arg_md5;
        secure_link_md5 "$uri secret";
        return 200 "[$secure_link][$secure_link_expires]\n";
    }
--- request eval
\@main::NoExpReq
--- response_body eval
["[1][]\n", "[1][]\n", "[][]\n", "[][]\n", "[][]\n", "[][]\n", "[][]\n", "[][]\n"]



=== TEST 3: base64url only: '-' and '_', not '+' and '/'
--- config
    location /n/ {
        secure_link $arg_md5;
        secure_link_md5 "$uri secret";
        return 200 "[$secure_link]\n";
    }
--- request eval
["GET $main::UrlPath?md5=$main::UrlHash", "GET $main::UrlPath?md5=" . ($main::StdHash =~ s/\+/%2B/gr =~ s{/}{%2F}gr)]
--- response_body eval
["[1]\n", "[]\n"]



=== TEST 4: secure_link without secure_link_md5, and neither
--- config
    location /a { secure_link $arg_md5; return 200 "[$secure_link]\n"; }
    location /b { return 200 "[$secure_link][$secure_link_expires]\n"; }
--- request eval
["GET /a?md5=" . main::b64(""), "GET /b"]
--- response_body eval
["[]\n", "[][]\n"]



=== TEST 5: the documented use: 403 for a wrong link, 410 for an expired one
--- config
    location /d/ {
        secure_link $arg_md5,$arg_expires;
        secure_link_md5 "$secure_link_expires$uri$remote_addr secret";
        if ($secure_link = "") { return 403; }
        if ($secure_link = "0") { return 410; }
        return 200 "granted\n";
    }
--- request eval
["GET /d/f?md5=" . main::b64("$main::Future/d/f127.0.0.1 secret") . "&expires=$main::Future",
 "GET /d/f?md5=" . main::b64("$main::Past/d/f127.0.0.1 secret") . "&expires=$main::Past",
 "GET /d/f?md5=" . main::b64("$main::Future/d/f10.0.0.1 secret") . "&expires=$main::Future"]
--- error_code eval
[200, 410, 403]



=== TEST 6: the server's secure_link and a location's secure_link_md5 together
--- config
    secure_link $arg_h;
    location /i/ {
        secure_link_md5 "$uri inherited";
        return 200 "[$secure_link]\n";
    }
--- request eval
["GET /i/z?h=" . main::b64("/i/z inherited"), "GET /i/z?h=" . main::b64("/i/z other")]
--- response_body eval
["[1]\n", "[]\n"]



=== TEST 7: the old form: the link from the request URI (arguments included), hex either case
--- config
    location /p/ {
        secure_link_secret sec;
        return 200 "[$secure_link]\n";
    }
--- request eval
\@main::OldReq
--- response_body eval
["[link/a.html]\n", "[link/a.html]\n", "[link/a.html?x=1]\n", "[]\n", "[]\n", "[]\n", "[]\n", "[]\n", "[]\n"]



=== TEST 8: the old form's documented use: the link served from an internal location
--- config
    location /p/ {
        secure_link_secret sec;
        if ($secure_link = "") { return 403; }
        rewrite ^ /secure/$secure_link;
    }
    location /secure/ {
        internal;
        return 200 "file $uri\n";
    }
--- request eval
["GET /p/" . main::md5_hex("dir/f.txtsec") . "/dir/f.txt", "GET /p/" . main::md5_hex("dir/f.txtbad") . "/dir/f.txt",
 "GET /secure/dir/f.txt"]
--- error_code eval
[200, 403, 404]
--- response_body_like eval
["\\Afile /secure/dir/f.txt\\n\\z", "403 Forbidden", "404 Not Found"]



=== TEST 9: a nested location inherits the secret; the first path segment is the prefix
--- config
    location /p/ {
        secure_link_secret sec;
        location /p/in/ { return 200 "in [$secure_link]\n"; }
        return 200 "out [$secure_link]\n";
    }
--- request eval
["GET /p/in/" . main::md5_hex("linksec") . "/link", "GET /p/" . main::md5_hex("in/linksec") . "/in/link"]
--- response_body eval
["in []\n", "out [in/link]\n"]



=== TEST 10: secure_link_secret with secure_link
--- config
    location /p/ {
        secure_link_secret sec;
        secure_link $arg_md5;
    }
--- must_die
--- error_log eval
qr/"secure_link_secret" cannot be mixed with "secure_link" and "secure_link_md5" in \S+:\d+/



=== TEST 11: secure_link twice
--- config
    location /p/ {
        secure_link $arg_a;
        secure_link $arg_b;
    }
--- must_die
--- error_log eval
qr/"secure_link" directive is duplicate in \S+:\d+/



=== TEST 12: secure_link_secret at the server level (nginx takes it there too), inherited
--- config
    secure_link_secret srv;
    location /p/ { return 200 "[$secure_link]\n"; }
--- request eval
"GET /p/" . main::md5_hex("linksrv") . "/link"
--- response_body
[link]



=== TEST 13: an unknown variable in secure_link_md5
--- config
    location /p/ { secure_link_md5 "$no_such_var"; }
--- must_die
--- error_log
unknown "no_such_var" variable
