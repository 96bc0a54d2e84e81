# fastcgi_store, scgi_store, uwsgi_store and their *_store_access: the same code as
# proxy_store (modules/upstream_store.c; t/316-proxy-store-bind.t tests it in depth): a 200
# from the application is also saved under root/alias plus the URI, or to the directive's
# path, with the permissions asked for; other statuses are not; the errors. FastCGI is a fake
# application (Test::MoongateBackend), SCGI and uwsgi Debian's uwsgi with t/wsgi/app.py.
#
#   prove -I t/lib t/948-cgi-store.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/948-cgi-store.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;

daemon_skip_unless('uwsgi', '/usr/lib/uwsgi/plugins/python3_plugin.so');

$ENV{TEST_NGINX_CONF_SRC} = "$FindBin::Bin/../conf";

sub rec { pack('CCnnCC', 1, $_[0], 1, length $_[1], 0, 0) . $_[1] }
sub fcgi_answer {
    my $head = shift;
    return [rec(6, $head . "\r\nfcgi body\n") . rec(6, '') . rec(3, "\0" x 8)];
}
backend(f200 => 'fastcgi', script => fcgi_answer("Content-Type: text/plain\r\n"
                                                . "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT\r\n"));
backend(f404 => 'fastcgi', script => fcgi_answer("Status: 404 Not Found\r\n"));

for my $kind (qw(scgi uwsgi)) {
    daemon($kind => wsgi_app($kind));
}

# the mode of a stored file, as the check location tells it
sub mode_of { sprintf "%04o\n", (stat $_[0])[2] & 07777 }

run_tests();

__DATA__

=== TEST 1: fastcgi_store on: the body under root, directories made, mtime from Last-Modified
--- config
    location /s/ {
        root $TEST_NGINX_HTML_DIR/st1;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_F200_PORT;
        fastcgi_store on;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st1/; }
--- request eval
["GET /s/d1/d2/f.txt", "GET /check/s/d1/d2/f.txt"]
--- response_headers eval
["", "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT"]
--- response_body eval
["fcgi body\n", "fcgi body\n"]



=== TEST 2: fastcgi_store_access user:rw group:r all:r, and the default (the modes are checked in TEST 3)
--- config
    location /s/ {
        root $TEST_NGINX_SERVROOT/st2;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_F200_PORT;
        fastcgi_store on;
        fastcgi_store_access user:rw group:r all:r;
    }
    location /d/ {
        root $TEST_NGINX_SERVROOT/st2;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_F200_PORT;
        fastcgi_store on;
    }
--- request eval
["GET /s/a.txt", "GET /d/b.txt"]
--- response_body eval
["fcgi body\n", "fcgi body\n"]



=== TEST 3: the modes TEST 2 stored; a 404 is not stored
--- init
Test::More::is(::mode_of("$ENV{TEST_NGINX_SERVROOT}/st2/s/a.txt"), "0644\n", "user:rw group:r all:r");
Test::More::is(::mode_of("$ENV{TEST_NGINX_SERVROOT}/st2/d/b.txt"), "0600\n", "the default mode");
--- config
    location / {
        root $TEST_NGINX_HTML_DIR/st3;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_F404_PORT;
        fastcgi_store on;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st3/; }
--- request eval
["GET /nf.txt", "GET /check/nf.txt"]
--- error_code eval
[404, 404]



=== TEST 4: scgi_store with a path (variables) and uwsgi_store on under an alias
--- config
    location /sc/ {
        include $TEST_NGINX_CONF_SRC/scgi_params;
        scgi_param PATH_INFO /env;
        scgi_pass 127.0.0.1:$TEST_NGINX_SCGI_PORT;
        scgi_store $TEST_NGINX_HTML_DIR/st4/$arg_f;
    }
    location /uw/ {
        alias $TEST_NGINX_HTML_DIR/st4/al/;
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_param PATH_INFO /env;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
        uwsgi_store on;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st4/; }
--- request eval
["GET /sc/x?f=one.txt", "GET /check/one.txt", "GET /uw/two.txt", "GET /check/al/two.txt"]
--- response_body_like eval
["^REQUEST_METHOD=GET\nREQUEST_URI=/sc/x\\?f=one.txt\n", "^REQUEST_METHOD=GET\nREQUEST_URI=/sc/x\\?f=one.txt\n",
 "^REQUEST_METHOD=GET\nREQUEST_URI=/uw/two.txt\n", "^REQUEST_METHOD=GET\nREQUEST_URI=/uw/two.txt\n"]



=== TEST 5: uwsgi_store_access: a bad value
--- config
    location / { uwsgi_store_access user:rw group:x; }
--- must_die
--- error_log eval
qr/invalid value "group:x" in \S+:\d+/



=== TEST 6: scgi_store twice
--- config
    location / {
        scgi_store on;
        scgi_store off;
    }
--- must_die
--- error_log eval
qr/"scgi_store" directive is duplicate in \S+:\d+/



=== TEST 7: fastcgi_store off below a server-level fastcgi_store on stores nothing
--- config
    fastcgi_store on;
    location /s/ {
        root $TEST_NGINX_HTML_DIR/st7;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_F200_PORT;
        fastcgi_store off;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st7/; }
--- request eval
["GET /s/f.txt", "GET /check/s/f.txt"]
--- error_code eval
[200, 404]
