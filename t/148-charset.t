# charset (ngx_http_charset_module): "; charset=" added to the types of charset_types, the
# response's own charset kept unless override_charset; recoding with charset_map tables between
# 8-bit charsets and to and from UTF-8 (unmapped: "?", from UTF-8 "&#N;", broken UTF-8 read as
# nginx reads it), charsets from variables, subrequests recoded into their main request's
# charset, sequences cut between the pieces a body streams in; nginx's errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/148-charset.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;

plan 'no_plan';

our $Maps = <<'EOM';
    charset_map koi8-r utf-8 { C1 D0B0; C2 D0B1; BF C2A9; 80 E29480; }
    charset_map koi8-r windows-1251 { C1 E0; C2 E1; BF A9; }
    charset_map windows-1251 utf-8 { E0 D0B0; }
EOM
our $Cut = ('x' x 32767) . "\xd0\xb0\xd0\xb1 end\n";
our $Big = join '', map { sprintf("%06d %s\n", $_, "\xc1\xc2\xbf" x 330) } 1 .. 6000;
(our $BigUtf8 = $Big) =~ s/\xc1\xc2\xbf/\xd0\xb0\xd0\xb1\xc2\xa9/g;
our @Files = (["k.html", "\xc1\xc2\xc3\x80\xbf|\n"], ["w.html", "\xe0\xe1\xe2\n"],
    ["u.html", "a\xffb|\xfe\xffc|\xc3d|\xe2\x82e|\xd0\xb0\xd0|\xc2\xa9|\xf0\x9f\x98\x80|\xc0\xaf|end\n"],
    ["k.css", "\xc1\n"], ["part.html", "part \xc1\n"], ["cut.html", $Cut], ["big.html", $Big]);

run_tests();

__DATA__

=== TEST 1: the charset is added to text/html; nothing recoded, the length stays
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location / {
        charset utf-8;
    }
--- request
GET /k.html
--- response_headers
Content-Type: text/html; charset=utf-8
Content-Length: 7
--- response_body eval
"\xc1\xc2\xc3\x80\xbf|\n"



=== TEST 2: text/css only with charset_types
--- user_files eval
[@::Files]
--- http_config eval
"types { text/html html; text/css css; }\n$::Maps"
--- config
    location / {
        charset utf-8;
    }
    location /t/ {
        alias html/;
        charset utf-8;
        charset_types text/css;
    }
--- request eval
["GET /k.css", "GET /t/k.css"]
--- response_headers eval
["Content-Type: text/css", "Content-Type: text/css; charset=utf-8"]



=== TEST 3: koi8-r to UTF-8: mapped bytes, "?" for the others, no length
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location / {
        charset utf-8;
        source_charset koi8-r;
    }
--- request
GET /k.html
--- response_headers
Content-Type: text/html; charset=utf-8
!Content-Length
--- response_body eval
"\xd0\xb0\xd0\xb1?\xe2\x94\x80\xc2\xa9|\n"



=== TEST 4: koi8-r to windows-1251 and back through the same table; the length stays
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location /k2w/ {
        alias html/;
        charset windows-1251;
        source_charset koi8-r;
    }
    location /w2k/ {
        alias html/;
        charset koi8-r;
        source_charset windows-1251;
    }
--- request eval
["GET /k2w/k.html", "GET /w2k/w.html"]
--- response_headers eval
["Content-Length: 7", "Content-Length: 4"]
--- response_body eval
["\xe0\xe1??\xa9|\n", "\xc1\xc2?\n"]



=== TEST 5: UTF-8 to koi8-r: "&#N;" for characters without a byte, "?" for broken sequences
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location / {
        charset koi8-r;
        source_charset utf-8;
    }
--- request
GET /u.html
--- response_body eval
"a?|?|?|?|\xc1?\xbf|&#128512;|??|end\n"



