# userid and userid_* (ngx_http_userid_module): the cookie nginx sets (16 bytes: service,
# time, start value, sequence; network order for "on", the machine's for "v1"; base64 with
# "==" or the mark), $uid_got/$uid_set/$uid_reset, the cookie's attributes and P3P, marks,
# resets, cookies that fail to decode (logged as nginx does), log/off, and the directives'
# errors. The words in the variables print as the machine reads them (little-endian here).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/194-userid.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;
use MIME::Base64 qw(decode_base64);

plan 'no_plan';

# an identifier nginx made: 127.0.0.1, a time, a start value, sequence 0x03030302
our $Cookie = 'fwAAAWsS7WMh5WrrAwMDAg==';
our $CookieHex = '0100007F63ED126BEB6AE52102030303';

# GET $path; returns (Set-Cookie value, body)
sub fetch {
    my $path = shift;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Timeout => 3)
        or return;
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    my ($head, $body) = split /\r\n\r\n/, $r, 2;
    my ($cookie) = $head =~ /^Set-Cookie: ([^\r\n]*)/mi;
    return ($cookie, $body);
}

# the cookie's 16 bytes and $uid_set say the same; the words in network order
sub check_identifier {
    my ($path, $seq) = @_;
    my ($cookie, $body) = fetch($path);
    my ($b64) = ($cookie // '') =~ /^uid=([A-Za-z0-9+\/]{22}==);/;
    Test::More::ok(defined $b64, "$path: Set-Cookie uid=<22 base64 digits>==") or return;
    my $raw = decode_base64($b64);
    Test::More::is(length $raw, 16, "$path: 16 bytes");
    Test::More::is("[uid=" . sprintf('%08X' x 4, unpack('V4', $raw)) . "]\n", $body,
                   "$path: \$uid_set prints the words as the machine reads them");
    my @w = unpack('N4', $raw);
    Test::More::is($w[0], 0x7f000001, "$path: service is the server's address");
    Test::More::cmp_ok(abs($w[1] - time()), '<=', 5, "$path: the time");
    Test::More::is($w[3], $seq, "$path: the sequence number");
}

run_tests();

__DATA__

=== TEST 1: "on": the cookie, $uid_set, sequence numbers 0x03030302 and up by 0x100
--- config
    location /t {
        userid on;
        return 200 "got=[$uid_got] set=[$uid_set] reset=[$uid_reset]\n";
    }
--- request eval
["GET /t", "GET /t"]
--- response_headers_like eval
["Set-Cookie: uid=fwAAA[A-Za-z0-9+/]{11}AwMDAg==; path=/", "Set-Cookie: uid=fwAAA[A-Za-z0-9+/]{11}AwMEAg==; path=/"]
--- response_headers eval
["!P3P", "!P3P"]
--- response_body_like eval
["\\Agot=\\[\\] set=\\[uid=0100007F[0-9A-F]{16}02030303\\] reset=\\[\\]\\n\\z",
 "\\Agot=\\[\\] set=\\[uid=0100007F[0-9A-F]{16}02040303\\] reset=\\[\\]\\n\\z"]



=== TEST 2: the cookie's bytes: service, time, start value, sequence in network order
--- config
    location /t {
        userid on;
        return 200 "[$uid_set]\n";
    }
--- init
main::check_identifier('/t', 0x03030302);
main::check_identifier('/t', 0x03030402);
--- request
GET /t
--- response_body_like: \A\[uid=0100007F[0-9A-F]{16}02050303\]\n\z



=== TEST 3: "v1": the machine's byte order, sequence 1 and up by 0x100, service 0
--- config
    location /t {
        userid v1;
        return 200 "set=[$uid_set]\n";
    }
--- request eval
["GET /t", "GET /t"]
--- response_headers_like eval
["Set-Cookie: uid=AAAAA[A-Za-z0-9+/]{11}AQAAAA==; path=/", "Set-Cookie: uid=AAAAA[A-Za-z0-9+/]{11}AQEAAA==; path=/"]
--- response_body_like eval
["\\Aset=\\[uid=00000000[0-9A-F]{16}00000001\\]\\n\\z", "\\Aset=\\[uid=00000000[0-9A-F]{16}00000101\\]\\n\\z"]



=== TEST 4: a client's cookie is read ($uid_got) and not set again; "log" reads, "off" ignores
--- config
    location /on { userid on; return 200 "got=[$uid_got] set=[$uid_set]\n"; }
    location /v1 { userid v1; return 200 "got=[$uid_got] set=[$uid_set]\n"; }
    location /log { userid log; return 200 "got=[$uid_got] set=[$uid_set]\n"; }
    location /off { userid off; return 200 "got=[$uid_got] set=[$uid_set]\n"; }
--- request eval
["GET /on", "GET /v1", "GET /log", "GET /off"]
--- more_headers eval
[("Cookie: a=b; uid=$main::Cookie; z=1") x 4]
--- response_headers eval
[("!Set-Cookie") x 4]
--- response_body eval
["got=[uid=$main::CookieHex] set=[]\n", "got=[uid=$main::CookieHex] set=[]\n",
 "got=[uid=$main::CookieHex] set=[]\n", "got=[] set=[]\n"]



=== TEST 5: the cookie in a second Cookie line; the first 22 characters are what counts
--- config
    location /t { userid on; return 200 "got=[$uid_got]\n"; }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Cookie: a=1\nCookie: uid=$main::Cookie", "Cookie: uid=" . substr($main::Cookie, 0, 22)]
--- response_headers eval
["!Set-Cookie", "!Set-Cookie"]
--- response_body eval
["got=[uid=$main::CookieHex]\n", "got=[uid=$main::CookieHex]\n"]



=== TEST 6: every attribute: name, expires, domain, path, flags, P3P, mark, service
--- config
    location /t {
        userid on;
        userid_name uid2;
        userid_domain example.com;
        userid_path /p;
        userid_expires 1d;
        userid_p3p 'CP="X"';
        userid_mark Z;
        userid_service 1234;
        userid_flags secure httponly samesite=Lax;
        return 200 "set=[$uid_set]\n";
    }
--- request
GET /t
--- response_headers_like
Set-Cookie: uid2=AAAE0[A-Za-z0-9+/]{11}AwMDAgZ=; expires=\w{3}, \d\d-\w{3}-\d\d \d\d:\d\d:\d\d GMT; domain=example\.com; path=/p; secure; httponly; samesite=lax
--- response_headers
P3P: CP="X"
--- response_body_like: \Aset=\[uid2=D2040000[0-9A-F]{16}02030303\]\n\z



=== TEST 7: expires max and off; a date past 2037 has four digits; domain and p3p none
--- config
    location /max { userid on; userid_expires max; return 200 "x"; }
    location /off { userid on; userid_expires off; userid_domain none; userid_p3p none; return 200 "x"; }
    location /zero { userid on; userid_expires 0; return 200 "x"; }
    location /far { userid on; userid_expires 5000000000; return 200 "x"; }
--- request eval
["GET /max", "GET /off", "GET /zero", "GET /far"]
--- response_headers_like eval
["Set-Cookie: uid=[A-Za-z0-9+/]{22}==; expires=Thu, 31-Dec-37 23:55:55 GMT; path=/",
 "Set-Cookie: uid=[A-Za-z0-9+/]{22}==; path=/", "Set-Cookie: uid=[A-Za-z0-9+/]{22}==; path=/",
 "Set-Cookie: uid=[A-Za-z0-9+/]{22}==; expires=\\w{3}, \\d\\d-\\w{3}-2\\d\\d\\d \\d\\d:\\d\\d:\\d\\d GMT; path=/"]



=== TEST 8: a mark: a cookie without it gets it back unchanged otherwise, one with it is left
--- config
    location /t { userid on; userid_mark 3; return 200 "got=[$uid_got] set=[$uid_set]\n"; }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Cookie: uid=$main::Cookie", "Cookie: uid=" . substr($main::Cookie, 0, 22) . "3=",
 "Cookie: uid=" . substr($main::Cookie, 0, 22) . "3"]
