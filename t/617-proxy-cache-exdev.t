# A cache whose temporary files are on another file system than the cache directory
# (proxy_temp_path on tmpfs): rename() cannot move a finished file (EXDEV), so it is copied
# beside its place and renamed there; the temporary file goes.  The copy is
# mg_http_temp_file_copy (core/http/temp_file.c), which proxy_store uses too (t/316 TEST 16).
#
#   prove -I t/lib t/617-proxy-cache-exdev.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/617-proxy-cache-exdev.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

our $port2 = env_port('TEST_NGINX_PORT2');
$ENV{TEST_NGINX_SHM_TMP} = "/dev/shm/moongate-t617-$$";
END { system('rm', '-rf', "/dev/shm/moongate-t617-$$") }

run_tests();

__DATA__

=== TEST 1: the entry is copied from the temp path on tmpfs into the cache: MISS, then HIT; no temporary file is left
--- http_config
    lua_shared_dict hits 1m;
    proxy_cache_path $TEST_NGINX_SERVROOT/x1 levels=1:2 keys_zone=x1:1m;
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / {
            content_by_lua_block {
                local n = ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                ngx.print(string.rep("x", 60000), " n=", n, "\n")
            }
        }
    }
--- config
    location /c/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache x1;
        proxy_cache_valid 1m;
        proxy_temp_path $TEST_NGINX_SHM_TMP;
        add_header X-Cache $upstream_cache_status;
    }
    location = /files {
        content_by_lua_block {
            local p = io.popen("find $TEST_NGINX_SHM_TMP -type f | wc -l; "
                               .. "find $TEST_NGINX_SERVROOT/x1 -type f -name '[0-9a-f]*' | wc -l")
            ngx.print(p:read("*a"))
            p:close()
        }
    }
--- request eval
["GET /c/a", "GET /c/a", "GET /files"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", ""]
--- response_body_like eval
["x{60000} n=1\n\\z", "x{60000} n=1\n\\z", "^0\n1\n\\z"]
