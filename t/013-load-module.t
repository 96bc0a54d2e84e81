# load_module: moongate is built in one piece, so the modules a Debian-style config loads
# (modules-enabled/*.conf) are either built in (the line is accepted) or missing (an error
# naming the module, with FILE:LINE); nginx's check of a module loaded twice.
#
#   prove -I t/lib t/013-load-module.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/013-load-module.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

run_tests();

__DATA__

=== TEST 1: the Lua module and its helper, as Debian's modules-enabled names them: accepted and working
--- main_config
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
--- config
    location /t { content_by_lua_block { ngx.say("lua is here") } }
--- request
GET /t
--- response_body
lua is here



=== TEST 2: a relative path (to the prefix), as modules-enabled/*.conf write it
--- moongate_only
--- main_config
load_module modules/ngx_http_lua_module.so;
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 3: a module moongate does not have: an error naming it
--- moongate_only
--- main_config
load_module /usr/lib/nginx/modules/ngx_http_geoip_module.so;
--- config
    location /t { return 200 "ok\n"; }
--- must_die
--- error_log eval
qr/\[emerg\] .*module "ngx_http_geoip_module" is not built into moongate \(load_module "\/usr\/lib\/nginx\/modules\/ngx_http_geoip_module\.so"\) in \S+:\d+/



=== TEST 4: a module loaded twice
--- main_config
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
--- config
    location /t { return 200 "ok\n"; }
--- must_die
--- error_log eval
qr/\[emerg\] .*module "ndk_http_module" is already loaded in \S+:\d+/

