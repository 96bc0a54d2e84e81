# Choosing the virtual server: listen addresses and ports, server_name forms
# (exact, wildcards, regex), their precedence, the default server, the Host
# header's forms, and $server_name / $host.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/111-server-select.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;

# a second port for the blocks that listen on two
our $port2 = env_port('TEST_NGINX_PORT2');

# One request to 127.0.0.1:$port2, returns the whole response; bounded wait.
sub get2 {
    my ($path, $host) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port2,
                                  Proto => 'tcp', Timeout => 3)
        or return "connect failed: $!";
    $s->autoflush(1);
    print $s "GET $path HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n";
    my $resp = '';
    my $deadline = time + 5;
    $s->blocking(1);
    local $SIG{ALRM} = sub { die "timeout\n" };
    eval {
        alarm 5;
        while (time < $deadline) {
            my $n = sysread($s, my $buf, 65536);
            last unless $n;
            $resp .= $buf;
        }
        alarm 0;
    };
    alarm 0;
    return $resp;
}

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: exact names choose among servers on one address
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name a.test;
        return 200 "a $server_name $host\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name b.test alias-b.test;
        return 200 "b $server_name $host\n";
    }
--- config
    location / { return 200 "localhost $server_name $host\n"; }
--- request eval
["GET http://a.test/", "GET http://alias-b.test/", "GET http://localhost/", "GET http://other.test/"]
--- response_body eval
["a a.test a.test\n", "b b.test alias-b.test\n", "localhost localhost localhost\n",
 "a a.test other.test\n"]



=== TEST 2: leading wildcard "*.example.com" takes subdomains only
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name *.example.com;
        return 200 "wild $server_name\n";
    }
--- request eval
["GET http://www.example.com/", "GET http://a.b.example.com/", "GET http://example.com/"]
--- response_body eval
["wild *.example.com\n", "wild *.example.com\n", "default\n"]



=== TEST 3: ".example.com" is "example.com" and "*.example.com" at once
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name .example.com;
        return 200 "dot $server_name\n";
    }
--- request eval
["GET http://example.com/", "GET http://x.example.com/", "GET http://badexample.com/"]
--- response_body eval
["dot example.com\n", "dot example.com\n", "default\n"]



=== TEST 4: trailing wildcard "www.example.*"
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name www.example.*;
        return 200 "tail\n";
    }
--- request eval
["GET http://www.example.org/", "GET http://www.example.co.uk/", "GET http://www.example/"]
--- response_body eval
["tail\n", "tail\n", "default\n"]



=== TEST 5: regex server name with a numbered and a named capture
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name ~^(?<sub>\w+)\.example\.net$;
        return 200 "regex $1 $sub\n";
    }
--- request eval
["GET http://shop.example.net/", "GET http://a.b.example.net/", "GET http://example.net/"]
--- response_body eval
["regex shop shop\n", "default\n", "default\n"]



=== TEST 6: a location regex without groups empties the server name's captures
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name ~^(\w+)\.example\.net$;
        location / { return 200 "[$1]\n"; }
        location ~ \.png$ { return 200 "png [$1]\n"; }
    }
--- more_headers
Host: shop.example.net
--- request eval
["GET /a", "GET /a.png"]
--- response_body eval
["[shop]\n", "png []\n"]



=== TEST 7: precedence: exact, then the longest leading wildcard, then trailing, then regex
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name ~^www\. ~example;
        return 200 "regex\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name www.*;
        return 200 "tail\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name *.example.com;
        return 200 "short head\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name *.a.example.com;
        return 200 "long head\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name www.a.example.com;
        return 200 "exact\n";
    }
--- request eval
["GET http://www.a.example.com/", "GET http://x.a.example.com/", "GET http://www.example.com/", "GET http://www.example.org/", "GET http://my.example.org/", "GET http://nothing.test/"]
--- response_body eval
["exact\n", "long head\n", "short head\n", "tail\n", "regex\n", "default\n"]



=== TEST 8: regex server names are tried in config order
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name ~^api\.;
        return 200 "first\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name ~\.test$;
        return 200 "second\n";
    }
--- request eval
["GET http://api.test/", "GET http://www.test/"]
--- response_body eval
["first\n", "second\n"]



=== TEST 9: the first server of an address is its default
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name first.test;
        return 200 "first $server_name\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name second.test;
        return 200 "second\n";
    }
--- more_headers
Host: unknown.test
--- request
GET /
--- response_body
first first.test



=== TEST 10: "default_server" overrides the order
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name first.test;
        return 200 "first\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT default_server;
        server_name second.test;
        return 200 "second $host\n";
    }
--- more_headers
Host: unknown.test
--- request
GET /
--- response_body
second unknown.test



=== TEST 11: two default servers for one address is a config error
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT default_server;
        server_name first.test;
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT default_server;
        server_name second.test;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*a duplicate default server for 127\.0\.0\.1:\d+ in .*:\d+/



=== TEST 12a: Host with a port
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name Example.COM;
        return 200 "example $server_name $host $http_host\n";
    }
--- more_headers
Host: example.com:8080
--- request
GET /
--- response_body
example example.com example.com example.com:8080



=== TEST 12b: Host with a trailing dot
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name Example.COM;
        return 200 "example $server_name $host $http_host\n";
    }
--- more_headers
Host: example.com.
--- request
GET /
--- response_body
example example.com example.com example.com.



=== TEST 12c: Host in capitals; the config name is lowercased too
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name Example.COM;
        return 200 "example $server_name $host $http_host\n";
    }
