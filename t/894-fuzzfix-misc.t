# Leftovers of a fuzzing session. proxy_cache_convert_head off with $request_method in the key
# (as nginx's documentation asks): a HEAD's answer, stored under its own key, answers the next
# HEAD, and a GET gets its own entry. A field ignore_invalid_headers drops from an HTTP/2
# request is logged as an HTTP/1 line is (one function), in nginx's h2 words: the whole name.
# geo over a variable whose value holds a NUL before an IPv6 colon (fuzz_geo's find: the worker
# crashed) is no address.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/894-fuzzfix-misc.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateCache;
use Test::Moongate::H2;

log_level('info');
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2') if defined $block->h2_py;
});

cache_upstream(<<'_LUA_');
    ngx.header["X-Method"] = ngx.req.get_method()
    reply(ngx.var.uri .. " n=" .. n .. "\n")
_LUA_

run_tests();

__DATA__

=== TEST 1: convert_head off, the method in the key: HEAD and GET each their own entry
--- http_config
    proxy_cache_path $TEST_NGINX_SERVROOT/c1 keys_zone=c1:1m;
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cache c1;
        proxy_cache_valid 1m;
        proxy_cache_convert_head off;
        proxy_cache_key $request_method$proxy_host$request_uri;
        add_header X-Cache $upstream_cache_status;
    }
--- request eval
["HEAD /h", "HEAD /h", "GET /h", "GET /h"]
--- response_headers eval
["X-Cache: MISS\nX-Method: HEAD\nContent-Length: 7", "X-Cache: HIT\nX-Method: HEAD\nContent-Length: 7",
 "X-Cache: MISS\nX-Method: GET", "X-Cache: HIT\nX-Method: GET"]
--- response_body eval
["", "", "/h n=2\n", "/h n=2\n"]



=== TEST 2: an HTTP/2 field dropped by ignore_invalid_headers: its whole name logged, however long
--- config
    location /hdr { return 200 "ok\n"; }
--- h2_py
r = Raw($TEST_NGINX_SERVER_PORT)
r.send(r.frame(1, 5, 1, r.block('/hdr', extra=[('x.' + 'a' * 300 + 'z', 'v'), ('ok', '4')])))
r.read(5, until=lambda: r.closed or 1 in r.statuses)
print(r.statuses.get(1))
--- h2_out
200
--- error_log eval
qr/client sent invalid header: "x\.a{300}z" while reading client request headers, client: 127\.0\.0\.1, server: localhost, host: "localhost"/
--- no_error_log
invalid header line



=== TEST 3: the same name on HTTP/1.1: the line up to its value's end
--- config
    location /hdr { return 200 "ok\n"; }
--- more_headers eval
"x." . ("a" x 300) . "z: v\nok: 4\n"
--- request
GET /hdr
--- response_body
ok
--- error_log eval
qr/client sent invalid header line: "x\.a{300}z: v" while reading client request headers, client: 127\.0\.0\.1, server: localhost, request: "GET \/hdr HTTP\/1\.1", host: "localhost"/



=== TEST 4: geo of a value with a NUL before a colon: no address, the default (a crash before)
--- http_config
    geo $ip $where {
        default none;
        10.0.0.0/8 ten;
        ::/0 six;
    }
--- config
    location /g {
        set_unescape_uri $ip $arg_ip;
        return 200 "[$where]\n";
    }
--- request eval
["GET /g?ip=1.%00:2.3", "GET /g?ip=10.1.2.3", "GET /g?ip=2001:db8::1"]
--- response_body eval
["[none]\n", "[ten]\n", "[six]\n"]
--- no_error_log
[alert]
