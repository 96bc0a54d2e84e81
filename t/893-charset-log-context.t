# charset: the "no charset_map" error of a charset chosen at run time (a variable, or the
# upstream's own charset with override_charset) is logged with what the request is doing at
# that moment, as nginx's is: "while sending response to client" for a file, "while reading
# response header from upstream" for a proxied response, no context for a "return".
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/893-charset-log-context.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

our $Maps = <<'EOM';
    charset_map koi8-r windows-1251 { C1 E0; }
EOM

run_tests();

__DATA__

=== TEST 1: a file: while sending response to client
--- user_files
>>> k.html
k
--- http_config eval
$::Maps
--- config
    location / {
        charset $arg_cs;
        source_charset koi8-r;
    }
--- request
GET /k.html?cs=iso-8859-5
--- response_body
k
--- error_log
no "charset_map" between the charsets "koi8-r" and "iso-8859-5" while sending response to client,



=== TEST 2: a proxied response with its own charset: while reading response header from upstream
--- http_config eval
$::Maps
--- config
    location /src {
        default_type "text/html; charset=koi8-r";
        return 200 "k\n";
    }
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/src;
        charset iso-8859-5;
        override_charset on;
    }
--- request
GET /p
--- response_body
k
--- error_log
no "charset_map" between the charsets "koi8-r" and "iso-8859-5" while reading response header from upstream,
--- no_error_log
while sending response to client



=== TEST 3: a return: no context
--- http_config eval
$::Maps
--- config
    location / {
        default_type text/html;
        charset $arg_cs;
        source_charset koi8-r;
        return 200 "k\n";
    }
--- request
GET /r?cs=iso-8859-5
--- response_body
k
--- error_log eval
qr/no "charset_map" between the charsets "koi8-r" and "iso-8859-5", client: /
