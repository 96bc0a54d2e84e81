# upstream{} configuration: every directive and parameter accepted, and each bad value or
# error with nginx's exact wording and FILE:LINE (run with TEST_MOONGATE_BINARY=/usr/sbin/nginx:
# every block passes there too, except the unix: one, which nginx accepts).
#
# Faulty lines go to conf/bad.conf (section "bad_conf"), included from the level "include_in"
# names (http here); %F in "error_log" is that file's path.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

use_bad_conf_blocks();

run_tests();

__DATA__

=== TEST 1: every server parameter, balancers, keepalive settings
--- http_config
upstream rr {
    server 127.0.0.1:1 weight=5 max_fails=3 fail_timeout=30s;
    server 127.0.0.1:2 weight=1 max_fails=0 fail_timeout=1h;
    server 127.0.0.1:3 backup;
    server 127.0.0.1:4 down;
    server [::1]:5;
    server localhost:6;
    server 127.0.0.1;
    keepalive 16;
    keepalive_requests 100;
    keepalive_timeout 30s;
    keepalive_time 1h;
}
upstream lc { least_conn; server 127.0.0.1:1; server 127.0.0.1:2 backup; }
upstream h { hash $request_uri; server 127.0.0.1:1 weight=2; server 127.0.0.1:2 down; }
upstream ch { hash "$host$uri" consistent; server 127.0.0.1:1; server 127.0.0.1:2; }
upstream ih { ip_hash; server 127.0.0.1:1; server 127.0.0.1:2 max_fails=2; }
upstream Mixed_Case { server 127.0.0.1:1; }
--- config
location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- no_error_log
[emerg]



=== TEST 2: duplicate upstream
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1:1; }
upstream b { server 127.0.0.1:2; }
--- error_log
duplicate upstream "b" in %F:2



=== TEST 3: duplicate upstream, names differ in case
--- include_in: http
--- bad_conf
upstream Back { server 127.0.0.1:1; }
upstream back { server 127.0.0.1:2; }
--- error_log
duplicate upstream "back" in %F:2



=== TEST 4: no servers are inside upstream
--- include_in: http
--- bad_conf
upstream b {
    keepalive 2;
}
--- error_log
no servers are inside upstream in %F:3



=== TEST 5: only backup servers
--- include_in: http
--- bad_conf
upstream b
{
    server 127.0.0.1:1 backup;
}
--- error_log
no servers in upstream "b" in %F:2



=== TEST 6: host not found
--- include_in: http
--- bad_conf
upstream b {
    server nosuch.invalid:8080;
}
--- error_log
host not found in upstream "nosuch.invalid:8080" in %F:2



=== TEST 7: port 0
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1:0; }
--- error_log
invalid port in upstream "127.0.0.1:0" in %F:1



=== TEST 8: port too large
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1:65536; }
--- error_log
invalid port in upstream "127.0.0.1:65536" in %F:1



=== TEST 9: two ports
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1:80:80; }
--- error_log
invalid port in upstream "127.0.0.1:80:80" in %F:1



=== TEST 10: no host
--- include_in: http
--- bad_conf
upstream b { server :80; }
--- error_log
no host in upstream ":80" in %F:1



=== TEST 11: a URI in a server address
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1:80/x; }
--- error_log
invalid host in upstream "127.0.0.1:80/x" in %F:1



=== TEST 12: a scheme in a server address
--- include_in: http
--- bad_conf
upstream b { server http://127.0.0.1; }
--- error_log
invalid host in upstream "http://127.0.0.1" in %F:1



=== TEST 13: unclosed IPv6 bracket
--- include_in: http
--- bad_conf
upstream b { server [::1; }
--- error_log
invalid host in upstream "[::1" in %F:1



=== TEST 14: bad IPv6 address
--- include_in: http
--- bad_conf
upstream b { server [zz]:80; }
--- error_log
invalid IPv6 address in upstream "[zz]:80" in %F:1



=== TEST 15: weight=0
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 weight=0; }
--- error_log
invalid parameter "weight=0" in %F:1



=== TEST 16: weight=x
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 weight=x; }
--- error_log
invalid parameter "weight=x" in %F:1



