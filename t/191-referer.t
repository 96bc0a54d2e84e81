# valid_referers and $invalid_referer (ngx_http_referer_module): none, blocked (not an http(s)
# URL, or shorter than "http://i.ru"), server_names (exact, wildcard and regex names, read once
# the server is complete), exact names and "*.x"/".x"/"x.*" wildcards with an optional URI
# prefix, "~" regexes on what follows the scheme, the 256-byte host limit, inheritance, and
# the configuration errors including referer_hash_*'s verdicts.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/191-referer.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# one request per Referer value (undef: none sent) against GET $uri
sub refs {
    my ($uri, @refs) = @_;
    return ([("GET $uri") x @refs], [map { defined $_ ? "Referer: $_" : "" } @refs]);
}

our (@Req1, @Hdr1);
{
    my ($r, $h) = refs('/t', undef, 'http://www.example.com/', 'http://WWW.Example.COM:8080/x',
        'https://a.b.example.com/', 'http://example.org/', 'http://www.example.org/galleries/x',
        'http://www.example.org/gal', 'http://www.example.org', 'http://www.google.com/',
        'http://xgoogle.com/', 'ftp://x.example.com/', 'http://i.r', 'http://i.ru',
        'HTTP://www.example.com/', 'http://evil.com/www.example.com/');
    @Req1 = @$r;
    @Hdr1 = @$h;
}

our (@Req2, @Hdr2);
{
    my ($r, $h) = refs('/t', 'http://example.com/', 'http://a.example.com/', 'http://a.b.example.com/',
        'http://dot.net/', 'http://x.y.dot.net/', 'http://www.tail.com/', 'http://www.tail.co.uk/',
        'http://www.tail/', 'http://a.b.example.com/x', 'http://a.b.example.com/yes/1',
        'http://b.example.com/x');
    @Req2 = @$r;
    @Hdr2 = @$h;
}

our $Host252 = 'a' x 252;

run_tests();

__DATA__

=== TEST 1: none, blocked, exact and wildcard names, a URI prefix, a regex
--- config
    location /t {
        valid_referers none blocked server_names *.example.com example.*
                       www.example.org/galleries/ ~\.google\.;
        return 200 "[$invalid_referer]\n";
    }
--- request eval
\@main::Req1
--- more_headers eval
\@main::Hdr1
--- response_body eval
["[]\n", "[]\n", "[]\n", "[]\n", "[]\n", "[]\n", "[1]\n", "[1]\n", "[]\n", "[1]\n", "[]\n",
 "[]\n", "[1]\n", "[]\n", "[1]\n"]



