# Found by running "-t" on the same wrong configs with nginx and moongate: the message, its
# level and FILE:LINE must be nginx's. proxy_pass with no http:// or https:// says "invalid URL
# prefix" and names no URL (at run time, with variables, nginx names it); an absolute index
# before the last one is a warning, not an error, and the handler redirects to it when reached;
# the http2_* directives nginx made obsolete are warned about, not refused as unknown.
#
#   prove -I t/lib t/939-diff-conf.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/939-diff-conf.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

use_bad_conf_blocks();

run_tests();

__DATA__

=== TEST 1: proxy_pass without a scheme
--- include_in: location
--- bad_conf
# the next line
proxy_pass 127.0.0.1:8080;
--- error_log eval
qr/\[emerg\] .*invalid URL prefix in \Q${\ Test::Moongate::conf_dir()}\E\/bad\.conf:2$/m



=== TEST 2: an absolute index before the last one: a warning; the request goes to it
--- config
    location / { root html; index /a.html b.html; }
--- user_files
>>> a.html
the a page
>>> b.html
the b page
--- request
GET /
--- response_body
the a page



=== TEST 3: the http2_* directives nginx 1.19.7 made obsolete: a warning, the server starts
--- http_config
    http2_idle_timeout 3m;
    http2_max_requests 1000;
--- config
    http2_max_field_size 16k;
    http2_max_header_size 32k;
    http2_recv_timeout 30s;
    location /t { return 200 "up\n"; }
--- request
GET /t
--- response_body
up



=== TEST 4: ... and like nginx they are not allowed in a location
--- include_in: location
--- bad_conf
http2_idle_timeout 3m;
--- error_log eval
qr/\[emerg\] .*"http2_idle_timeout" directive is not allowed here in \Q${\ Test::Moongate::conf_dir()}\E\/bad\.conf:1$/m



=== TEST 5: server push's directives, which nginx 1.25.1 removed (moongate's HTTP/2 is nginx >= 1.25's): warned about as obsolete and ignored, the server starts
--- moongate_only
--- http_config
    http2_max_concurrent_pushes 10;
--- config
    http2_push_preload on;
    location /t { http2_push /style.css; return 200 "up\n"; }
--- request
GET /t
--- response_body
up
--- error_log eval
[qr/\[warn\] .*the "http2_max_concurrent_pushes" directive is obsolete, ignored in \S+:\d+$/m,
 qr/\[warn\] .*the "http2_push_preload" directive is obsolete, ignored in \S+:\d+$/m,
 qr/\[warn\] .*the "http2_push" directive is obsolete, ignored in \S+:\d+$/m]
