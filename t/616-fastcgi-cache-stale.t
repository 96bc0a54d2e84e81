# The proxy cache's stale answers, revalidation and lock for FastCGI (one implementation,
# core/http/cache.c): fastcgi_cache_revalidate (php-fpm sees HTTP_IF_NONE_MATCH and answers
# 304), fastcgi_cache_use_stale http_500 and error, fastcgi_cache_background_update, against
# Debian's php8.2-fpm running t/php/cond.php (it counts its requests: "n=1" after the entry
# expired was served from the cache).  Entries live a second; GET /sleep waits 2.1 s.
#
#   prove -I t/lib t/616-fastcgi-cache-stale.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/616-fastcgi-cache-stale.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;

daemon_skip_unless('php-fpm8.2');

$ENV{TEST_NGINX_PHP_ROOT} = "$FindBin::Bin/php";

daemon(fpm => php_fpm('catch_workers_output = no', 'php_admin_flag[display_errors] = off',
                     'php_admin_flag[log_errors] = on'));
backend(gone => 'refused');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => <<'_EOC_' . ($block->config // ''));
    location = /sleep {
        content_by_lua_block { ngx.sleep(2.1) ngx.say("slept") }
    }
    fastcgi_param SCRIPT_FILENAME $TEST_NGINX_PHP_ROOT/cond.php;
    fastcgi_param QUERY_STRING $query_string;
    fastcgi_param REQUEST_METHOD $request_method;
    fastcgi_param COUNT_FILE $TEST_NGINX_SERVROOT/count.$cache_name;
    fastcgi_cache_key $uri;
    add_header X-Cache $upstream_cache_status always;
_EOC_
    # GET /sleep answers after 2.1 s: more than the default 3 s per read for a loaded machine
    $block->set_value(timeout => 10) unless defined $block->timeout;
});

run_tests();

__DATA__

=== TEST 1: fastcgi_cache_revalidate: the application's 304 to If-None-Match refreshes the entry
--- http_config
    fastcgi_cache_path $TEST_NGINX_SERVROOT/f1 keys_zone=f1:1m;
--- config
    set $cache_name f1;
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
        fastcgi_cache f1;
        fastcgi_cache_revalidate on;
    }
--- request eval
["GET /a", "GET /sleep", "GET /a", "GET /a"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: REVALIDATED\nETag: \"v1\"", "X-Cache: HIT"]
--- response_body eval
["n=1\n", "slept\n", "n=1\n", "n=1\n"]



=== TEST 2: fastcgi_cache_use_stale http_500 and error
--- http_config
    fastcgi_cache_path $TEST_NGINX_SERVROOT/f2 keys_zone=f2:1m;
--- config
    set $cache_name f2;
    fastcgi_cache f2;
    location / {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
        fastcgi_cache_use_stale http_500;
    }
    location /gone/ {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_GONE_PORT;
        fastcgi_cache_key /a;
        fastcgi_cache_use_stale error;
    }
--- request eval
["GET /a", "GET /sleep", "GET /a?fail=1", "GET /gone/", "GET /b"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: STALE", "X-Cache: STALE", "X-Cache: MISS"]
--- response_body eval
["n=1\n", "slept\n", "n=1\n", "n=1\n", "n=3\n"]



=== TEST 3: fastcgi_cache_background_update with use_stale updating: STALE at once, then the refreshed entry
--- http_config
    fastcgi_cache_path $TEST_NGINX_SERVROOT/f3 keys_zone=f3:1m;
--- config
    set $cache_name f3;
    location /a {
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
        fastcgi_cache f3;
        fastcgi_cache_use_stale updating;
        fastcgi_cache_background_update on;
    }
    location = /poll {
        content_by_lua_block {
            for i = 1, 200 do
                local res = ngx.location.capture("/a")
                if res.body == "n=2\n" then ngx.say("refreshed") return end
                ngx.sleep(0.05)
            end
            ngx.say("not refreshed")
        }
    }
--- request eval
["GET /a", "GET /sleep", "GET /a", "GET /poll"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: STALE", ""]
--- response_body eval
["n=1\n", "slept\n", "n=1\n", "refreshed\n"]