--- more_headers
Host: EXAMPLE.Com
--- request
GET /
--- response_body
example example.com example.com EXAMPLE.Com



=== TEST 12d: Host in capitals with a trailing dot and a port
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name Example.COM;
        return 200 "example $server_name $host $http_host\n";
    }
--- more_headers
Host: EXAMPLE.COM.:81
--- request
GET /
--- response_body
example example.com example.com EXAMPLE.COM.:81



=== TEST 13: server_name "" takes requests without a Host
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name nohost.test "";
        return 200 "nohost [$host] [$server_name]\n";
    }
--- raw_request eval
"GET / HTTP/1.0\r\n\r\n"
--- response_body
nohost [nohost.test] [nohost.test]



=== TEST 14: without a Host and without server_name "" the default server answers; $host is its name
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test other.test;
        return 200 "default [$host] [$server_name]\n";
    }
--- raw_request eval
"GET / HTTP/1.0\r\n\r\n"
--- response_body
default [default.test] [default.test]



=== TEST 15: an absolute request URI names the server instead of the Host header
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name abs.test;
        return 200 "abs $host $uri\n";
    }
--- raw_request eval
"GET http://ABS.test:99/p?q HTTP/1.1\r\nHost: default.test\r\nConnection: close\r\n\r\n"
--- response_body
abs abs.test /p



=== TEST 16: conflicting server name on one address: a warning, the first server keeps it
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name dup.test;
        return 200 "first\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name dup.test;
        return 200 "second\n";
    }
--- init
    # the warning comes while the config is read, before the error log is open: on stderr
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[warn\] .*conflicting server name "dup\.test" on 127\.0\.0\.1:$ServerPort, ignored$/m,
                     'conflicting server name warning on stderr of -t');
--- more_headers
Host: dup.test
--- request
GET /
--- response_body
first



=== TEST 17: the same name on two addresses of one port does not conflict; the address wins
--- http_config
    server {
        listen $TEST_NGINX_SERVER_PORT default_server;
        server_name localhost;
        return 200 "wildcard address\n";
    }
--- config
    location / { return 200 "specific address $server_addr\n"; }
--- request
GET /
--- response_body
specific address 127.0.0.1
--- no_error_log
conflicting server name



=== TEST 18: a server on two ports; names are chosen per port
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        server_name both.test;
        return 200 "both $server_name $server_port\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        server_name only2.test;
        return 200 "only2 $server_port\n";
    }
--- init
    my $r = main::get2('/', 'only2.test');
    Test::More::like($r, qr/\r\n\r\nonly2 $main::port2\n\z/, 'second port: its own server');
    $r = main::get2('/', 'both.test');
    Test::More::like($r, qr/\r\n\r\nboth both\.test $main::port2\n\z/, 'second port: shared server');
    $r = main::get2('/', 'localhost');
    Test::More::like($r, qr/\r\n\r\nboth both\.test $main::port2\n\z/,
                     'second port: its default is its first server');
--- request eval
["GET http://only2.test/", "GET http://both.test/"]
--- response_body eval
["both both.test $Test::Moongate::ServerPort\n", "both both.test $Test::Moongate::ServerPort\n"]



=== TEST 19: a star inside a name is invalid when the address has several servers
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name www.*.example.com;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid server name or wildcard "www\.\*\.example\.com" on 127\.0\.0\.1:\d+$/



=== TEST 19b: ... and goes unnoticed on an address with a single server, as in nginx
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        server_name www.*.example.com;
    }
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 19c: a leading star without a dot is invalid at once
--- config
    server_name *example.com;
--- must_die
--- error_log
server name "*example.com" is invalid



=== TEST 20: $server_name is the first name of the chosen server, also for a wildcard match
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name main.test *.main.test;
        return 200 "$server_name|$host\n";
    }
--- more_headers
Host: Deep.Sub.Main.test
--- request
GET /
--- response_body
main.test|deep.sub.main.test



=== TEST 21: $server_name and $host of a server named by a regex only, without Host
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name ~^(\w+)\.ex\.net$;
        return 200 "[$server_name][$host]\n";
    }
--- raw_request eval
"GET / HTTP/1.0\r\n\r\n"
--- response_body
[~^(\w+)\.ex\.net$][~^(\w+)\.ex\.net$]



=== TEST 22: a server without server_name: both empty
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        return 200 "[$server_name][$host]\n";
    }
--- raw_request eval
"GET / HTTP/1.0\r\n\r\n"
--- response_body
[][]



=== TEST 22b: a server without server_name is named "": a request without a Host picks it over the default
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT default_server;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        return 200 "unnamed [$server_name]\n";
    }
--- raw_request eval
"GET / HTTP/1.0\r\n\r\n"
--- response_body
unnamed []



=== TEST 22c: two servers without server_name on one address conflict over "", as in nginx
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name default.test;
        return 200 "default\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        return 200 "first\n";
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        return 200 "second\n";
    }
--- init
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[warn\] .*conflicting server name "" on 127\.0\.0\.1:$ServerPort, ignored$/m,
                     'conflicting server name "" warning on stderr of -t');
--- raw_request eval
"GET / HTTP/1.0\r\n\r\n"
--- response_body
first



=== TEST 28: a server_name named capture survives the index's internal redirect
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name ~^(?<sub>\w+)\.example\.net$;
        location / { index index.html; }
        location = /index.html { return 200 "[$sub]\n"; }
    }
--- user_files
>>> index.html
unused
--- more_headers
Host: shop.example.net
--- request
GET /
--- response_body
[shop]
