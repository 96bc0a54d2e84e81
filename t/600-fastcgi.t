# FastCGI (modules/fastcgi.c) against a real php-fpm (Debian's php8.2-fpm, started
# by this file on a free port, scripts in t/php/) and against a fake application
# in Perl (Test::MoongateBackend's fastcgi kind) for what php-fpm never does:
# records that lie about their lengths, an unknown version, a stream cut short.
# The status codes and error-log lines are nginx's.
#
#   prove -I t/lib t/600-fastcgi.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/600-fastcgi.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;
use Digest::MD5 ();

daemon_skip_unless('php-fpm8.2');

$ENV{TEST_NGINX_PHP_ROOT} = "$FindBin::Bin/php";
$ENV{TEST_NGINX_CONF_SRC} = "$FindBin::Bin/../conf";

daemon(fpm => php_fpm('catch_workers_output = no', 'php_admin_flag[display_errors] = off',
                     'php_admin_flag[log_errors] = on', 'php_admin_value[output_buffering] = 0'));

# a FastCGI record
sub rec {
    my ($type, $content, $pad) = @_;
    $pad //= 0;
    return pack('CCnnCC', 1, $type, 1, length $content, $pad, 0) . $content . ("\0" x $pad);
}
sub stdout { rec(6, $_[0]) }
sub end_request { rec(3, "\0" x 8) }

backend(fake_ok  => 'fastcgi', script => [stdout("Status: 201 Made\r\nX-Fake: 1\r\n\r\nfake body\n") . rec(7, "warning from app\n") . stdout('') . end_request()]);
backend(fake_ka  => 'fastcgi', keep => 1, script => [stdout("Content-Type: text/plain\r\n\r\nka\n") . end_request()]);
backend(fake_ver => 'fastcgi', script => [pack('CCnnCC', 2, 6, 1, 4, 0, 0) . "x\r\n\r"]);
backend(fake_lie => 'fastcgi', script => [pack('CCnnCC', 1, 6, 1, 500, 0, 0) . "Content-Type: text/plain\r\n"]);
backend(fake_cut => 'fastcgi', script => [stdout("Content-Type: text/plain\r\n\r\n") . pack('CCnnCC', 1, 6, 1, 100, 0, 0) . "only twenty bytes..\n", 0.2]);
backend(fake_st  => 'fastcgi', script => [stdout("Status: abc\r\n\r\nx") . end_request()]);
backend(fake_loc => 'fastcgi', script => [stdout("Location: http://example.com/from-app\r\n\r\n") . end_request()]);
backend(fake_err => 'fastcgi', script => [rec(7, "PHP Fatal error: it broke\n") . stdout("Status: 500\r\n\r\nbroken") . end_request()]);
backend(fake_slow => 'fastcgi', script => [2, stdout("\r\nlate") . end_request()]);
backend(fake_xa  => 'fastcgi', script => [stdout("X-Accel-Redirect: /internal\r\nX-Accel-Buffering: no\r\n\r\n") . end_request()]);
backend(gone => 'refused');
backend(fake_body => 'fastcgi', script => [stdout("\r\nread\n") . end_request()]);
backend(fake_pad => 'fastcgi', script => [join('', map { stdout($_) } "X-A: 1\r\n", "\r\n", "a", "b") . rec(6, "c", 7) . end_request()]);

log_level('info');

run_tests();

__DATA__

=== TEST 1: fastcgi.conf's variables reach php-fpm
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_param MY_PARAM "mine";
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /vars.php?a=1&b=2
--- more_headers
X-Foo: bar
--- response_body_like eval
qr{\ASCRIPT_NAME=/vars\.php
SCRIPT_FILENAME=\S+/t/php/vars\.php
PATH_INFO=\(unset\)
QUERY_STRING=a=1&b=2
REQUEST_METHOD=GET
REQUEST_URI=/vars\.php\?a=1&b=2
DOCUMENT_URI=/vars\.php
CONTENT_LENGTH=
CONTENT_TYPE=
GATEWAY_INTERFACE=CGI/1\.1
SERVER_PROTOCOL=HTTP/1\.1
HTTP_HOST=localhost
HTTP_X_FOO=bar
MY_PARAM=mine
EMPTY_PARAM=\(unset\)
\z}



