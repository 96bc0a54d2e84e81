# proxy_cache's configuration errors in Debian's nginx 1.22's words (found by a differential
# run of both servers' -t over the same configurations): proxy_cache_path's parameters named
# whole (keys zone sizes, inactive=, max_size=, use_temp_path=), a path used twice with both
# places, proxy_cache_valid's "invalid status", proxy_cache_methods taking GET, HEAD and POST
# only, any case, and proxy_cache_use_stale warning of a value given twice.
#
#   prove -I t/lib t/987-proxy-cache-conf.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/987-proxy-cache-conf.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

run_tests();

__DATA__

=== TEST 1: keys_zone without a size
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1;
--- config
--- must_die
--- error_log
invalid keys zone size "keys_zone=c1" in



=== TEST 2: keys_zone too small
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c2 keys_zone=c2:1k;
--- config
--- must_die
--- error_log
keys zone "keys_zone=c2:1k" is too small in



=== TEST 3: inactive= and max_size= that are not a time or a size, named whole
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c3 keys_zone=c3:1m inactive=abc;
--- config
--- must_die
--- error_log
invalid inactive value "inactive=abc" in



=== TEST 4: max_size= that is not a size
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c4 keys_zone=c4:1m max_size=abc;
--- config
--- must_die
--- error_log
invalid max_size value "max_size=abc" in



=== TEST 5: use_temp_path= neither on nor off
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c5 keys_zone=c5:1m use_temp_path=maybe;
--- config
--- must_die
--- error_log
invalid use_temp_path value "use_temp_path=maybe", it must be "on" or "off" in



=== TEST 6: one path for two zones: both places named
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c6 keys_zone=c6a:1m;
    proxy_cache_path $TEST_NGINX_SERVROOT/c6 keys_zone=c6b:1m;
--- config
--- must_die
--- error_log eval
qr{the same path name "[^"]*/c6" used in \S+\.conf:\d+ and in \S+\.conf:\d+$}



=== TEST 7: proxy_cache_valid with a status that is not one
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c7 keys_zone=c7:1m;
--- config
    proxy_cache_valid 99 1m;
--- must_die
--- error_log
invalid status "99" in



=== TEST 8: proxy_cache_methods takes GET, HEAD and POST only
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c8 keys_zone=c8:1m;
--- config
    proxy_cache_methods GET OPTIONS;
--- must_die
--- error_log
invalid value "OPTIONS" in



=== TEST 9: lower case methods and stale values are taken; a value given twice is warned of
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c9 keys_zone=c9:1m;
--- config
    location = /t {
        proxy_cache c9;
        proxy_cache_methods get post;
        proxy_cache_use_stale ERROR http_500 http_500;
        return 200 "ok\n";
    }
--- request
GET /t
--- init
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[warn\] .*duplicate value "http_500" in .*\.conf:\d+$/m,
                     'warned on -t');
--- response_body
ok
