# "alias" in a location whose URI changed without a new location search: nginx answers 500
# and logs an alert, since the alias was written for the URI the location was found with.
# Cleared by "rewrite ... break", "break" after a rewrite (in the location or at server
# level), ngx.req.set_uri without jump; made valid again by a new search ("last", jump) and
# by an internal redirect or a subrequest. The same flag makes proxy_pass drop its URI part.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/870-alias-rewritten-uri.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');

# the request line the echo backend got
sub request_line { my $b = shift; $b =~ /\A(.*)\n/ ? $1 : "no request line in \"$b\"" }

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: prefix location: "rewrite ... break" refuses the alias, "last" searches again
--- config
    location /p/ { alias $TEST_NGINX_HTML_DIR/a/; }
    location /brk/ { alias $TEST_NGINX_HTML_DIR/a/; rewrite ^/brk/(.*) /brk/$1 break; }
    location /lst/ { alias $TEST_NGINX_HTML_DIR/a/; rewrite ^/lst/(.*) /p/$1 last; }
    location /flagless/ { alias $TEST_NGINX_HTML_DIR/a/; rewrite ^/flagless/(.*) /p/$1; }
    location /bare/ { alias $TEST_NGINX_HTML_DIR/a/; break; }
--- user_files
>>> a/x.txt
afile
--- request eval
["GET /brk/x.txt", "GET /lst/x.txt", "GET /flagless/x.txt", "GET /bare/x.txt"]
--- error_code eval
[500, 200, 200, 200]
--- response_body_like eval
["500 Internal Server Error", "^afile\n\\z", "^afile\n\\z", "^afile\n\\z"]
--- error_log
[alert]
"alias" cannot be used in location "/brk/" where URI was rewritten, client: 127.0.0.1



=== TEST 2: "break" after a rewrite without a flag keeps the new URI in the location
--- config
    location /nf/ { alias $TEST_NGINX_HTML_DIR/a/; rewrite ^/nf/(.*) /nf/$1; break; }
--- user_files
>>> a/x.txt
afile
--- request
GET /nf/x.txt
--- error_code: 500
--- error_log
"alias" cannot be used in location "/nf/" where URI was rewritten
--- no_error_log
internal redirection cycle



=== TEST 3: regex location, with and without captures
--- config
    location ~ ^/r/(\w+)$ { alias $TEST_NGINX_HTML_DIR/a/$1.txt; }
    location ~ ^/rb/(\w+)$ { alias $TEST_NGINX_HTML_DIR/a/$1.txt; rewrite ^ /rb/x break; }
    location ~ ^/rc/ { alias $TEST_NGINX_HTML_DIR/a/x.txt; rewrite ^ /rc/y break; }
    location ~ ^/rl/(\w+)$ { alias $TEST_NGINX_HTML_DIR/a/$1.txt; rewrite ^/rl/(\w+)$ /r/$1 last; }
--- user_files
>>> a/x.txt
afile
--- request eval
["GET /rb/x", "GET /rc/x", "GET /rl/x"]
--- error_code eval
[500, 500, 200]
--- error_log
"alias" cannot be used in location "^/rb/(\w+)$" where URI was rewritten
"alias" cannot be used in location "^/rc/" where URI was rewritten



=== TEST 4: server-level rewrites: "break" keeps the new URI for the location found next
--- config
    rewrite ^/sb/(.*) /p/$1 break;
    rewrite ^/sl/(.*) /p/$1 last;
    location /p/ { alias $TEST_NGINX_HTML_DIR/a/; }
--- user_files
>>> a/x.txt
afile
--- request eval
["GET /sb/x.txt", "GET /sl/x.txt", "GET /p/x.txt"]
--- error_code eval
[500, 200, 200]
--- error_log
"alias" cannot be used in location "/p/" where URI was rewritten, client: 127.0.0.1, server: localhost, request: "GET /sb/x.txt HTTP/1.1"



=== TEST 5: nested and "if" locations inherit the alias and the rule; the log names the location
--- config
    location /n/ {
        alias $TEST_NGINX_HTML_DIR/a/;
        location /n/sub/ { rewrite ^ /n/x.txt break; }
    }
    location /i/ {
        alias $TEST_NGINX_HTML_DIR/a/;
        if ($arg_b) { rewrite ^/i/(.*) /i/$1 break; }
    }
--- user_files
>>> a/x.txt
afile
--- request eval
["GET /n/sub/q", "GET /i/x.txt", "GET /i/x.txt?b=1"]
--- error_code eval
[500, 200, 500]
--- error_log
"alias" cannot be used in location "/n/sub/" where URI was rewritten
"alias" cannot be used in location "/i/" where URI was rewritten



