# proxy_cache and bad input on disk: a cache file scribbled on, cut short or grown is never
# served; the response is fetched again, stored again, and the file's fault logged.  A full
# cache disk (a 64 KiB tmpfs under the cache path, when this runs as root) leaves the client's
# response whole, stores nothing, logs the failed write, and the next request is a MISS again.
# moongate's cache files are its own format (nginx's would be read otherwise), hence
# moongate_only where a block edits a file's inside.
#
#   prove -I t/lib t/611-proxy-cache-bad.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;

# a small file system for the full-disk block, mounted for this file's run
our $Full = "$ENV{TEST_NGINX_SERVROOT}-full";
our $Mounted = 0;
if ($> == 0) {
    mkdir $Full;
    $Mounted = system("mount -t tmpfs -o size=64k tmpfs $Full 2>/dev/null") == 0;
}
END { system("umount $Full 2>/dev/null") if $Mounted; }
$ENV{TEST_NGINX_FULL} = $Full;

cache_upstream(<<'_LUA_');
    local size = tonumber(ngx.var.arg_size)
    reply(size and string.rep("x", size - 1) .. "\n" or ngx.var.uri .. " n=" .. n .. "\n")
_LUA_

# a location that edits the cache file of key $uri under $TEST_NGINX_SERVROOT/<zone>
# (levels=1:2): ?f=KEY&op=flip|cut|grow
our $Edit = <<'_EOC_';
    location = /edit {
        content_by_lua_block {
            local h = ngx.md5(ngx.var.arg_f)
            local p = "$TEST_NGINX_SERVROOT/" .. ngx.var.arg_z .. "/" .. h:sub(-1) .. "/"
                      .. h:sub(-3, -2) .. "/" .. h
            local f = assert(io.open(p, "rb"))
            local data = f:read("*a")
            f:close()
            local op = ngx.var.arg_op
            if op == "flip" then
                local at = tonumber(ngx.var.arg_at)
                data = data:sub(1, at - 1) .. string.char((data:byte(at) + 1) % 256) .. data:sub(at + 1)
            elseif op == "cut" then
                data = data:sub(1, #data - 3)
            elseif op == "grow" then
                data = data .. "zzz"
            end
            f = assert(io.open(p, "wb"))
            f:write(data)
            f:close()
            ngx.say(op)
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => ($block->config // '') . $Edit);
    if (($block->name // '') =~ /full/ && !$Mounted) {
        $block->set_value(moongate_skip => 'mounting a tmpfs needs root');
    }
});

run_tests();

__DATA__

=== TEST 1: a byte changed in the stored response head: the checksum catches it, fetched and stored again
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/b1 levels=1:2 keys_zone=b1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache b1;
        proxy_cache_key $uri;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /t", "GET /t", "GET /edit?z=b1&f=/t&op=flip&at=130", "GET /t", "GET /t"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/t n=1\n", "/t n=1\n", "flip\n", "/t n=2\n", "/t n=2\n"]
--- error_log eval
qr/\[crit\] .*cache file ".*b1\/.*" has a bad checksum/
--- moongate_only



=== TEST 2: a byte changed in the header's numbers
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/b2 levels=1:2 keys_zone=b2:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache b2;
        proxy_cache_key $uri;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /t", "GET /edit?z=b2&f=/t&op=flip&at=20", "GET /t", "GET /t"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/t n=1\n", "flip\n", "/t n=2\n", "/t n=2\n"]
--- error_log eval
qr/\[crit\] .*cache file ".*b2\/.*" has a bad checksum/
--- moongate_only



=== TEST 3: the body cut short or grown: never served as it is
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/b3 levels=1:2 keys_zone=b3:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache b3;
        proxy_cache_key $uri;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /c", "GET /edit?z=b3&f=/c&op=cut", "GET /c", "GET /g", "GET /edit?z=b3&f=/g&op=grow",
 "GET /g", "GET /g"]
--- response_headers eval
["X-Cache: MISS", "", "X-Cache: MISS", "X-Cache: MISS", "", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["/c n=1\n", "cut\n", "/c n=2\n", "/g n=1\n", "grow\n", "/g n=2\n", "/g n=2\n"]
--- error_log eval
[qr/\[crit\] .*cache file ".*b3\/.*" is truncated/, qr/\[crit\] .*cache file ".*b3\/.*" has a wrong size/]
--- moongate_only



=== TEST 4: a full cache disk: the client gets it all, nothing is stored, the failed write is logged
--- http_config
    proxy_cache_path $TEST_NGINX_FULL/c levels=1:2 keys_zone=full:1m use_temp_path=off;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache full;
        proxy_cache_key $uri;
        proxy_cache_valid 1m;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["GET /big?size=200000", "GET /big?size=200000", "GET /small", "GET /small"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
[("x" x 199999) . "\n", ("x" x 199999) . "\n", "/small n=1\n", "/small n=1\n"]
--- error_log eval
qr/\[crit\] .*pwrite\(\) ".*" failed \(28: No space left on device\)/
--- moongate_only