=== TEST 17: weight= empty
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 weight=; }
--- error_log
invalid parameter "weight=" in %F:1



=== TEST 18: max_fails=-1
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 max_fails=-1; }
--- error_log
invalid parameter "max_fails=-1" in %F:1



=== TEST 19: max_fails overflow
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 max_fails=99999999999999999999; }
--- error_log
invalid parameter "max_fails=99999999999999999999" in %F:1



=== TEST 20: fail_timeout in ms
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 fail_timeout=5ms; }
--- error_log
invalid parameter "fail_timeout=5ms" in %F:1



=== TEST 21: fail_timeout empty
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 fail_timeout=; }
--- error_log
invalid parameter "fail_timeout=" in %F:1



=== TEST 22: unknown server parameter
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 foo; }
--- error_log
invalid parameter "foo" in %F:1



=== TEST 23: parameters are case-sensitive
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1 Backup; }
--- error_log
invalid parameter "Backup" in %F:1



=== TEST 24: server without an address
--- include_in: http
--- bad_conf
upstream b { server; }
--- error_log
invalid number of arguments in "server" directive in %F:1



=== TEST 25: upstream without a name
--- include_in: http
--- bad_conf
upstream { server 127.0.0.1; }
--- error_log
invalid number of arguments in "upstream" directive in %F:1



=== TEST 26: upstream with two names
--- include_in: http
--- bad_conf
upstream b c { server 127.0.0.1; }
--- error_log
invalid number of arguments in "upstream" directive in %F:1



=== TEST 27: location inside upstream
--- include_in: http
--- bad_conf
upstream b {
    server 127.0.0.1;
    location / { }
}
--- error_log
"location" directive is not allowed here in %F:3



=== TEST 28: hash: backup not supported
--- include_in: http
--- bad_conf
upstream b {
    hash $uri;
    server 127.0.0.1 backup;
}
--- error_log
balancing method does not support parameter "backup" in %F:3



=== TEST 29: ip_hash: backup not supported
--- include_in: http
--- bad_conf
upstream b {
    ip_hash;
    server 127.0.0.1 backup;
}
--- error_log
balancing method does not support parameter "backup" in %F:3



=== TEST 30: hash: bad second parameter
--- include_in: http
--- bad_conf
upstream b { hash $uri foo; server 127.0.0.1; }
--- error_log
invalid parameter "foo" in %F:1



=== TEST 31: hash without a key
--- include_in: http
--- bad_conf
upstream b { hash; server 127.0.0.1; }
--- error_log
invalid number of arguments in "hash" directive in %F:1



=== TEST 32: hash: unclosed variable
--- include_in: http
--- bad_conf
upstream b { hash "${uri"; server 127.0.0.1; }
--- error_log
the closing bracket in "uri" variable is missing in %F:1



=== TEST 33: ip_hash takes no argument
--- include_in: http
--- bad_conf
upstream b { ip_hash 1; server 127.0.0.1; }
--- error_log
invalid number of arguments in "ip_hash" directive in %F:1



=== TEST 34: least_conn takes no argument
--- include_in: http
--- bad_conf
upstream b { least_conn 1; server 127.0.0.1; }
--- error_log
invalid number of arguments in "least_conn" directive in %F:1



=== TEST 35: keepalive 0
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1; keepalive 0; }
--- error_log
invalid value "0" in "keepalive" directive in %F:1



=== TEST 36: keepalive twice
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1; keepalive 2; keepalive 3; }
--- error_log
"keepalive" directive is duplicate in %F:1



=== TEST 37: keepalive_requests not a number
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1; keepalive_requests x; }
--- error_log
"keepalive_requests" directive invalid number in %F:1



=== TEST 38: keepalive_timeout bad
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1; keepalive_timeout x; }
--- error_log
"keepalive_timeout" directive invalid value in %F:1



=== TEST 39: keepalive_timeout twice
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1; keepalive_timeout 1s; keepalive_timeout 2s; }
--- error_log
"keepalive_timeout" directive is duplicate in %F:1



=== TEST 40: keepalive_time bad
--- include_in: http
--- bad_conf
upstream b { server 127.0.0.1; keepalive_time 1y; }
--- error_log
"keepalive_time" directive invalid value in %F:1


