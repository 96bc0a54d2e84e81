# set_real_ip_from, real_ip_header, real_ip_recursive (ngx_http_realip_module): a trusted
# client's address and port become those of X-Real-IP, X-Forwarded-For (the last entry, or the
# last untrusted one when recursive, across several lines) or any header; server-level settings
# apply before the server's rewrites, location-level ones in the preaccess phase; once per
# request; $remote_addr, $remote_port, allow/deny and the error log see the new address and
# $realip_remote_addr/_port the old; the connection gets its own back for the next request;
# "unix:" and host names; the configuration errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/173-realip.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: X-Real-IP from a trusted client: the address, and the port when it has one
--- config
    set_real_ip_from 127.0.0.1;
    location /t {
        return 200 "$remote_addr|$remote_port|$realip_remote_addr|$realip_remote_port\n";
    }
--- request eval
[("GET /t") x 7]
--- more_headers eval
["X-Real-IP: 1.2.3.4", "X-Real-IP: 1.2.3.4:5678", "X-Real-IP: 2001:db8::1",
 "X-Real-IP: [2001:db8::2]:443", "X-Real-IP: ::ffff:10.0.0.1", "X-Real-IP: 010.001.2.3", ""]
--- response_body_like eval
["\\A1\\.2\\.3\\.4\\|\\|127\\.0\\.0\\.1\\|\\d+\\n\\z", "\\A1\\.2\\.3\\.4\\|5678\\|127\\.0\\.0\\.1\\|\\d+\\n\\z",
 "\\A2001:db8::1\\|\\|127\\.0\\.0\\.1\\|\\d+\\n\\z", "\\A2001:db8::2\\|443\\|127\\.0\\.0\\.1\\|\\d+\\n\\z",
 "\\A::ffff:10\\.0\\.0\\.1\\|\\|", "\\A10\\.1\\.2\\.3\\|\\|",
 "\\A127\\.0\\.0\\.1\\|(\\d+)\\|127\\.0\\.0\\.1\\|\\1\\n\\z"]



=== TEST 2: what is no address changes nothing
--- config
    set_real_ip_from 127.0.0.1;
    location /t {
        return 200 "$remote_addr\n";
    }
--- request eval
[("GET /t") x 7]
--- more_headers eval
["X-Real-IP: bogus", "X-Real-IP: [::1]", "X-Real-IP: 1.2.3.4:0", "X-Real-IP: 1.2.3.4:65536",
 "X-Real-IP: 1.2.3", "X-Real-IP: 256.1.1.1", "X-Real-IP: 1.2.3.4:80x"]
--- response_body eval
[("127.0.0.1\n") x 7]



=== TEST 3: an untrusted client keeps its address
--- config
    set_real_ip_from 10.0.0.0/8;
    set_real_ip_from ::1;
    location /t {
        return 200 "$remote_addr $realip_remote_addr\n";
    }
--- request
GET /t
--- more_headers
X-Real-IP: 1.2.3.4
--- response_body
127.0.0.1 127.0.0.1



=== TEST 4: X-Forwarded-For: the last entry, several lines being one list
--- config
    set_real_ip_from 127.0.0.1;
    set_real_ip_from 10.0.0.0/8;
    real_ip_header X-Forwarded-For;
    location /t {
        return 200 "$remote_addr\n";
    }
--- request eval
[("GET /t") x 4]
--- more_headers eval
["X-Forwarded-For: 5.6.7.8, 10.1.1.1", "X-Forwarded-For: 5.6.7.8,10.1.1.1 , ",
 "X-Forwarded-For: 5.6.7.8\nX-Forwarded-For: 10.1.1.1", "X-Forwarded-For: 10.1.1.1, bogus"]
--- response_body eval
["10.1.1.1\n", "10.1.1.1\n", "10.1.1.1\n", "127.0.0.1\n"]



=== TEST 5: real_ip_recursive: the last address that is not trusted
--- config
    set_real_ip_from 127.0.0.1;
    set_real_ip_from 10.0.0.0/8;
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
    location /t {
        return 200 "$remote_addr\n";
    }
--- request eval
[("GET /t") x 6]
--- more_headers eval
["X-Forwarded-For: 1.1.1.1, 5.6.7.8, 10.1.1.1, 10.2.2.2", "X-Forwarded-For: 10.3.3.3, 10.1.1.1",
 "X-Forwarded-For: bogus, 10.1.1.1", "X-Forwarded-For: 5.6.7.8\nX-Forwarded-For: 10.1.1.1",
 "X-Forwarded-For: 5.6.7.8, 10.9.9.9\nX-Forwarded-For: 10.1.1.1", "X-Forwarded-For: 9.9.9.9, 8.8.8.8\nX-Forwarded-For: 7.7.7.7"]
--- response_body eval
["5.6.7.8\n", "10.3.3.3\n", "10.1.1.1\n", "5.6.7.8\n", "5.6.7.8\n", "7.7.7.7\n"]



=== TEST 6: any other header: its first line
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Client-Address;
    location /t {
        return 200 "$remote_addr\n";
    }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["x-client-address: 9.9.9.9", "X-Client-Address: 9.9.9.9\nX-Client-Address: 8.8.8.8\nX-Real-IP: 7.7.7.7"]
--- response_body eval
["9.9.9.9\n", "9.9.9.9\n"]