--- response_headers eval
["Set-Cookie: uid=" . substr($main::Cookie, 0, 22) . "3=; path=/", "!Set-Cookie",
 "Set-Cookie: uid=" . substr($main::Cookie, 0, 22) . "3=; path=/"]
--- response_body eval
["got=[uid=$main::CookieHex] set=[uid=$main::CookieHex]\n", "got=[uid=$main::CookieHex] set=[]\n",
 "got=[uid=$main::CookieHex] set=[uid=$main::CookieHex]\n"]



=== TEST 9: $uid_reset: a new identifier; "log" says so; "0" and "" keep the client's
--- config
    location /t {
        userid on;
        set $uid_reset $arg_r;
        return 200 "got=[$uid_got] set=[$uid_set]\n";
    }
--- request eval
["GET /t?r=1", "GET /t?r=log", "GET /t?r=0", "GET /t"]
--- more_headers eval
[("Cookie: uid=$main::Cookie") x 4]
--- response_headers_like eval
["Set-Cookie: uid=fwAAA[A-Za-z0-9+/]{11}AwMDAg==; path=/", "Set-Cookie: uid=fwAAA[A-Za-z0-9+/]{11}AwMEAg==; path=/",
 "", ""]
--- response_headers eval
["", "", "!Set-Cookie", "!Set-Cookie"]
--- response_body_like eval
["\\Agot=\\[uid=$main::CookieHex\\] set=\\[uid=0100007F[0-9A-F]{16}02030303\\]\\n\\z",
 "\\Agot=\\[uid=$main::CookieHex\\] set=\\[uid=0100007F[0-9A-F]{16}02040303\\]\\n\\z",
 "\\Agot=\\[uid=$main::CookieHex\\] set=\\[\\]\\n\\z", "\\Agot=\\[uid=$main::CookieHex\\] set=\\[\\]\\n\\z"]
