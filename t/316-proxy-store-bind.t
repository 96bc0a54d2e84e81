# proxy_store and proxy_store_access (a 200 response saved under root/alias or to a path,
# with the upstream's Last-Modified as mtime and the permissions asked for; nothing for other
# statuses or HEAD), proxy_bind (an address, from variables, "off", "transparent", nginx's
# 500 when bind() fails) and proxy_socket_keepalive (SO_KEEPALIVE seen by ss on the
# connection in flight).  The upstream is a second server block on $TEST_NGINX_PORT2.
#
#   prove -I t/lib t/316-proxy-store-bind.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/316-proxy-store-bind.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

our $port2 = env_port('TEST_NGINX_PORT2');

backend(trunc => 'truncate');

# a temporary directory on another file system than the html dir (tmpfs): the store is copied
$ENV{TEST_NGINX_SHM_TMP} = "/dev/shm/moongate-t316-$$";
END { system('rm', '-rf', "/dev/shm/moongate-t316-$$") }

our $Backend = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / {
            add_header Last-Modified "Thu, 01 Jan 2015 00:00:00 GMT";
            return 200 "stored $uri\n";
        }
        location /nf/ { return 404 "nf\n"; }
        location /addr { return 200 "$remote_addr\n"; }
        # the proxy's view while a stored body is halfway: where is the temporary file?
        # (moongate_only: in the harness's single-process mode Debian's nginx hangs in these
        # io.popen calls, before the proxy is involved)
        location /midway/ {
            # the proxy asks in HTTP/1.0: without this, OpenResty's default buffers the whole
            # answer for a Content-Length and "head" would not come first
            lua_http10_buffering off;
            content_by_lua_block {
                local function count(cmd)
                    local h = io.popen(cmd .. " 2>/dev/null | wc -l")
                    local n = tonumber(h:read("*a"))
                    h:close()
                    return n
                end
                ngx.say("head")
                ngx.flush(true)
                local tmp = ngx.var.http_x_tmp
                local n = 0
                for _ = 1, 200 do  -- until the proxy made it: at most 2 s
                    n = count("find " .. tmp .. " -type f")
                    if n > 0 then break end
                    ngx.sleep(0.01)
                end
                ngx.say("temp files: ", n)
                ngx.say("beside the target: ", count("ls -A " .. ngx.var.http_x_dir))
            }
        }
        location /files {
            content_by_lua_block {
                local h = io.popen("find " .. ngx.var.http_x_tmp .. " -type f | wc -l")
                ngx.say("temp files: ", tonumber(h:read("*a")))
                h:close()
            }
        }
        location /ss {
            content_by_lua_block {
                local h = io.popen("ss -tno state established '( dport = :" .. ngx.var.server_port .. " )'")
                local out = h:read("*a")
                h:close()
                ngx.say(out:find("keepalive", 1, true) and "keepalive" or "no keepalive")
            }
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $Backend . ($block->http_config // ''));
    if (($block->name // '') =~ /transparent/ && $> != 0) {
        $block->set_value(moongate_skip => 'IP_TRANSPARENT needs CAP_NET_ADMIN');
    }
});

log_level('info');
run_tests();

__DATA__

=== TEST 1: proxy_store on: the body under root, directories made, mtime from Last-Modified
--- config
    location /s/ {
        root $TEST_NGINX_HTML_DIR/st1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_store on;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st1/; }
--- request eval
["GET /s/d1/d2/f.txt", "GET /check/s/d1/d2/f.txt"]
--- response_headers eval
["", "Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT"]
--- response_body eval
["stored /s/d1/d2/f.txt\n", "stored /s/d1/d2/f.txt\n"]



=== TEST 2: only a 200 is stored; a HEAD is not
--- config
    location / {
        root $TEST_NGINX_HTML_DIR/st2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_store on;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st2/; }
--- request eval
["GET /nf/x", "GET /check/nf/x", "HEAD /h.txt", "GET /check/h.txt"]
--- error_code eval
[404, 404, 200, 404]



=== TEST 3: proxy_store with a path (variables), and under an alias
--- config
    location /p/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_store $TEST_NGINX_HTML_DIR/st3/$arg_f;
    }
    location /a/ {
        alias $TEST_NGINX_HTML_DIR/st3/al/;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_store on;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st3/; }
--- request eval
["GET /p/q?f=pq/z.txt", "GET /check/pq/z.txt", "GET /a/b.txt", "GET /check/al/b.txt"]
--- response_body eval
["stored /p/q\n", "stored /p/q\n", "stored /a/b.txt\n", "stored /a/b.txt\n"]



=== TEST 4: proxy_store_access: the file's and the directories' permissions
--- config
    location /s/ {
        root $TEST_NGINX_HTML_DIR/st4;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_store on;
        proxy_store_access user:rw group:rw all:r;
    }
    location /d/ {
        root $TEST_NGINX_HTML_DIR/st4;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_store on;
    }
    location /mode {
        content_by_lua_block {
            local h = io.popen("stat -c '%a' $TEST_NGINX_HTML_DIR/st4" .. ngx.var.arg_f)
            ngx.print(h:read("*a"))
            h:close()
        }
    }
--- request eval
["GET /s/x/f.txt", "GET /mode?f=/s/x/f.txt", "GET /mode?f=/s/x", "GET /d/y/g.txt", "GET /mode?f=/d/y/g.txt", "GET /mode?f=/d/y"]
--- response_body eval
["stored /s/x/f.txt\n", "664\n", "775\n", "stored /d/y/g.txt\n", "600\n", "700\n"]