=== TEST 6: try_files, index and autoindex map through the same rule
--- config
    location /t/ { alias $TEST_NGINX_HTML_DIR/a/; rewrite ^/t/(.*) /t/$1 break; try_files $uri =404; }
    location /ix/ { alias $TEST_NGINX_HTML_DIR/a/; rewrite ^ /ix/ break; }
    location /ai/ { alias $TEST_NGINX_HTML_DIR/a/; autoindex on; rewrite ^ /ai/sub/ break; }
--- user_files
>>> a/x.txt
afile
>>> a/index.html
index
>>> a/sub/y.txt
y
--- request eval
["GET /t/x.txt", "GET /ix/", "GET /ai/"]
--- error_code eval
[500, 500, 500]
--- error_log
"alias" cannot be used in location "/t/" where URI was rewritten
"alias" cannot be used in location "/ix/" where URI was rewritten
"alias" cannot be used in location "/ai/" where URI was rewritten



=== TEST 7: an internal redirect into an alias location is a new search
--- config
    location /p/ { alias $TEST_NGINX_HTML_DIR/a/; }
    location /e/ { rewrite ^ /nothing break; error_page 404 = /p/x.txt; }
--- user_files
>>> a/x.txt
afile
--- request
GET /e/x.txt
--- response_body
afile
--- no_error_log
[alert]



=== TEST 8: ngx.req.set_uri without jump (rewrite and access phases) refuses the alias
--- config
    location /rw/ { alias $TEST_NGINX_HTML_DIR/a/; rewrite_by_lua_block { ngx.req.set_uri(ngx.var.uri) } }
    location /ac/ { alias $TEST_NGINX_HTML_DIR/a/; access_by_lua_block { ngx.req.set_uri(ngx.var.uri) } }
--- user_files
>>> a/x.txt
afile
--- request eval
["GET /rw/x.txt", "GET /ac/x.txt"]
--- error_code eval
[500, 500]
--- error_log
"alias" cannot be used in location "/rw/" where URI was rewritten
"alias" cannot be used in location "/ac/" where URI was rewritten



=== TEST 9: set_uri with jump, ngx.exec and a subrequest each find the location anew
--- config
    location /p/ { alias $TEST_NGINX_HTML_DIR/a/; }
    location /j/ { alias $TEST_NGINX_HTML_DIR/a/; rewrite_by_lua_block { ngx.req.set_uri("/p/x.txt", true) } }
    location /x/ {
        alias $TEST_NGINX_HTML_DIR/a/;
        rewrite_by_lua_block { ngx.req.set_uri("/x/x.txt") ngx.exec("/p/x.txt") }
    }
    location /c/ {
        rewrite_by_lua_block { ngx.req.set_uri("/c/changed") }
        content_by_lua_block {
            local res = ngx.location.capture("/p/x.txt")
            ngx.print(res.status, " ", res.body)
        }
    }
--- user_files
>>> a/x.txt
afile
--- request eval
["GET /j/x.txt", "GET /x/x.txt", "GET /c/"]
--- response_body eval
["afile\n", "afile\n", "200 afile\n"]
--- no_error_log
[alert]



=== TEST 10: $request_filename is not found once the URI changed in an alias location
--- config
    location /v/ {
        alias $TEST_NGINX_HTML_DIR/a/;
        content_by_lua_block {
            ngx.say("before: ", ngx.var.request_filename ~= nil)
            ngx.req.set_uri(ngx.var.uri)
            ngx.say("after: ", tostring(ngx.var.request_filename))
        }
    }
--- request
GET /v/x.txt
--- response_body
before: true
after: nil
--- error_log
"alias" cannot be used in location "/v/" where URI was rewritten



=== TEST 11: proxy_pass with a URI part sends the whole URI changed by "rewrite ... break"
--- config
    location /api/ {
        rewrite ^/api/(.*) /api/v2/$1 break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/back/;
    }
    location /apb/ {
        rewrite ^/apb/(.*) /apb/v2/$1;
        break;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/back/;
    }
    location /plain/ { proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT/back/; }
--- request eval
["GET /api/x", "GET /apb/x", "GET /plain/x"]
--- response_body_filters: request_line
--- response_body eval
["GET /api/v2/x HTTP/1.0", "GET /apb/v2/x HTTP/1.0", "GET /back/x HTTP/1.0"]