=== TEST 6: a UTF-8 character cut between two pieces of a file
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location / {
        charset koi8-r;
        source_charset utf-8;
    }
--- request
GET /cut.html
--- response_body eval
('x' x 32767) . "\xc1\xc2 end\n"



=== TEST 7: 6 MB recoded as it streams
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location / {
        charset utf-8;
        source_charset koi8-r;
    }
--- request
GET /big.html
--- response_body_filters eval
\&::md5_len
--- response_body eval
::md5_len($::BigUtf8)



=== TEST 8: a charset from a variable; an unknown one is logged and nothing is changed
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location / {
        charset $arg_cs;
        source_charset koi8-r;
    }
--- request eval
["GET /k.html?cs=windows-1251", "GET /k.html?cs=iso-8859-5"]
--- response_headers eval
["Content-Type: text/html; charset=windows-1251", "Content-Type: text/html"]
--- response_body eval
["\xe0\xe1??\xa9|\n", "\xc1\xc2\xc3\x80\xbf|\n"]
--- error_log
no "charset_map" between the charsets "koi8-r" and "iso-8859-5" while sending response to client



=== TEST 9: no charset on a redirect
--- http_config eval
$::Maps
--- config
    location / {
        charset utf-8;
        return 302 /elsewhere;
    }
--- request
GET /x
--- error_code: 302
--- response_headers
Content-Type: text/html



=== TEST 10: a proxied response's own charset stays; override_charset recodes from it
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location /src/ {
        alias html/;
        charset koi8-r;
    }
    location /keep/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/src/;
        charset utf-8;
    }
    location /over/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/src/;
        charset utf-8;
        override_charset on;
    }
--- request eval
["GET /keep/k.html", "GET /over/k.html"]
--- response_headers eval
["Content-Type: text/html; charset=koi8-r\nContent-Length: 7", "Content-Type: text/html; charset=utf-8\n!Content-Length"]
--- response_body eval
["\xc1\xc2\xc3\x80\xbf|\n", "\xd0\xb0\xd0\xb1?\xe2\x94\x80\xc2\xa9|\n"]



=== TEST 11: a subrequest is recoded into its main request's charset, from its own source
--- user_files eval
[@::Files]
--- http_config eval
$::Maps
--- config
    location / {
        charset utf-8;
        source_charset windows-1251;
        add_after_body /part/part.html;
    }
    location /part/ {
        alias html/;
        source_charset koi8-r;
    }
    location /raw/ {
        alias html/;
        charset utf-8;
        add_after_body /src/part.html;
    }
    location /src/ {
        alias html/;
    }
--- request eval
["GET /w.html", "GET /raw/w.html"]
--- response_body eval
["\xd0\xb0??\npart \xd0\xb0\n", "\xe0\xe1\xe2\npart \xc1\n"]



=== TEST 12: a constant charset and source without a charset_map between them: refused at startup
--- http_config eval
$::Maps
--- config
    location / {
        charset iso-8859-5;
        source_charset koi8-r;
    }
--- must_die
--- error_log
no "charset_map" between the charsets "koi8-r" and "iso-8859-5"



=== TEST 13: charset_map values are checked
--- http_config
    charset_map koi8-r utf-8 { C1 41; }
--- must_die
--- error_log eval
qr/invalid value "41" in .*:\d+/



=== TEST 14: a charset_map between a charset and itself
--- http_config
    charset_map a a { }
--- must_die
--- error_log eval
qr/"charset_map" between the same charsets "a" and "a" in .*:\d+/



=== TEST 15: a second charset_map between the same charsets, either way
--- http_config
    charset_map a b { }
    charset_map b a { }
--- must_die
--- error_log eval
qr/duplicate "charset_map" between "b" and "a" in .*:\d+/



=== TEST 16: a line of a charset_map with three values
--- http_config
    charset_map a b { 41 42 43; }
--- must_die
--- error_log eval
qr/invalid parameters number in .*:\d+/
