# large_client_header_buffers' size must be at least connection_pool_size (the buffers come
# from the connection's pool), checked as nginx's when a server's settings are merged: the
# error names no directive's line but where the http{} block ends (the harness's main conf).
# Before, "large_client_header_buffers 2 200" was accepted (the default pool size is 512).
#
#   prove -I t/lib t/778-large-header-buffers-pool.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/778-large-header-buffers-pool.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

use_bad_conf_blocks();

run_tests();

__DATA__

=== TEST 1: a size below the default connection_pool_size (512) in http{}
--- include_in: http
--- bad_conf
large_client_header_buffers 2 200;
--- error_log
the "large_client_header_buffers" size must be equal to or greater than "connection_pool_size" in %C:



=== TEST 2: a server's connection_pool_size above its large_client_header_buffers size
--- include_in: server
--- bad_conf
connection_pool_size 1024;
large_client_header_buffers 4 512;
--- error_log
the "large_client_header_buffers" size must be equal to or greater than "connection_pool_size" in %C:



=== TEST 3: equal to a smaller connection_pool_size is accepted, and a request is served
--- http_config
    connection_pool_size 256;
    large_client_header_buffers 2 256;
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
