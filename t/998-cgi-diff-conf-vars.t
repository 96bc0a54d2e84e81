# The CGI family's directives and FastCGI's variables as Debian's nginx 1.22 has them (a
# differential audit). fastcgi_split_path_info at any level (inherited, a second one
# replacing the first); a scheme before an address only where nginx takes one (uwsgi:// and
# suwsgi:// for uwsgi_pass; fastcgi_pass, scgi_pass, memcached_pass none); nginx's wording
# for uwsgi_modifier1 out of bounds. $fastcgi_path_info empty, never "-", where
# fastcgi_split_path_info is not set or does not match. $upstream_response_length as nginx
# counts a FastCGI answer: every byte after the head, record headers, padding and
# FCGI_END_REQUEST included; 0 while the head is sent (add_header; proxy_pass the same).
# A fake FastCGI application from Test::MoongateBackend's fastcgi kind.
#
#   prove -I t/lib t/998-cgi-diff-conf-vars.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/998-cgi-diff-conf-vars.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(echo => 'echo');
backend(app => 'fastcgi', script => fastcgi_answer("Content-Type: text/plain\r\n\r\nok\n"));
# the head in one record, the body in a padded one
backend(two => 'fastcgi', script => [fastcgi_record(6, "Content-Type: text/plain\r\n\r\n")
    . fastcgi_record(6, "ok\n", 5) . fastcgi_record(6, '') . fastcgi_record(3, "\0" x 8)]);

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF2' . ($b->http_config // ''));
    log_format v '[$fastcgi_script_name][$fastcgi_path_info]';
    log_format r '$status $upstream_response_length';
EOF2
    $b->set_value('config', ($b->config // '') . "\n    location = /x { return 200 \"x\\n\"; }\n");
});

run_tests();

__DATA__

=== TEST 1: no fastcgi_split_path_info: the path info is empty in the log
--- config
    location / {
        access_log logs/v1.log v;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
my ($r, $l) = get_logged('/a.php/b', 'v1.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 }, 'TEST 1: 200');
Test::More::is($l, '[/a.php/b][]', 'TEST 1: logged');
--- request
GET /x
--- response_body
x



=== TEST 2: fastcgi_split_path_info that does not match: the same
--- config
    location / {
        access_log logs/v2.log v;
        fastcgi_split_path_info ^(.+\.php)(/.+)$;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
my ($r, $l) = get_logged('/plain', 'v2.log');
Test::More::is($l, '[/plain][]', 'TEST 2: logged');
--- request
GET /x
--- response_body
x



=== TEST 3: one that matches: both parts
--- config
    location / {
        access_log logs/v3.log v;
        fastcgi_split_path_info ^(.+\.php)(/.+)$;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
my ($r, $l) = get_logged('/a.php/b/c', 'v3.log');
Test::More::is($l, '[/a.php][/b/c]', 'TEST 3: logged');
--- request
GET /x
--- response_body
x



=== TEST 4: $upstream_response_length: the body, the empty FCGI_STDOUT and FCGI_END_REQUEST
--- config
    location / {
        access_log logs/r4.log r;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
my ($r, $l) = get_logged('/a', 'r4.log');
Test::More::is($l, '200 27', 'TEST 4: logged');
--- request
GET /x
--- response_body
x



=== TEST 5: the body in a record of its own: its header and padding counted too
--- config
    location / {
        access_log logs/r5.log r;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_TWO_PORT;
    }
--- init
my ($r, $l) = get_logged('/a', 'r5.log');
Test::More::like($r, qr/^ok$/m, "TEST 5: the body");
Test::More::is($l, '200 40', 'TEST 5: logged');
--- request
GET /x
--- response_body
x



=== TEST 6: fastcgi_split_path_info at the server level, inherited
--- config
    fastcgi_split_path_info ^(/a)(.*)$;
    location / {
        access_log logs/v6.log v;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
my ($r, $l) = get_logged('/a.php/x', 'v6.log');
Test::More::is($l, '[/a][.php/x]', 'TEST 6: logged');
--- request
GET /x
--- response_body
x



=== TEST 7: a second fastcgi_split_path_info replaces the first
--- config
    location / {
        access_log logs/v7.log v;
        fastcgi_split_path_info ^(.+\.php)(.*)$;
        fastcgi_split_path_info ^(/a)(.*)$;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
my ($r, $l) = get_logged('/a.php/x', 'v7.log');
Test::More::is($l, '[/a][.php/x]', 'TEST 7: logged');
--- request
GET /x
--- response_body
x



=== TEST 8: fastcgi_pass with a scheme: an invalid host
--- config
    location / { fastcgi_pass fastcgi://127.0.0.1:9; }
--- must_die
--- error_log
invalid host in upstream "fastcgi://127.0.0.1:9"



=== TEST 9: scgi_pass with a scheme: an invalid host
--- config
    location / { scgi_pass scgi://127.0.0.1:9; }
--- must_die
--- error_log
invalid host in upstream "scgi://127.0.0.1:9"



=== TEST 10: memcached_pass with a scheme: an invalid host
--- config
    location / {
        set $memcached_key $uri;
        memcached_pass memcached://127.0.0.1:9;
    }
--- must_die
--- error_log
invalid host in upstream "memcached://127.0.0.1:9"



=== TEST 11: uwsgi_pass takes uwsgi:// (and no other scheme)
--- config
    location /u { uwsgi_pass uwsgi://127.0.0.1:9; }
    location /x { uwsgi_pass http://127.0.0.1:9; }
--- must_die
--- error_log
invalid host in upstream "http://127.0.0.1:9"



=== TEST 12: uwsgi_modifier1 256: nginx's wording
--- config
    location / {
        uwsgi_modifier1 256;
        uwsgi_pass 127.0.0.1:9;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*value must be between 0 and 255 in \S+:\d+/



=== TEST 13: $upstream_response_length while the head is sent: 0 (FastCGI)
--- config
    location / {
        add_header X-RL $upstream_response_length;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- request
GET /
--- response_headers
X-RL: 0
--- response_body
ok



=== TEST 14: the same through proxy_pass
--- config
    location / {
        add_header X-RL $upstream_response_length;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- request
GET /
--- response_headers
X-RL: 0
