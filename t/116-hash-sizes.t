# The *_hash_max_size / *_hash_bucket_size directives (server_names, types, variables): nginx
# sizes its hashes with them and refuses keys that cannot fit, or warns when it must ignore the
# bucket size; moongate gives the same verdicts in the same words (core/hash_size.c), and a
# Debian-style configuration that sets them serves. `types { include FILE; }` reads lines from
# FILE, as nginx does. (nginx prints its warnings on stderr only, before its error log is open;
# moongate writes them to the error log too, so the blocks that check them are moongate's.)
#
#   prove -I t/lib t/116-hash-sizes.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/116-hash-sizes.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

log_level('warn');

run_tests();

__DATA__

=== TEST 1: Debian's settings are accepted and the server serves
--- http_config
    types_hash_max_size 2048;
    server_names_hash_bucket_size 64;
    server_names_hash_max_size 1024;
    variables_hash_max_size 2048;
    variables_hash_bucket_size 128;
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 2: a server name longer than a bucket: nginx's error (the bucket is rounded up to 64)
--- http_config
    server_names_hash_bucket_size 32;
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name averyveryverylongservernameaveryveryverylongservername.example.com;
    }
--- config
    location /t { return 200 "ok\n"; }
--- must_die
--- error_log
could not build server_names_hash, you should increase server_names_hash_bucket_size: 64



=== TEST 3: names that no size up to the maximum spreads: nginx's warning, and it serves
--- moongate_only
--- http_config
    server_names_hash_max_size 1;
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name a b c d e f g h i j k l *.a.com *.b.com *.c.com www.x.*;
        location /t { return 200 "other\n"; }
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log
could not build optimal server_names_hash, you should increase either server_names_hash_max_size: 1 or server_names_hash_bucket_size: 64; ignoring server_names_hash_bucket_size



=== TEST 4: an extension longer than a types bucket
--- http_config
    types_hash_bucket_size 16;
    types { text/html averyveryveryveryverylongextensionaveryveryveryveryverylongextension; }
--- config
    location /t { return 200 "ok\n"; }
--- must_die
--- error_log
could not build types_hash, you should increase types_hash_bucket_size: 64



=== TEST 5: types that no size up to the maximum spreads: the warning
--- moongate_only
--- http_config
    types_hash_max_size 1;
    types { text/html a b c d e f g h; }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log
could not build optimal types_hash, you should increase either types_hash_max_size: 1 or types_hash_bucket_size: 64; ignoring types_hash_bucket_size



=== TEST 6: variables_hash_max_size 0 can hold nothing
--- http_config
    variables_hash_max_size 0;
--- config
    location /t { return 200 "ok\n"; }
--- must_die
--- error_log
could not build variables_hash, you should increase variables_hash_max_size: 0



=== TEST 7: include inside types reads type lines from a file
--- config
    location /t/ {
        types { text/x-other other; include ../html/more.types; }
        root html;
    }
--- user_files
>>> t/a.moon
moon
>>> more.types
text/x-moon moon;
--- request
GET /t/a.moon
--- response_headers
Content-Type: text/x-moon
--- response_body
moon