=== TEST 5: a response broken off leaves no file, and no temporary one
--- config
    location /t/ {
        root $TEST_NGINX_HTML_DIR/st5;
        proxy_pass http://127.0.0.1:$TEST_NGINX_TRUNC_PORT;
        proxy_store on;
    }
    location /ls {
        content_by_lua_block {
            local h = io.popen("ls -AR $TEST_NGINX_HTML_DIR/st5 2>/dev/null | grep -v ':$' | grep .")
            ngx.say("[", h:read("*a"), "]")
            h:close()
        }
    }
--- init
use IO::Socket::INET;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$Test::Moongate::ServerPort", Timeout => 5)
    or die "connect: $!";
print $s "GET /t/x.txt HTTP/1.0\r\nHost: localhost\r\n\r\n";
local $/;
my $got = <$s>;
die "no head: $got" unless $got =~ m{^HTTP/1.1 200 };
--- request
GET /ls
--- response_body
[]



=== TEST 6: proxy_store_access: a bad value
--- config
    location / { proxy_store_access user:rw group:x; }
--- must_die
--- error_log eval
qr/invalid value "group:x" in \S+:\d+/



=== TEST 7: proxy_store twice
--- config
    location / {
        proxy_store on;
        proxy_store off;
    }
--- must_die
--- error_log eval
qr/"proxy_store" directive is duplicate in \S+:\d+/



=== TEST 8: proxy_bind: the upstream sees the address; "off" below cancels it; from a variable
--- config
    proxy_bind 127.0.0.2;
    location /b { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/addr; }
    location /off {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/addr;
        proxy_bind off;
    }
    location /var {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/addr;
        proxy_bind $arg_a;
    }
--- request eval
["GET /b", "GET /off", "GET /var?a=127.0.0.3", "GET /var"]
--- response_body eval
["127.0.0.2\n", "127.0.0.1\n", "127.0.0.3\n", "127.0.0.1\n"]



=== TEST 9: proxy_bind transparent (as root)
--- config
    location /b {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/addr;
        proxy_bind 127.0.0.4 transparent;
    }
--- request
GET /b
--- response_body
127.0.0.4



=== TEST 10: proxy_bind to an address not ours: 500, as nginx
--- config
    location /b {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/addr;
        proxy_bind 192.0.2.1;
    }
--- request
GET /b
--- error_code: 500
--- error_log
[crit]
bind(192.0.2.1) failed (99: Cannot assign requested address) while connecting to upstream



=== TEST 11: proxy_bind: bad arguments
--- config
    location / { proxy_bind foo; }
--- must_die
--- error_log eval
qr/invalid address "foo" in \S+:\d+/



=== TEST 12: proxy_bind: a bad parameter
--- config
    location / { proxy_bind 127.0.0.1 foo; }
--- must_die
--- error_log eval
qr/invalid parameter "foo" in \S+:\d+/



=== TEST 13: proxy_socket_keepalive on: the upstream connection has SO_KEEPALIVE; off by default
--- config
    location /on {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ss;
        proxy_socket_keepalive on;
    }
    location /off { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/ss; }
--- request eval
["GET /on", "GET /off"]
--- response_body eval
["keepalive\n", "no keepalive\n"]



=== TEST 14: proxy_socket_keepalive: a bad value
--- config
    location / { proxy_socket_keepalive x; }
--- must_die
--- error_log eval
qr/invalid value "x" in "proxy_socket_keepalive" directive, it must be "on" or "off" in \S+:\d+/



=== TEST 15: the temporary file is under proxy_temp_path while the body comes, then renamed
--- config
    location /midway/ {
        root $TEST_NGINX_HTML_DIR/st15;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_store on;
        proxy_temp_path $TEST_NGINX_HTML_DIR/st15tmp 1;
        proxy_set_header X-Tmp $TEST_NGINX_HTML_DIR/st15tmp;
        proxy_set_header X-Dir $TEST_NGINX_HTML_DIR/st15/midway;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st15/; }
    location /left {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/files;
        proxy_set_header X-Tmp $TEST_NGINX_HTML_DIR/st15tmp;
    }
--- request eval
["GET /midway/f.txt", "GET /check/midway/f.txt", "GET /left"]
--- response_body eval
["head\ntemp files: 1\nbeside the target: 0\n", "head\ntemp files: 1\nbeside the target: 0\n",
 "temp files: 0\n"]
--- timeout: 15
--- moongate_only



=== TEST 16: proxy_temp_path on another file system: the stored file is copied, the temporary one goes
--- config
    location /midway/ {
        root $TEST_NGINX_HTML_DIR/st16;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_store on;
        proxy_store_access user:rw all:r;
        proxy_temp_path $TEST_NGINX_SHM_TMP;
        proxy_set_header X-Tmp $TEST_NGINX_SHM_TMP;
        proxy_set_header X-Dir $TEST_NGINX_HTML_DIR/st16/midway;
    }
    location /check/ { alias $TEST_NGINX_HTML_DIR/st16/; }
    location /left {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/files;
        proxy_set_header X-Tmp $TEST_NGINX_SHM_TMP;
    }
--- request eval
["GET /midway/g.txt", "GET /check/midway/g.txt", "GET /left"]
--- response_body eval
["head\ntemp files: 1\nbeside the target: 0\n", "head\ntemp files: 1\nbeside the target: 0\n",
 "temp files: 0\n"]
--- timeout: 15
--- moongate_only