=== TEST 2: fastcgi_split_path_info, $fastcgi_path_info, if_not_empty
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ ^(.+\.php)(/.*)?$ {
        fastcgi_split_path_info ^(.+\.php)(/.*)$;
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_param PATH_INFO $fastcgi_path_info;
        fastcgi_param EMPTY_PARAM $arg_nothing if_not_empty;
        fastcgi_param HTTP_X_FOO "from param";
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /vars.php/extra/path
--- more_headers
X-Foo: from client
--- response_body_like eval
qr{\ASCRIPT_NAME=/vars\.php\nSCRIPT_FILENAME=\S+/t/php/vars\.php\nPATH_INFO=/extra/path\n.*HTTP_X_FOO=from param\nMY_PARAM=\(unset\)\nEMPTY_PARAM=\(unset\)\n\z}s



=== TEST 3: fastcgi_index for a URI ending in a slash
--- config
    root $TEST_NGINX_PHP_ROOT;
    location /dir/ {
        fastcgi_index vars.php;
        include $TEST_NGINX_CONF_SRC/fastcgi_params;
        fastcgi_param SCRIPT_FILENAME $document_root/vars.php;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /dir/
--- response_body_like chomp
(?m)^SCRIPT_NAME=/dir/vars\.php$



=== TEST 4: fastcgi_param at a level replaces the parent's, as nginx
--- config
    root $TEST_NGINX_PHP_ROOT;
    include $TEST_NGINX_CONF_SRC/fastcgi.conf;
    fastcgi_param MY_PARAM "server level";
    location /own/ {
        fastcgi_param SCRIPT_FILENAME $document_root/vars.php;
        fastcgi_param REQUEST_METHOD GET;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request eval
["GET /own/x", "GET /vars.php"]
--- response_body_like eval
[qr{^SCRIPT_NAME=\(unset\)\n.*^HTTP_HOST=localhost\n.*^MY_PARAM=\(unset\)$}ms,
 qr{^SCRIPT_NAME=/vars\.php\n.*^MY_PARAM=server level$}ms]



=== TEST 5: a POST body of 200 KB (in a temporary file) reaches the script whole
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request eval
"POST /post.php\n" . ("abcdefghij" x 20480)
--- response_body eval
"204800 " . Digest::MD5::md5_hex("abcdefghij" x 20480) . "\n"



=== TEST 6: a small POST body
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
POST /post.php
hello
--- response_body eval
"5 " . Digest::MD5::md5_hex("hello") . "\n"



=== TEST 7: the application's headers, its status, fastcgi_hide_header
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_hide_header X-Secret;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /headers.php?status=404
--- error_code: 404
--- response_headers
X-App: one
!X-Secret
!Status
Set-Cookie: sid=abc
Content-Type: text/x-test;charset=UTF-8
--- response_body
body of headers.php



=== TEST 8: fastcgi_intercept_errors with an error_page
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_intercept_errors on;
        error_page 404 /nf.txt;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
    location = /nf.txt { return 200 "our own 404 page\n"; }
--- request
GET /headers.php?status=404
--- error_code: 404
--- response_headers
!X-App
--- response_body
our own 404 page



=== TEST 9: a 1 MB body, buffered with a temporary file allowed
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_buffers 4 4k;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /big.php
--- response_body eval
"0123456789abcdef" x 65536



=== TEST 10: the same body with fastcgi_buffering off
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /big.php
--- response_body eval
"0123456789abcdef" x 65536



=== TEST 11: the script's error_log() comes as FastCGI stderr, logged as nginx
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /err.php
--- response_body
still answered
--- error_log eval
qr{\[error\] \d+#\d+: \*\d+ FastCGI sent in stderr: "PHP message: something went wrong here" while reading response header from upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /err\.php HTTP/1\.1", upstream: "fastcgi://127\.0\.0\.1:\d+", host: "localhost"$}



=== TEST 12: a fatal PHP error: php-fpm's 500, its message logged
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /fatal.php
--- error_code: 500
--- error_log eval
qr{FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function no_such_function_at_all\(\)}



=== TEST 13: a Location from the script: 302, passed as given
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /redirect.php?to=http://example.com/x
--- error_code: 302
--- response_headers
Location: http://example.com/x



=== TEST 14: a missing script: php-fpm's 404 and its stderr line
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
GET /nothere.php
--- error_code: 404
--- error_log
FastCGI sent in stderr: "Primary script unknown"



=== TEST 15: an upstream{} group with keepalive and fastcgi_keep_conn: one connection for two requests
--- http_config
    upstream fka {
        server 127.0.0.1:$TEST_NGINX_FAKE_KA_PORT;
        keepalive 2;
    }
--- config
    location /ka {
        fastcgi_keep_conn on;
        fastcgi_pass fka;
    }
--- pipelined_requests eval
["GET /ka", "GET /ka"]
--- response_body eval
["ka\n", "ka\n"]
--- no_error_log
[error]



=== TEST 16: the fake application's Status, headers and stderr
--- config
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_OK_PORT; }
--- request
GET /f
--- error_code: 201
--- raw_response_headers_like chomp
^HTTP/1\.1 201 Made\r\n
--- response_headers
X-Fake: 1
--- response_body
fake body
--- error_log
FastCGI sent in stderr: "warning from app" while reading



=== TEST 17: records split across padding and several stdout records
--- config
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_PAD_PORT; }
--- request
GET /f
--- response_headers
X-A: 1
--- response_body chomp
abc



=== TEST 18: an unknown FastCGI version: 502
--- config
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_VER_PORT; }
--- request
GET /f
--- error_code: 502
--- error_log
upstream sent unsupported FastCGI protocol version: 2 while reading response header from upstream



=== TEST 19: a record longer than what comes before the close: 502
--- config
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_LIE_PORT; }
--- request
GET /f
--- error_code: 502
--- error_log
upstream prematurely closed connection while reading response header from upstream



