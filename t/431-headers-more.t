# headers_more (OpenResty's headers-more-nginx-module): more_set_headers / more_clear_headers
# on the response (status and type filters, wildcards, built-in headers) and
# more_set_input_headers / more_clear_input_headers on the request.
#
#   prove -I t/lib t/431-headers-more.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/431-headers-more.t   (needs
#   libnginx-mod-http-headers-more-filter, or TEST_MOONGATE_NGINX_MODULES)

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: set and replace headers, with variables; an empty value removes
--- config
    location /a {
        add_header X-Old old;
        more_set_headers 'X-Foo: foo $arg_v' 'X-Bar: bar';
        more_set_headers 'X-Bar: replaced';
        more_set_headers 'X-Empty:';
        return 200 "ok\n";
    }
--- request
GET /a?v=1
--- response_headers
X-Foo: foo 1
X-Bar: replaced
X-Old: old
!X-Empty
--- response_body
ok



=== TEST 2: built-in headers: Server, Content-Type, Content-Length
--- config
    location /a {
        more_set_headers 'Server: my-server' 'Content-Type: text/x-mine';
        return 200 "hello\n";
    }
    location /b {
        more_clear_headers Server Content-Type;
        return 200 "hello\n";
    }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- response_headers eval
["Server: my-server\nContent-Type: text/x-mine\nContent-Length: 6", "!Server\n!Content-Type\nContent-Length: 6"]
--- response_body eval
["hello\n", "hello\n"]



=== TEST 3: -s statuses and -t types
--- config
    location /a {
        more_set_headers -s 404 'X-Nf: yes';
        more_set_headers -s '200 201' 'X-Ok: yes';
        more_set_headers -t 'text/html text/plain' 'X-Text: yes';
        more_set_headers -t 'image/png' 'X-Png: yes';
        return 200 "x";
    }
    location /b {
        more_set_headers -s 404 'X-Nf: yes';
        more_set_headers -s '200 201' 'X-Ok: yes';
        return 404;
    }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- error_code eval
[200, 404]
--- response_headers eval
["X-Ok: yes\nX-Text: yes\n!X-Nf\n!X-Png", "X-Nf: yes\n!X-Ok"]



=== TEST 4: without -s any status, error pages included
--- config
    location /a {
        more_set_headers 'X-Any: any';
        return 500;
    }
--- request
GET /a
--- error_code: 500
--- response_headers
X-Any: any



=== TEST 5: more_clear_headers with a wildcard and several names; add_header's lines come
after it in the filter chain and stay
--- config
    location /a {
        add_header X-Added added;
        more_clear_headers 'X-Hidden-*' X-Other X-Added;
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location /inner {
        add_header X-Hidden-One 1;
        add_header X-Hidden-Two 2;
        add_header X-Shown 3;
        add_header X-Other 4;
        return 200 "x";
    }
--- request
GET /a
--- response_headers
!X-Hidden-One
!X-Hidden-Two
!X-Other
X-Shown: 3
X-Added: added



=== TEST 6: directives of the enclosing levels apply too
--- http_config
    more_set_headers 'X-Http: h';
--- config
    more_set_headers 'X-Server: s';
    location /a {
        more_set_headers 'X-Loc: l';
        return 200 "x";
    }
--- request
GET /a
--- response_headers
X-Http: h
X-Server: s
X-Loc: l



=== TEST 7: headers from the upstream are replaced and cleared
--- config
    location /up {
        more_set_headers 'X-Up: new';
        more_clear_headers 'X-Gone';
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location /inner {
        add_header X-Up old;
        add_header X-Gone gone;
        add_header X-Kept kept;
        return 200 "inner\n";
    }
--- request
GET /up
--- response_headers
X-Up: new
X-Kept: kept
!X-Gone
--- response_body
inner



=== TEST 8: more_set_input_headers and more_clear_input_headers, seen by the content phase
--- config
    location /a {
        set $v from-var;
        more_set_input_headers 'X-In: $v' 'User-Agent: agent/1';
        more_clear_input_headers 'X-Drop';
        echo "$http_x_in|$http_user_agent|$http_x_drop|$http_x_keep";
    }
--- request
GET /a
--- more_headers
X-Drop: dropped
X-Keep: kept
User-Agent: curl
--- response_body
from-var|agent/1||kept



=== TEST 9: -r replaces only headers the request has
--- config
    location /a {
        more_set_input_headers -r 'X-A: new-a' 'X-B: new-b';
        echo "$http_x_a|$http_x_b";
    }
--- request
GET /a
--- more_headers
X-A: old
--- response_body
new-a|



=== TEST 10: -t on input headers tests the request's Content-Type; proxied requests carry the
headers set
--- config
    location /a {
        more_set_input_headers -t 'text/html text/plain' 'X-Text: yes';
        more_set_input_headers -t 'application/json' 'X-Json: yes';
        proxy_pass http://127.0.0.1:$server_port/inner;
    }
    location /inner {
        return 200 "$http_x_text|$http_x_json\n";
    }
--- request
POST /a
hello
--- more_headers
Content-Type: text/plain
--- response_body
yes|



=== TEST 11: the Host header set at input changes $host
--- config
    location /a {
        more_set_input_headers 'Host: example.org';
        echo "$host";
    }
--- request
GET /a
--- response_body
example.org



=== TEST 12: the return directive runs before the rewrite phase's end: no input change yet
--- config
    location /a {
        more_set_input_headers 'X-In: set';
        return 200 "[$http_x_in]\n";
    }
--- request
GET /a
--- response_body
[]



=== TEST 13: input headers are set before rewrite_by_lua runs
--- config
    location /a {
        more_set_input_headers 'X-In: set';
        rewrite_by_lua_block { ngx.ctx.v = ngx.var.http_x_in }
        content_by_lua_block { ngx.say(ngx.ctx.v) }
    }
--- request
GET /a
--- response_body
set



=== TEST 14: a static file's built-in headers: Last-Modified and Content-Length cleared,
ETag replaced
--- user_files
>>> f.txt 202311142213.20
file body
--- config
    location /f.txt {
        root html;
        more_clear_headers Last-Modified Content-Length;
        more_set_headers 'ETag: "mine"';
    }
--- request
GET /f.txt
--- response_headers
!Last-Modified
!Content-Length
ETag: "mine"
--- response_body
file body



=== TEST 15: Location set on a redirect, Content-Type cleared with its charset
--- config
    location /r {
        more_set_headers -s 302 'Location: http://example.org/new';
        return 302 /old;
    }
    location /c {
        charset utf-8;
        more_clear_headers Content-Type;
        return 200 "x";
    }
--- pipelined_requests eval
["GET /r", "GET /c"]
--- error_code eval
[302, 200]
--- response_headers eval
["Location: http://example.org/new", "!Content-Type"]
