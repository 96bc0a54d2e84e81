# A chunked request body on the CGI protocols (modules/fastcgi.c, uwsgi.c, scgi.c): with
# fastcgi_request_buffering off it goes on in FCGI_STDIN records as it arrives (uwsgi and
# SCGI read it whole first, as nginx's documentation says); read whole, its length is
# $content_length, so CONTENT_LENGTH reaches the application (php-fpm, uwsgi) as nginx
# sends it. A fake FastCGI application (Test::MoongateBackend's fastcgi kind, parts => 1)
# logs each FCGI_STDIN record the moment it reads it; another listens on a unix-domain socket.
#
#   prove -I t/lib t/622-cgi-request-body.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/622-cgi-request-body.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;
use Digest::MD5 ();
use Time::HiRes ();

daemon_skip_unless('php-fpm8.2', 'uwsgi', '/usr/lib/uwsgi/plugins/python3_plugin.so');

$ENV{TEST_NGINX_PHP_ROOT} = "$FindBin::Bin/php";
$ENV{TEST_NGINX_CONF_SRC} = "$FindBin::Bin/../conf";

daemon(fpm => php_fpm('catch_workers_output = no', 'php_admin_value[output_buffering] = 0'));
daemon(uwsgi => wsgi_app('uwsgi'));
daemon(scgi => wsgi_app('scgi'));

backend(parts => 'fastcgi', parts => 1,
        script => fastcgi_answer("Content-Type: text/plain\r\n\r\ndone\n"));

backend(unix => 'fastcgi', unix => 1,
        script => fastcgi_answer("Content-Type: text/plain\r\n\r\nover unix\n"));

# the lines of the fake's log ($name, else parts) matching $re once there are $n (10 s at most)
sub wait_lines {
    my ($re, $n, $name) = @_;
    return backend_wait_lines($name // 'parts', $re, $n);
}

log_level('info');

run_tests();

__DATA__

=== TEST 1: fastcgi_request_buffering off: a chunked body's first chunk reaches the application before the client sends the rest
--- config
    location /f {
        fastcgi_request_buffering off;
        fastcgi_buffering off;
        fastcgi_param CONTENT_LENGTH $content_length;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_PARTS_PORT;
    }
--- init
backend_log_clear('parts');
my $s = client_connect();
client_send($s, "POST /f HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                . "Transfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
my @got = main::wait_lines(qr/^stdin-part/, 1);
Test::More::is("@got", 'stdin-part first', 'TEST 1: the first chunk went on alone, as a record');
client_send($s, "6\r\nsecond\r\n0\r\n\r\n");
my ($resp) = client_read($s, qr/done\n/, 10);
Test::More::like($resp, qr/^HTTP\/1\.1 200 .*\r\n\r\n(?:5\r\n)?done\n/s, 'TEST 1: the answer');
my @all = main::wait_lines(qr/^(?:stdin|param CONTENT_LENGTH)/, 4);
# nginx sends an unbuffered chunked body's CONTENT_LENGTH empty: it is not known yet
Test::More::is(CORE::join(',', @all), 'stdin-part first,stdin-part second,param CONTENT_LENGTH=,stdin 11',
               'TEST 1: the records and the empty CONTENT_LENGTH');
--- request
GET /f
--- response_body
done



=== TEST 2: the same body buffered (the default): CONTENT_LENGTH is its length
--- config
    location /f {
        fastcgi_param CONTENT_LENGTH $content_length;
        fastcgi_param LEN_TOO "n=$content_length";
        fastcgi_pass 127.0.0.1:$TEST_NGINX_PARTS_PORT;
    }
--- init
backend_log_clear('parts');
--- raw_request eval
"POST /f HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "5\r\nfirst\r\n6\r\nsecond\r\n0\r\n\r\n"
--- response_body
done
--- no_error_log
[error]



=== TEST 3: TEST 2's params as the application got them
--- config
    location /t { return 200 "ok\n"; }
--- init
my @l = main::wait_lines(qr/^(?:stdin |param (?:CONTENT_LENGTH|LEN_TOO))/, 3);
Test::More::is(CORE::join(',', @l), 'param CONTENT_LENGTH=11,param LEN_TOO=n=11,stdin 11',
               'TEST 3: CONTENT_LENGTH and $content_length elsewhere are the length');
--- request
GET /t
--- response_body
ok



=== TEST 4: php-fpm reads a buffered chunked body whole (its CONTENT_LENGTH says how much)
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- raw_request eval
"POST /post.php HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "a\r\n0123456789\r\n1388\r\n" . ("x" x 5000) . "\r\n0\r\n\r\n"
--- response_body eval
"5010 " . Digest::MD5::md5_hex("0123456789" . ("x" x 5000)) . "\n"



=== TEST 5: a chunked body in a temporary file, php-fpm
--- config
    root $TEST_NGINX_PHP_ROOT;
    client_body_buffer_size 8k;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- raw_request eval
"POST /post.php HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. CORE::join('', map { "4000\r\n" . ("$_" x 16384) . "\r\n" } 1 .. 4) . "0\r\n\r\n"
--- response_body eval
"65536 " . Digest::MD5::md5_hex(CORE::join('', map { "$_" x 16384 } 1 .. 4)) . "\n"
--- error_log
a client request body is buffered to a temporary file



=== TEST 6: uwsgi: a buffered chunked body and its CONTENT_LENGTH
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
--- raw_request eval
"POST /post HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "a\r\n0123456789\r\n5\r\nabcde\r\n0\r\n\r\n"
--- response_body eval
"15 " . Digest::MD5::md5_hex("0123456789abcde") . "\n"



=== TEST 7: uwsgi_request_buffering off does not stream a chunked body: it is read first, with its length
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_request_buffering off;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
--- raw_request eval
"POST /post HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "a\r\n0123456789\r\n5\r\nabcde\r\n0\r\n\r\n"
--- response_body eval
"15 " . Digest::MD5::md5_hex("0123456789abcde") . "\n"



=== TEST 8: SCGI: a chunked body with scgi_request_buffering off is read first, CONTENT_LENGTH its length
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/scgi_params;
        scgi_param PATH_INFO $uri;
        scgi_request_buffering off;
        scgi_pass 127.0.0.1:$TEST_NGINX_SCGI_PORT;
    }
--- raw_request eval
"POST /post HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "a\r\n0123456789\r\n5\r\nabcde\r\n0\r\n\r\n"
--- response_body eval
"15 " . Digest::MD5::md5_hex("0123456789abcde") . "\n"



=== TEST 9: fastcgi_pass unix:PATH, a chunked body buffered
--- config
    location /f {
        fastcgi_param CONTENT_LENGTH $content_length;
        fastcgi_pass unix:$TEST_NGINX_UNIX_SOCK;
    }
--- raw_request eval
"POST /f HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
. "3\r\nabc\r\n0\r\n\r\n"
--- response_body
over unix



=== TEST 10: TEST 9's request as the application on the socket read it
--- config
    location /t { return 200 "ok\n"; }
--- init
my @l = main::wait_lines(qr/^(?:stdin |param CONTENT_LENGTH)/, 2, 'unix');
Test::More::is(CORE::join(',', @l), 'param CONTENT_LENGTH=3,stdin 3', 'TEST 10: its params and body');
--- request
GET /t
--- response_body
ok
