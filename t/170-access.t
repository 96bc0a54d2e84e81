# allow/deny (ngx_http_access_module): rules in order with the first match deciding, IPv4
# and IPv6 CIDR blocks, IPv4-mapped clients checked as IPv4, "all", "unix:" for unix-domain
# clients, inheritance (a level with rules replaces its parent's), the 403 with "access
# forbidden by rule", and the configuration errors. Addresses other than 127.0.0.1 come from
# the realip module (X-Real-IP from the test client, which is trusted).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/170-access.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the first rule that covers the address decides, IPv4 and IPv6
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        set_real_ip_from 127.0.0.1;
        deny 10.1.2.3;
        allow 10.1.0.0/16;
        deny 10.0.0.0/8;
        allow 2001:db8::/32;
        allow 192.168.1.1;
        deny all;
    }
--- user_files
>>> t/ok
ok
--- request eval
["GET /t/ok", "GET /t/ok", "GET /t/ok", "GET /t/ok", "GET /t/ok", "GET /t/ok", "GET /t/ok",
 "GET /t/ok"]
--- more_headers eval
["X-Real-IP: 10.1.2.3", "X-Real-IP: 10.1.9.9", "X-Real-IP: 10.9.9.9", "X-Real-IP: 2001:db8::1",
 "X-Real-IP: 2001:db9::1", "X-Real-IP: 192.168.1.1", "X-Real-IP: 192.168.1.2", ""]
--- error_code eval
[403, 200, 403, 200, 403, 200, 403, 403]



=== TEST 2: a denial is 403 with nginx's page and "access forbidden by rule" naming the client
--- config
    location /t {
        set_real_ip_from 127.0.0.1;
        deny 10.0.0.0/8;
    }
--- request
GET /t
--- more_headers
X-Real-IP: 10.20.30.40
--- error_code: 403
--- response_body_like: <center><h1>403 Forbidden</h1></center>
--- error_log eval
qr/\[error\] .*access forbidden by rule, client: 10\.20\.30\.40, server: localhost, request: "GET \/t HTTP\/1\.1"/



=== TEST 3: an IPv4-mapped IPv6 client is checked against the IPv4 rules
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        set_real_ip_from 127.0.0.1;
        allow 10.1.0.0/16;
        deny all;
    }
--- user_files
>>> t/ok
ok
--- request eval
["GET /t/ok", "GET /t/ok"]
--- more_headers eval
["X-Real-IP: ::ffff:10.1.2.3", "X-Real-IP: ::ffff:10.2.2.3"]
--- error_code eval
[200, 403]



=== TEST 4: no rule covers the client: the request goes on
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        deny 10.0.0.0/8;
        deny ::1;
    }
--- user_files
>>> t/ok
ok
--- request
GET /t/ok
--- response_body
ok



=== TEST 5: rules are inherited from the server level; a location with its own replaces them
--- config
    root $TEST_NGINX_HTML_DIR;
    deny 127.0.0.1;
    location /inherit/ { }
    location /own/ { allow 127.0.0.1; }
    location /empty/ { allow 10.0.0.1; }
--- user_files
>>> inherit/ok
ok
>>> own/ok
ok
>>> empty/ok
ok
--- request eval
["GET /inherit/ok", "GET /own/ok", "GET /empty/ok"]
--- error_code eval
[403, 200, 200]



=== TEST 6: the http level's rules reach every server
--- http_config
    deny all;
--- config
    location /t { }
--- request
GET /t
--- error_code: 403



=== TEST 7: "unix:" covers unix-domain clients only; "all" every client
--- http_config
    server {
        listen unix:$TEST_NGINX_SERVROOT/access.sock;
        root $TEST_NGINX_HTML_DIR;
        location /u/ { deny unix:; }
        location /a/ { allow unix:; deny all; }
        location /all/ { deny all; }
    }
--- config
    root $TEST_NGINX_HTML_DIR;
    location /p/ {
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/access.sock:/;
    }
    location /tcp/ {
        deny unix:;
    }
    location /tcp2/ {
        allow unix:;
        deny all;
    }
--- user_files
>>> u/ok
u
>>> a/ok
a
>>> all/ok
all
>>> tcp/ok
tcp
>>> tcp2/ok
tcp2
--- request eval
["GET /p/u/ok", "GET /p/a/ok", "GET /p/all/ok", "GET /tcp/ok", "GET /tcp2/ok"]
--- error_code eval
[403, 200, 403, 200, 403]
--- response_body_like eval
["403 Forbidden", "\\Aa\\n\\z", "403 Forbidden", "\\Atcp\\n\\z", "403 Forbidden"]



=== TEST 8: allow and deny inside limit_except apply to the other methods
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        limit_except GET {
            deny all;
        }
    }
--- user_files
>>> t/ok
ok
--- request eval
["GET /t/ok", "DELETE /t/ok"]
--- error_code eval
[200, 403]



=== TEST 9: host bits set beyond the mask: a warning, and the block is the masked one
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        set_real_ip_from 127.0.0.1;
        deny 10.1.2.3/16;
        deny 2001:db8::1/32;
    }
--- user_files
>>> t/ok
ok
--- request eval
["GET /t/ok", "GET /t/ok", "GET /t/ok"]
--- more_headers eval
["X-Real-IP: 10.1.200.200", "X-Real-IP: 2001:db8:ffff::9", "X-Real-IP: 10.2.0.1"]
--- error_code eval
[403, 403, 200]
--- init
    # the warnings come while the config is read, before the error log is open: on stderr
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[warn\] .*low address bits of 10\.1\.2\.3\/16 are meaningless in .*\.conf:\d+$/m,
                     'IPv4 low bits warning');
    Test::More::like($err, qr/\[warn\] .*low address bits of 2001:db8::1\/32 are meaningless in .*\.conf:\d+$/m,
                     'IPv6 low bits warning');



=== TEST 10: an invalid address
--- config
    location /t {
        allow 10.0.0.0/33;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "10\.0\.0\.0\/33" in .*\.conf:\d+/



=== TEST 11: a name is not an address
--- config
    location /t {
        deny localhost;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "localhost" in .*\.conf:\d+/



=== TEST 12: a unix socket path is not a rule
--- config
    location /t {
        allow unix:/tmp/x.sock;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "unix:\/tmp\/x\.sock" in .*\.conf:\d+/



=== TEST 13: one argument exactly
--- config
    location /t {
        allow 10.0.0.1 10.0.0.2;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "allow" directive in .*\.conf:\d+/



=== TEST 14: not inside "if"
--- config
    location /t {
        if ($arg_x) {
            deny all;
        }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"deny" directive is not allowed here in .*\.conf:\d+/