=== TEST 7: location settings apply in the preaccess phase, after the location's rewrites
--- config
    location /early {
        set_real_ip_from 127.0.0.1;
        return 200 "$remote_addr\n";
    }
    location /late {
        set_real_ip_from 127.0.0.1;
        try_files /nonexistent /echo;
    }
    location = /echo {
        return 200 "$remote_addr $remote_port\n";
    }
--- request eval
["GET /early", "GET /late"]
--- more_headers
X-Real-IP: 1.2.3.4:99
--- response_body eval
["127.0.0.1\n", "1.2.3.4 99\n"]



=== TEST 8: allow/deny and the error log see the new address
--- config
    location /t {
        set_real_ip_from 127.0.0.1;
        deny 1.2.3.4;
    }
--- request
GET /t
--- more_headers
X-Real-IP: 1.2.3.4
--- error_code: 403
--- error_log eval
qr/\[error\] .*access forbidden by rule, client: 1\.2\.3\.4, server: localhost/



=== TEST 9: once per request: server settings win, and an internal redirect does not apply it again
--- config
    set_real_ip_from 127.0.0.1;
    set_real_ip_from 10.0.0.0/8;
    real_ip_header X-Forwarded-For;
    location /recursive {
        real_ip_recursive on;
        try_files /nonexistent /echo;
    }
    location /again {
        real_ip_header X-Second;
        set_real_ip_from 5.6.7.8;
        try_files /nonexistent /echo;
    }
    location /loc {
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Second;
        try_files /nonexistent /echo;
    }
    location = /echo {
        set_real_ip_from 10.1.1.1;
        real_ip_header X-Third;
        try_files /nonexistent /echo2;
    }
    location = /echo2 {
        return 200 "$remote_addr\n";
    }
--- request eval
["GET /recursive", "GET /again", "GET /again", "GET /loc"]
--- more_headers eval
["X-Forwarded-For: 5.6.7.8, 10.1.1.1", "X-Second: 4.4.4.4\nX-Third: 3.3.3.3",
 "X-Forwarded-For: 10.1.1.1\nX-Third: 3.3.3.3", "X-Second: 10.1.1.1\nX-Third: 3.3.3.3"]
--- response_body eval
["10.1.1.1\n", "127.0.0.1\n", "10.1.1.1\n", "10.1.1.1\n"]



=== TEST 10: the next request on the connection has the connection's own address
--- config
    location /t {
        set_real_ip_from 127.0.0.1;
        try_files /nonexistent /echo;
    }
    location = /echo {
        return 200 "$remote_addr\n";
    }
    location = /plain {
        return 200 "$remote_addr\n";
    }
--- pipelined_requests eval
["GET /t", "GET /plain", "GET /t"]
--- more_headers
X-Real-IP: 1.2.3.4
--- response_body eval
["1.2.3.4\n", "127.0.0.1\n", "1.2.3.4\n"]



=== TEST 11: "unix:" trusts unix-domain clients; $realip_remote_addr is then "unix:"
--- http_config
    server {
        listen unix:$TEST_NGINX_SERVROOT/realip.sock;
        set_real_ip_from unix:;
        location / {
            return 200 "$remote_addr $realip_remote_addr [$realip_remote_port]\n";
        }
    }
--- config
    location /t {
        proxy_pass http://unix:$TEST_NGINX_SERVROOT/realip.sock;
        proxy_set_header X-Real-IP 9.9.9.9;
    }
--- request
GET /t
--- response_body
9.9.9.9 unix: []



=== TEST 12: a host name stands for its addresses
--- config
    set_real_ip_from localhost;
    location /t {
        return 200 "$remote_addr\n";
    }
--- request
GET /t
--- more_headers
X-Real-IP: 1.2.3.4
--- response_body
1.2.3.4



=== TEST 13: host bits set beyond the mask are a warning
--- config
    set_real_ip_from 127.0.0.1/8;
    location /t {
        return 200 "$remote_addr\n";
    }
--- request
GET /t
--- more_headers
X-Real-IP: 1.2.3.4
--- response_body
1.2.3.4
--- init
    # the warning comes while the config is read, before the error log is open: on stderr
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[warn\] .*low address bits of 127\.0\.0\.1\/8 are meaningless in .*\.conf:\d+$/m,
                     'low bits warning');



=== TEST 14: a name that does not resolve
--- config
    set_real_ip_from no-such-host.invalid;
--- must_die
--- error_log eval
qr/\[emerg\] .*host not found in set_real_ip_from "no-such-host\.invalid" in .*\.conf:\d+/



=== TEST 15: a mask too long is no address, so a host name
--- config
    set_real_ip_from 10.0.0.0/33;
--- must_die
--- error_log eval
qr/\[emerg\] .*host not found in set_real_ip_from "10\.0\.0\.0\/33" in .*\.conf:\d+/



=== TEST 16: real_ip_header is duplicate
--- config
    real_ip_header X-Real-IP;
    real_ip_header X-Forwarded-For;
--- must_die
--- error_log eval
qr/\[emerg\] .*"real_ip_header" directive is duplicate in .*\.conf:\d+/



=== TEST 17: real_ip_recursive is a flag
--- config
    real_ip_recursive yes;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "yes" in "real_ip_recursive" directive, it must be "on" or "off" in .*\.conf:\d+/



=== TEST 18: real_ip_header proxy_protocol on a connection without the PROXY protocol changes nothing
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header proxy_protocol;
    location /t { return 200 "$remote_addr [$proxy_protocol_addr]\n"; }
--- request
GET /t
--- more_headers
X-Real-IP: 1.2.3.4
--- response_body
127.0.0.1 []
