# fastcgi_cache_key, scgi_cache_key and uwsgi_cache_key may name $request_body: as nginx's,
# the body is read whole before the cache lookup (core/http/cache.c's
# mg_http_cache_before_body/_after_body, which proxy_cache shares), so two POSTs with other
# bodies are two entries and the same body again is a HIT.  Before, the CGI protocols looked
# up before reading the body: the key saw an empty body and the second POST was a HIT.
#
#   prove -I t/lib t/777-cgi-cache-key-body.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/777-cgi-cache-key-body.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;

$ENV{TEST_NGINX_CONF_SRC} = "$FindBin::Bin/../conf";

sub rec {
    my ($type, $content) = @_;
    return pack('CCnnCC', 1, $type, 1, length $content, 0, 0) . $content;
}

backend(fcgi => 'fastcgi',
        script => [rec(6, "Content-Type: text/plain\r\n\r\nfrom fastcgi\n") . rec(6, '')
                   . rec(3, "\0" x 8)]);
my $have_uwsgi = -x '/usr/bin/uwsgi' && -f '/usr/lib/uwsgi/plugins/python3_plugin.so';
if ($have_uwsgi) {
    for my $kind (qw(scgi uwsgi)) {
        daemon($kind => sub {
            my ($port) = @_;
            return ('uwsgi', '--plugin', 'python3', "--$kind-socket", "127.0.0.1:$port",
                    '--wsgi-file', "$FindBin::Bin/wsgi/app.py", '--processes', '1',
                    '--disable-logging', '--need-app');
        });
    }
}
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(moongate_skip => 'uwsgi with its python3 plugin is not installed')
        if !$have_uwsgi && ($block->name // '') =~ /uwsgi|SCGI/;
});

run_tests();

__DATA__

=== TEST 1: fastcgi_cache_key with $request_body: another body MISSes, the same one HITs
--- http_config
    fastcgi_cache_path $TEST_NGINX_SERVROOT/f1 keys_zone=f1:1m;
--- config
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FCGI_PORT;
        fastcgi_cache f1;
        fastcgi_cache_methods POST;
        fastcgi_cache_key "$uri|$request_body";
        fastcgi_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["POST /a\nbody-one", "POST /a\nbody-two", "POST /a\nbody-one", "POST /a\nbody-two"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]
--- response_body eval
["from fastcgi\n", "from fastcgi\n", "from fastcgi\n", "from fastcgi\n"]



=== TEST 2: SCGI: scgi_cache_key with $request_body
--- http_config
    scgi_cache_path $TEST_NGINX_SERVROOT/s2 keys_zone=s2:1m;
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/scgi_params;
        scgi_param PATH_INFO $uri;
        scgi_pass 127.0.0.1:$TEST_NGINX_SCGI_PORT;
        scgi_cache s2;
        scgi_cache_methods POST;
        scgi_cache_key "$uri|$request_body";
        scgi_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["POST /post\nbody-one", "POST /post\nbody-two", "POST /post\nbody-one"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT"]



=== TEST 3: uwsgi_cache_key with $request_body
--- http_config
    uwsgi_cache_path $TEST_NGINX_SERVROOT/u3 keys_zone=u3:1m;
--- config
    location / {
        include $TEST_NGINX_CONF_SRC/uwsgi_params;
        uwsgi_param PATH_INFO $uri;
        uwsgi_pass 127.0.0.1:$TEST_NGINX_UWSGI_PORT;
        uwsgi_cache u3;
        uwsgi_cache_methods POST;
        uwsgi_cache_key "$uri|$request_body";
        uwsgi_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["POST /post\nbody-one", "POST /post\nbody-two", "POST /post\nbody-one"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT"]