=== TEST 2: without "none" a missing Referer is invalid, without "blocked" a non-URL one is
--- config
    location /t {
        valid_referers foo.com;
        return 200 "[$invalid_referer]\n";
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["", "Referer: nonhttp", "Referer: http://foo.com", "Referer: http://foo.com?x", "Referer: http://user\@foo.com/"]
--- response_body eval
["[1]\n", "[1]\n", "[]\n", "[1]\n", "[1]\n"]



=== TEST 3: without valid_referers nothing is invalid
--- config
    location /t { return 200 "[$invalid_referer]\n"; }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["", "Referer: http://anything.com/"]
--- response_body eval
["[]\n", "[]\n"]



=== TEST 4: the most specific wildcard decides, and its URI prefix; dot and tail wildcards
--- config
    location /t {
        valid_referers *.example.com .dot.net www.tail.* *.b.example.com/yes/;
        return 200 "[$invalid_referer]\n";
    }
--- request eval
\@main::Req2
--- more_headers eval
\@main::Hdr2
--- response_body eval
["[1]\n", "[]\n", "[1]\n", "[]\n", "[]\n", "[]\n", "[]\n", "[1]\n", "[1]\n", "[]\n", "[]\n"]



=== TEST 5: a host name with a URI that does not match is invalid, regexes are not tried
--- config
    location /t {
        valid_referers www.x.org/a/ ~x\.org/b;
        return 200 "[$invalid_referer]\n";
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Referer: http://www.x.org/b", "Referer: http://www.x.org/a/", "Referer: http://y.x.org/b",
 "Referer: http://www.x.org:80"]
--- response_body eval
["[1]\n", "[]\n", "[]\n", "[1]\n"]



=== TEST 6: regexes run on the text after the scheme, caseless
--- config
    location /t {
        valid_referers ~^re/x ~UPPER;
        return 200 "[$invalid_referer]\n";
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Referer: http://re/x/y", "Referer: https://re/xy", "Referer: http://upper.com/", "Referer: http://other/"]
--- response_body eval
["[]\n", "[]\n", "[]\n", "[1]\n"]



=== TEST 7: server_names: the server's exact, wildcard and regex names, declared after
--- config
    location /t {
        valid_referers server_names;
        return 200 "[$invalid_referer]\n";
    }
    server_name ~^re(\d+)\.srv$ .dot.net late.com;
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Referer: http://localhost/", "Referer: http://re12.srv/", "Referer: http://re12.srvx/",
 "Referer: http://x.dot.net/", "Referer: http://dot.net/", "Referer: http://LOCALHOST:99/",
 "Referer: http://late.com/"]
--- response_body eval
["[]\n", "[]\n", "[1]\n", "[]\n", "[]\n", "[]\n", "[]\n"]



=== TEST 8: a host longer than 256 bytes is invalid before any regex
--- config
    location /t {
        valid_referers ~^a+\.com;
        return 200 "[$invalid_referer]\n";
    }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Referer: http://$main::Host252.com/", "Referer: http://a$main::Host252.com/", "Referer: http://a$main::Host252.com"]
--- response_body eval
["[]\n", "[1]\n", "[1]\n"]



=== TEST 9: a server's list is inherited by locations without their own; a location's replaces it
--- config
    valid_referers none a.com;
    location /t {
        return 200 "[$invalid_referer]\n";
    }
    location /own {
        valid_referers b.com;
        return 200 "[$invalid_referer]\n";
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /own", "GET /own", "GET /own"]
--- more_headers eval
["", "Referer: http://a.com/", "Referer: http://b.com/", "", "Referer: http://a.com/", "Referer: http://b.com/"]
--- response_body eval
["[]\n", "[]\n", "[1]\n", "[1]\n", "[1]\n", "[]\n"]



=== TEST 10: the typical use: 403 for an invalid Referer
--- config
    location /img/ {
        valid_referers none blocked server_names *.example.com;
        if ($invalid_referer) { return 403; }
        return 200 "image\n";
    }
--- request eval
["GET /img/a.png", "GET /img/a.png"]
--- more_headers eval
["Referer: http://www.example.com/page", "Referer: http://evil.net/page"]
--- error_code eval
[200, 403]



=== TEST 11: "none" or "blocked" alone
--- config
    location /t { valid_referers none blocked ~x; }
--- must_die
--- error_log
the "none" or "blocked" referers are specified in the "valid_referers" directive without any valid referer



=== TEST 12: conflicting names, lowercased as nginx prints them
--- config
    location /t { valid_referers Example.com .example.com; }
--- must_die
--- error_log eval
qr/conflicting parameter "\.example\.com" in \S+:\d+/



=== TEST 13: a name twice, whatever the case
--- config
    location /t { valid_referers A.COM a.com; }
--- must_die
--- error_log eval
qr/conflicting parameter "a\.com" in \S+:\d+/



=== TEST 14: a wildcard twice, one with a URI
--- config
    location /t { valid_referers *.a.com/x *.A.com; }
--- must_die
--- error_log eval
qr/conflicting parameter "\*\.a\.com" in \S+:\d+/



=== TEST 15: a star inside a name
--- config
    location /t { valid_referers a.*.com; }
--- must_die
--- error_log eval
qr/invalid hostname or wildcard "a\.\*\.com" in \S+:\d+/



=== TEST 16: an empty referer
--- config
    location /t { valid_referers ""; }
--- must_die
--- error_log eval
qr/invalid referer "" in \S+:\d+/



=== TEST 17: a regex that does not compile, and an empty one
--- config
    location /t { valid_referers ~(; }
--- must_die
--- error_log eval
qr/pcre2_compile\(\) failed: missing closing parenthesis in "\(" in \S+:\d+/



=== TEST 18: "~" alone
--- config
    location /t { valid_referers "~"; }
--- must_die
--- error_log eval
qr/empty regex in "~" in \S+:\d+/



=== TEST 19: valid_referers is a server and location directive
--- http_config
    valid_referers a.com;
--- config
--- must_die
--- error_log eval
qr/"valid_referers" directive is not allowed here in \S+:\d+/



=== TEST 20: a name too long for referer_hash_bucket_size
--- config
    location /t { valid_referers aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com; }
--- must_die
--- error_log
could not build referer_hash, you should increase referer_hash_bucket_size: 64



=== TEST 21: a bigger bucket size takes it; the size is rounded up to a cache line
--- config
    location /t {
        referer_hash_bucket_size 65;
        valid_referers aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/
--- response_body
[]



=== TEST 22: a wildcard's label too long for the bucket size
--- config
    location /t { valid_referers *.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com; }
--- must_die
--- error_log
could not build referer_hash, you should increase referer_hash_bucket_size: 64



=== TEST 23: referer_hash_max_size too small for the names: a warning only
--- config
    location /t {
        referer_hash_max_size 1;
        valid_referers a.com b.com c.com d.com e.com f.com;
        return 200 "[$invalid_referer]\n";
    }
--- request
GET /t
--- more_headers
Referer: http://f.com/
--- response_body
[]



=== TEST 24: the warning (seen here in the output of a start that fails later)
--- config
    location /t {
        referer_hash_max_size 1;
        valid_referers a.com b.com c.com d.com e.com f.com;
    }
    location /u { valid_referers none; }
--- must_die
--- error_log eval
[qr/\[warn\] .*could not build optimal referer_hash, you should increase either referer_hash_max_size: 1 or referer_hash_bucket_size: 64; ignoring referer_hash_bucket_size/,
 qr/\[emerg\] .*the "none" or "blocked" referers are specified/]



=== TEST 25: referer_hash_max_size 0, and bad numbers
--- config
    location /t { referer_hash_max_size 0; valid_referers a.com; }
--- must_die
--- error_log
could not build referer_hash, you should increase referer_hash_max_size: 0



=== TEST 26: referer_hash_bucket_size takes a number, not a size
--- config
    location /t { referer_hash_bucket_size 1k; }
--- must_die
--- error_log eval
qr/"referer_hash_bucket_size" directive invalid number in \S+:\d+/
