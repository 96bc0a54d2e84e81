# Found by running the same configs on nginx and moongate: alias in a location with nested
# locations. The alias replaces the prefix of the location it is written in, also for the
# nested locations that inherit it (a nested regex location "~ \.php$" under
# "location /app/ { alias .../public/; }", the Laravel-in-a-subdirectory layout, got the
# directory alone as $request_filename; a nested prefix location cut its own, longer, name).
#
#   prove -I t/lib t/943-diff-alias-nested.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/943-diff-alias-nested.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: a nested regex location maps the URI with the outer location's alias
--- config
    location /app/ {
        alias $TEST_NGINX_HTML_DIR/public/;
        try_files $uri $uri/ @app;
        location ~ \.php$ { return 200 "php $request_filename\n"; }
    }
    location @app { rewrite ^/app/(.*)$ /app/index.php?/$1 last; }
--- user_files
>>> public/index.php
<?php
>>> public/style.css
css
--- request eval
["GET /app/index.php", "GET /app/users/5", "GET /app/style.css"]
--- response_body eval
["php $ENV{TEST_NGINX_HTML_DIR}/public/index.php\n", "php $ENV{TEST_NGINX_HTML_DIR}/public/index.php\n", "css\n"]



=== TEST 2: a nested prefix location too: the outer prefix is what alias replaces
--- config
    location /a/ {
        alias $TEST_NGINX_HTML_DIR/x/;
        location /a/b/ { }
    }
--- user_files
>>> x/b/f.txt
in x/b
>>> x/f.txt
in x
--- request eval
["GET /a/b/f.txt", "GET /a/f.txt"]
--- response_body eval
["in x/b\n", "in x\n"]
