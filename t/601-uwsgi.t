# uwsgi (modules/uwsgi.c) against Debian's uwsgi with its python3 plugin, started by
# this file on a free port with t/wsgi/app.py: the vars the application sees, a POST
# body, its status line and headers, a large body, and a dead application.
#
#   prove -I t/lib t/601-uwsgi.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/601-uwsgi.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;
use Digest::MD5 ();

daemon_skip_unless('uwsgi', '/usr/lib/uwsgi/plugins/python3_plugin.so');

$ENV{TEST_NGINX_CONF_SRC} = "$FindBin::Bin/../conf";

daemon(uwsgi => wsgi_app('uwsgi'));
backend(gone => 'refused');

run_tests();

__DATA__

=== TEST 1: uwsgi_params's vars reach the application
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_param MY_PARAM "mine";
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
--- request
GET /env?a=1
--- more_headers
X-Foo: bar
--- response_body
REQUEST_METHOD=GET
REQUEST_URI=/env?a=1
QUERY_STRING=a=1
PATH_INFO=/env
SERVER_PROTOCOL=HTTP/1.1
CONTENT_LENGTH=
HTTP_X_FOO=bar
MY_PARAM=mine
UWSGI_MOD=(unset)



=== TEST 2: a POST body of 100 KB
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
--- request eval
"POST /post\n" . ("0123456789" x 10240)
--- response_body eval
"102400 " . Digest::MD5::md5_hex("0123456789" x 10240) . "\n"



=== TEST 3: the application's status line and headers; uwsgi_hide_header
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_hide_header X-Secret;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
--- request
GET /status
--- error_code: 404
--- raw_response_headers_like chomp
^HTTP/1\.1 404 Not There\r\n
--- response_headers
X-App: py
!X-Secret
--- response_body
not here



=== TEST 4: uwsgi_intercept_errors
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_intercept_errors on;
        error_page 404 /nf;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
    location = /nf { return 200 "ours\n"; }
--- request
GET /status
--- error_code: 404
--- response_body
ours



=== TEST 5: 1 MB through small buffers and a temporary file
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_buffers 4 4k;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
--- request
GET /big
--- response_body eval
"0123456789abcdef" x 65536



=== TEST 6: unbuffered
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_buffering off;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
--- request
GET /big
--- response_body eval
"0123456789abcdef" x 65536



=== TEST 7: nothing listening: 502 and nginx's line with the uwsgi:// address
--- config
    location / {
        uwsgi_pass 127.0.0.1:$TEST_NGINX_GONE_PORT;
    }
--- request
GET /env
--- error_code: 502
--- error_log eval
qr{connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /env HTTP/1\.1", upstream: "uwsgi://127\.0\.0\.1:\d+", host: "localhost"$}



=== TEST 8: uwsgi_pass with variables and an upstream{} group
--- http_config
    upstream app { server 127.0.0.1:$TEST_NGINX_UWSGI_PORT; }
--- config
    location / {
        set $target app;
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_pass $target;
    }
--- request
GET /env
--- response_body_like chomp
^REQUEST_METHOD=GET



=== TEST 9: uwsgi_request_buffering off: a 300 KB body goes on as it arrives
--- config
    client_body_buffer_size 16k;
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        
        uwsgi_request_buffering off;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
    }
--- request eval
"POST /post\n" . ("abcdefghij" x 30720)
--- response_body eval
"307200 " . Digest::MD5::md5_hex("abcdefghij" x 30720) . "\n"