=== TEST 20: the application closes in the middle of the body: nothing served as complete
(nginx 1.22 ends such a response as if it were whole: a last chunk, nothing logged)
--- moongate_only
--- config
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_CUT_PORT; }
--- request
GET /f
--- response_incomplete
--- response_body
only twenty bytes..
--- error_log
upstream prematurely closed connection while reading upstream



=== TEST 21: an invalid Status: 502 and nginx's line
--- config
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_ST_PORT; }
--- request
GET /f
--- error_code: 502
--- error_log
upstream sent invalid status "abc" while reading response header from upstream



=== TEST 22: the request's params and body as the application reads them
--- config
    location /f {
        fastcgi_param A_PARAM "x$arg_v";
        fastcgi_pass_request_headers off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_OK_PORT;
    }
--- request
POST /f?v=1
0123456789
--- error_code: 201
--- response_body
fake body
--- no_error_log
[crit]



=== TEST 23: a Location without a Status: 302, as nginx
--- config
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_LOC_PORT; }
--- request
GET /f
--- error_code: 302
--- response_headers
Location: http://example.com/from-app



=== TEST 24: fastcgi_catch_stderr: a matching stderr line makes the head invalid (502)
--- config
    location /f {
        fastcgi_catch_stderr "Fatal error";
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_ERR_PORT;
    }
--- request
GET /f
--- error_code: 502
--- error_log
FastCGI sent in stderr: "PHP Fatal error: it broke" while reading response header from upstream



=== TEST 25: fastcgi_read_timeout: 504
--- config
    location /f {
        fastcgi_read_timeout 300ms;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_SLOW_PORT;
    }
--- request
GET /f
--- error_code: 504
--- error_log
upstream timed out (110: Connection timed out) while reading response header from upstream



=== TEST 26: fastcgi_next_upstream: a refused peer, then php-fpm
--- http_config
    upstream two {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_next_upstream error timeout;
        fastcgi_pass two;
    }
--- request eval
["GET /err.php", "GET /err.php"]
--- response_body eval
["still answered\n", "still answered\n"]



=== TEST 27: X-Accel-Redirect from the application, hidden by default
--- config
    location /f { fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_XA_PORT; }
    location /internal { internal; return 200 "redirected inside\n"; }
--- request
GET /f
--- response_headers
!X-Accel-Redirect
--- response_body
redirected inside



=== TEST 28: fastcgi_pass_header lets a default-hidden line through; a pass with variables
--- config
    location /f {
        set $app 127.0.0.1:$TEST_NGINX_FAKE_OK_PORT;
        fastcgi_pass_header Status;
        fastcgi_pass $app;
    }
--- request
GET /f
--- error_code: 201
--- response_headers
Status: 201 Made



=== TEST 29: HEAD: the application's head, no body
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request
HEAD /headers.php
--- response_headers
X-App: one
--- response_body chomp



=== TEST 30: fastcgi_request_buffering off: a 300 KB body goes on in FCGI_STDIN records as it arrives
--- config
    root $TEST_NGINX_PHP_ROOT;
    client_body_buffer_size 16k;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- request eval
"POST /post.php\n" . ("0123456789" x 30720)
--- response_body eval
"307200 " . Digest::MD5::md5_hex("0123456789" x 30720) . "\n"
--- no_error_log
a client request body is buffered to a temporary file



=== TEST 31: the records as the application reads them, the body unbuffered
--- config
    client_body_buffer_size 8k;
    location /f {
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FAKE_BODY_PORT;
    }
--- request eval
"POST /f\n" . ("z" x 50000)
--- response_body
read
--- no_error_log
[error]
