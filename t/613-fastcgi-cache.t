# fastcgi_cache, scgi_cache, uwsgi_cache: the proxy cache's machinery (core/http/cache.c) for
# the CGI protocols: their *_cache_path, *_cache, *_cache_key (no default: without one every
# request has the empty key, as nginx), *_cache_valid, and the upstream's Cache-Control.  The FastCGI applications
# are fakes from Test::MoongateBackend answering with a fixed response, SCGI and uwsgi are
# Debian's uwsgi running t/wsgi/app.py; $upstream_cache_status tells MISS from HIT.
#
#   prove -I t/lib t/613-fastcgi-cache.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/613-fastcgi-cache.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;

backend(fcgi => 'fastcgi',
        script => fastcgi_answer("Content-Type: text/plain\r\n\r\nfrom fastcgi\n"));
backend(fcgi_cc => 'fastcgi',
        script => fastcgi_answer("Cache-Control: max-age=60\r\n\r\ncc\n"));
# scgi and uwsgi: Debian's uwsgi with t/wsgi/app.py, as t/601 and t/602 run it
my $have_uwsgi = -x '/usr/bin/uwsgi' && -f '/usr/lib/uwsgi/plugins/python3_plugin.so';
if ($have_uwsgi) {
    for my $kind (qw(scgi uwsgi)) {
        daemon($kind => wsgi_app($kind));
    }
}
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(moongate_skip => 'uwsgi with its python3 plugin is not installed')
        if !$have_uwsgi && ($block->name // '') =~ /uwsgi/;
});

run_tests();

__DATA__

=== TEST 1: fastcgi_cache: MISS, HIT, HIT; fastcgi_cache_valid
--- http_config
    fastcgi_cache_path $TEST_NGINX_SERVROOT/f1 levels=1:2 keys_zone=f1:1m;
--- config
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FCGI_PORT;
        fastcgi_param REQUEST_METHOD $request_method;
        fastcgi_cache f1;
        fastcgi_cache_key $request_uri;
        fastcgi_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a", "GET /a", "GET /a"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]
--- response_body eval
["from fastcgi\n", "from fastcgi\n", "from fastcgi\n"]



=== TEST 2: the application's Cache-Control gives the validity
--- http_config
    fastcgi_cache_path $TEST_NGINX_SERVROOT/f2 keys_zone=f2:1m;
--- config
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FCGI_CC_PORT;
        fastcgi_cache f2;
        fastcgi_cache_key $uri;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /c", "GET /c"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["cc\n", "cc\n"]



=== TEST 3: fastcgi_cache without fastcgi_cache_key: nginx takes it, every request has the empty key
--- http_config
    fastcgi_cache_path $TEST_NGINX_SERVROOT/f3 keys_zone=f3:1m;
--- config
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FCGI_PORT;
        fastcgi_cache f3;
        fastcgi_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /a", "GET /b"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]



=== TEST 4: scgi_cache and uwsgi_cache
--- http_config
    scgi_cache_path $TEST_NGINX_SERVROOT/s4 keys_zone=s4:1m;
    uwsgi_cache_path $TEST_NGINX_SERVROOT/u4 keys_zone=u4:1m;
--- config
    location /s/ {
        scgi_pass 127.0.0.1:$TEST_NGINX_SCGI_PORT;
        scgi_param REQUEST_METHOD $request_method;
        scgi_cache s4;
        scgi_cache_key $uri;
        scgi_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
    location /u/ {
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
        uwsgi_param REQUEST_METHOD $request_method;
        uwsgi_cache u4;
        uwsgi_cache_key $uri;
        uwsgi_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /s/x", "GET /s/x", "GET /u/x", "GET /u/x"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body_like eval
[qr/^REQUEST_METHOD=GET\n/, qr/^REQUEST_METHOD=GET\n/, qr/^REQUEST_METHOD=GET\n/, qr/^REQUEST_METHOD=GET\n/]