--- error_log eval
qr/\[notice\] .*userid cookie "uid=$main::CookieHex" was reset, client: 127\.0\.0\.1/



=== TEST 10: a cookie too short or not base64: the Cookie line logged, a new identifier set
--- config
    location /t { userid on; return 200 "got=[$uid_got]\n"; }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Cookie: uid=abc", "Cookie: x=1; uid=!!AAAWsS7WMh5WrrAwMDAg==", "Cookie: uid=fwAAAWsS7WMh5WrrAAAAAA=="]
--- response_headers_like eval
["Set-Cookie: uid=[A-Za-z0-9+/]{22}==; path=/", "Set-Cookie: uid=[A-Za-z0-9+/]{22}==; path=/",
 "Set-Cookie: uid=[A-Za-z0-9+/]{22}==; path=/"]
--- response_body eval
["got=[]\n", "got=[]\n", "got=[]\n"]
--- error_log eval
[qr/\[error\] .*client sent too short userid cookie "uid=abc", client: /,
 qr/\[error\] .*client sent invalid userid cookie "x=1; uid=!!AAAWsS7WMh5WrrAwMDAg==", client: /]



=== TEST 11: "log" reports a bad cookie when $uid_got is read; "off" does not look
--- config
    location /log { userid log; return 200 "got=[$uid_got]\n"; }
    location /off { userid off; return 200 "got=[$uid_got]\n"; }
--- request eval
["GET /off", "GET /log"]
--- more_headers eval
["Cookie: uid=short-off", "Cookie: uid=short-log"]
--- response_headers eval
["!Set-Cookie", "!Set-Cookie"]
--- error_log
client sent too short userid cookie "uid=short-log"
--- no_error_log
userid cookie "uid=short-off"



=== TEST 12: every status gets the cookie, after add_header's lines; userid from http{}
--- http_config
    userid on;
--- config
    location /t { add_header X-First 1 always; return 404; }
--- request
GET /t
--- error_code: 404
--- raw_response_headers_like: X-First: 1\r\nSet-Cookie: uid=[A-Za-z0-9+/]{22}==; path=/\r\n



=== TEST 13: userid_service beyond 32 bits wraps; an empty userid_name
--- config
    location /t { userid on; userid_service 4294967296; userid_name ""; return 200 "[$uid_set]\n"; }
--- request
GET /t
--- response_headers_like
Set-Cookie: =AAAAA[A-Za-z0-9+/]{17}==; path=/
--- response_body_like: \A\[=00000000[0-9A-F]{16}02030303\]\n\z



=== TEST 14: flags "off" adds nothing; the first samesite wins
--- config
    location /a { userid on; userid_flags off secure; return 200 "x"; }
    location /b { userid on; userid_flags samesite=none samesite=lax; return 200 "x"; }
--- request eval
["GET /a", "GET /b"]
--- response_headers_like eval
["Set-Cookie: uid=[A-Za-z0-9+/]{22}==; path=/; secure", "Set-Cookie: uid=[A-Za-z0-9+/]{22}==; path=/; samesite=none"]



=== TEST 15: userid takes on, v1, log or off
--- config
    location /t { userid yes; }
--- must_die
--- error_log eval
qr/invalid value "yes" in \S+:\d+/



=== TEST 16: userid_mark
--- config
    location /t { userid_mark ab; }
--- must_die
--- error_log eval
qr/"userid_mark" directive value must be "off" or a single letter, digit or "=" in \S+:\d+/



=== TEST 17: userid_expires
--- config
    location /t { userid_expires -1; }
--- must_die
--- error_log eval
qr/"userid_expires" directive invalid value in \S+:\d+/



=== TEST 18: userid_flags
--- config
    location /t { userid_flags bogus; }
--- must_die
--- error_log eval
qr/invalid value "bogus" in \S+:\d+/



=== TEST 19: userid_service takes a number
--- config
    location /t { userid_service abc; }
--- must_die
--- error_log eval
qr/"userid_service" directive invalid number in \S+:\d+/



=== TEST 20: a duplicate flag is a warning (seen in the output of a start that fails later)
--- config
    location /t { userid_flags secure secure; }
    location /u { userid_name a; userid_name b; }
--- must_die
--- error_log eval
[qr/\[warn\] .*duplicate value "secure" in \S+:\d+/, qr/"userid_name" directive is duplicate in \S+:\d+/]
