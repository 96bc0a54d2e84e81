# geo: longest-prefix lookup over IPv4 and IPv6 networks, ranges, default, delete, include,
# the address from a variable or the client, addresses nginx cannot read (looked up as
# 255.255.255.255), trusted proxies with X-Forwarded-For (last address, or with
# proxy_recursive the last untrusted one), and the warnings and errors nginx gives.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/161-geo.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: the longest prefix wins; delete removes exactly one network; values are text
--- http_config
    geo $arg_ip $g {
        default        def;
        127.0.0.0/8    lo8;
        127.0.0.1      lo1;
        10.0.0.0/8     ten;
        10.1.0.0/16    ten-one;
        10.1.2.0/24    ten-one-two;
        delete         10.1.2.0/24;
        192.168.0.0/16 $not_a_variable;
    }
--- config
    location /t { return 200 "[$g]\n"; }
--- request eval
["GET /t?ip=127.0.0.1", "GET /t?ip=127.9.9.9", "GET /t?ip=10.1.2.3", "GET /t?ip=10.2.0.1",
 "GET /t?ip=192.168.7.7", "GET /t?ip=8.8.8.8", "GET /t?ip=0127.0.0.1"]
--- response_body eval
["[lo1]\n", "[lo8]\n", "[ten-one]\n", "[ten]\n", "[\$not_a_variable]\n", "[def]\n", "[lo1]\n"]



=== TEST 2: IPv6 networks; an IPv4-mapped address is looked up as IPv4
--- http_config
    geo $arg_ip $g {
        default          def;
        ::1              v6-lo;
        2001:db8::/32    doc;
        2001:db8:1::/48  doc-one;
        10.0.0.0/8       ten;
    }
--- config
    location /t { return 200 "[$g]\n"; }
--- request eval
["GET /t?ip=::1", "GET /t?ip=2001:db8:1::5", "GET /t?ip=2001:db8:2::5", "GET /t?ip=2002::1",
 "GET /t?ip=::ffff:10.1.2.3", "GET /t?ip=::10.1.2.3"]
--- response_body eval
["[v6-lo]\n", "[doc-one]\n", "[doc]\n", "[def]\n", "[ten]\n", "[def]\n"]



=== TEST 3: an address nginx cannot read is looked up as 255.255.255.255
--- http_config
    geo $arg_ip $g { default def; 255.255.255.255 unusable; 1.2.3.4 one; }
    geo $arg_ip $h { default def; 0.0.0.0/0 any-v4; }
--- config
    location /t { return 200 "[$g] [$h]\n"; }
--- request eval
["GET /t?ip=1.2.3.4", "GET /t?ip=foo", "GET /t?ip=127.1", "GET /t?ip=1.2.3.4/8", "GET /t",
 "GET /t?ip=[::1]"]
--- response_body eval
["[one] [any-v4]\n", "[unusable] [any-v4]\n", "[unusable] [any-v4]\n", "[unusable] [any-v4]\n",
 "[unusable] [any-v4]\n", "[unusable] [any-v4]\n"]



=== TEST 4: without a default the value is empty; the client's address by default
--- http_config
    geo $g { 10.0.0.0/8 ten; }
    geo $client { default other; 127.0.0.1 local; }
--- config
    location /t { return 200 "[$g] [$client]\n"; }
--- request
GET /t
--- response_body
[] [local]



=== TEST 5: include inside the block (one file, no glob)
--- http_config
    geo $arg_ip $g {
        default d;
        include geo-nets/a.conf;
    }
--- user_files
>>> ../conf/geo-nets/a.conf
10.2.0.0/16    from-file;
192.168.2.0/24 from-file-too;
--- config
    location /t { return 200 "[$g]\n"; }
--- request eval
["GET /t?ip=10.2.3.4", "GET /t?ip=192.168.2.9", "GET /t?ip=192.168.3.9"]
--- response_body eval
["[from-file]\n", "[from-file-too]\n", "[d]\n"]



=== TEST 6: include takes no glob in geo
--- http_config
    geo $arg_ip $g {
        include geo-nets/*.conf;
    }
--- user_files
>>> ../conf/geo-nets/a.conf
10.2.0.0/16    from-file;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*open\(\) "\S+\/conf\/geo-nets\/\*\.conf" failed \(2: No such file or directory\) in \S+\.conf:\d+/



=== TEST 7: ranges: a range inside an earlier one splits it; delete; default; ranges across /16 blocks
--- http_config
    geo $arg_ip $r {
        ranges;
        default                   rdef;
        10.0.0.0-10.0.0.255       r1;
        10.0.0.10-10.0.0.20       r2;
        10.0.0.5-10.0.0.5         r3;
        10.0.1.0-10.0.1.255       gone;
        delete                    10.0.1.0-10.0.1.255;
        172.16.0.0-172.18.255.254 wide;
        172.17.0.5-172.17.0.5     hole;
    }
--- config
    location /t { return 200 "[$r]\n"; }
--- request eval
["GET /t?ip=10.0.0.4", "GET /t?ip=10.0.0.5", "GET /t?ip=10.0.0.6", "GET /t?ip=10.0.0.15",
 "GET /t?ip=10.0.0.21", "GET /t?ip=10.0.1.1", "GET /t?ip=172.17.200.1", "GET /t?ip=172.17.0.5",
 "GET /t?ip=172.18.255.255", "GET /t?ip=::ffff:10.0.0.15", "GET /t?ip=::1", "GET /t?ip=foo"]
--- response_body eval
["[r1]\n", "[r3]\n", "[r1]\n", "[r2]\n", "[r1]\n", "[rdef]\n", "[wide]\n", "[hole]\n",
 "[rdef]\n", "[r2]\n", "[rdef]\n", "[rdef]\n"]



=== TEST 8: a trusted proxy: the last X-Forwarded-For address counts; an unreadable one keeps the client's
--- http_config
    geo $g {
        default   other;
        127.0.0.1 local;
        10.0.0.0/8 ten;
        proxy     127.0.0.1;
    }
--- config
    location /t { return 200 "[$g]\n"; }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-Forwarded-For: 10.0.0.1", "X-Forwarded-For: 10.0.0.1, 1.2.3.4", "X-Forwarded-For: 1.2.3.4, 10.0.0.1",
 "X-Forwarded-For: foo", "X-Forwarded-For: 10.0.0.1:8080", "X-Forwarded-For: [1.2.3.4]",
 "X-Forwarded-For: 1.2.3.4,10.0.0.1, ", "Connection: close"]
--- response_body eval
["[ten]\n", "[other]\n", "[ten]\n", "[local]\n", "[ten]\n", "[local]\n", "[ten]\n", "[local]\n"]



=== TEST 9: only the last X-Forwarded-For line without proxy_recursive
--- http_config
    geo $g { default other; 10.0.0.0/8 ten; proxy 127.0.0.1; proxy 10.0.0.0/8; }
--- config
    location /t { return 200 "[$g]\n"; }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Forwarded-For: 10.0.0.1\nX-Forwarded-For: 1.2.3.4", "X-Forwarded-For: 1.2.3.4\nX-Forwarded-For: 10.0.0.1"]
--- response_body eval
["[other]\n", "[ten]\n"]



=== TEST 10: proxy_recursive: the last untrusted address, across lines; stops at one it cannot read
--- http_config
    geo $g {
        default    other;
        127.0.0.1  local;
        10.0.0.0/8 ten;
        proxy      127.0.0.1;
        proxy      10.0.0.0/8;
        proxy_recursive;
    }
--- config
    location /t { return 200 "[$g]\n"; }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-Forwarded-For: 1.2.3.4, 10.0.0.1, 10.0.0.2", "X-Forwarded-For: 10.0.0.3, 10.0.0.1",
 "X-Forwarded-For: foo, 10.0.0.1", "X-Forwarded-For: 1.2.3.4\nX-Forwarded-For: 10.0.0.1",
 "X-Forwarded-For: 1.2.3.4, 127.0.0.1"]
--- response_body eval
["[other]\n", "[ten]\n", "[ten]\n", "[other]\n", "[other]\n"]



=== TEST 11: proxies apply to an address taken from a variable (an IPv4-mapped one too), and in ranges mode
--- http_config
    geo $arg_ip $g { ranges; default other; 10.0.0.0-10.0.0.255 ten; 192.168.0.0-192.168.0.255 proxy-net; proxy 192.168.0.0/16; }
--- config
    location /t { return 200 "[$g]\n"; }
--- request eval
["GET /t?ip=192.168.1.1", "GET /t?ip=10.0.0.7", "GET /t?ip=::ffff:192.168.1.1"]
--- more_headers eval
["X-Forwarded-For: 10.0.0.9", "X-Forwarded-For: 192.168.0.1", "X-Forwarded-For: 10.0.0.9"]
--- response_body eval
["[ten]\n", "[ten]\n", "[ten]\n"]



=== TEST 12: warnings: duplicates (the "old value" is what the network's first address got), host bits, deleting what is not there
--- http_config
    geo $g {
        1.2.3.0/24 a;
        1.2.3.0/24 b;
        10.0.0.0/8 ten;
        10.0.0.0/16 ten-zero;
        10.0.0.0/8 ten-again;
        5.6.7.8/16 c;
        delete     9.9.9.0/24;
        default    x;
        default    y;
    }
    geo $r {
        ranges;
        10.0.0.0-10.0.0.9 a;
        10.0.0.0-10.0.0.9 b;
        delete 10.0.0.1-10.0.0.2;
        default x;
        default y;
    }
    geo $stop { ranges; 1.2.3.4 a; }
--- config
--- must_die
--- error_log eval
[qr/\[warn\] .*duplicate network "1\.2\.3\.0\/24", value: "b", old value: "a" in \S+\.conf:\d+/,
 qr/\[warn\] .*duplicate network "10\.0\.0\.0\/8", value: "ten-again", old value: "ten-zero" in \S+\.conf:\d+/,
 qr/\[warn\] .*low address bits of 5\.6\.7\.8\/16 are meaningless in \S+\.conf:\d+/,
 qr/\[warn\] .*no network "9\.9\.9\.0\/24" to delete in \S+\.conf:\d+/,
 qr/\[warn\] .*duplicate network "default", value: "y", old value: "x" in \S+\.conf:\d+/,
 qr/\[warn\] .*duplicate range "10\.0\.0\.0-10\.0\.0\.9", value: "b", old value: "a" in \S+\.conf:\d+/,
 qr/\[warn\] .*no address range "10\.0\.0\.1-10\.0\.0\.2" to delete in \S+\.conf:\d+/,
 qr/\[warn\] .*duplicate default geo range value: "y", old value: "x" in \S+\.conf:\d+/,
 qr/\[emerg\] .*invalid range "1\.2\.3\.4" in \S+\.conf:\d+/]



=== TEST 13: a bad network
--- http_config
    geo $g { 1.2.3.300 a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid network "1\.2\.3\.300" in \S+\.conf:\d+/



=== TEST 14: a prefix too long
--- http_config
    geo $g { 2001:db8::/129 a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid network "2001:db8::\/129" in \S+\.conf:\d+/



=== TEST 15: a range backwards
--- http_config
    geo $g { ranges; 10.0.0.9-10.0.0.1 a; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid range "10\.0\.0\.9-10\.0\.0\.1" in \S+\.conf:\d+/



=== TEST 16: ranges that overlap without one holding the other
--- http_config
    geo $g { ranges; 10.0.0.0-10.0.0.100 a; 10.0.0.50-10.0.0.150 b; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*range "10\.0\.0\.50-10\.0\.0\.150" overlaps "10\.0\.0\.0-10\.0\.0\.100" in \S+\.conf:\d+/



=== TEST 17: ranges comes first
--- http_config
    geo $g { default a; ranges; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*the "ranges" directive must be the first directive inside "geo" block in \S+\.conf:\d+/



=== TEST 18: three words on a line
--- http_config
    geo $g { 1.2.3.4 a b; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of the geo parameters in \S+\.conf:\d+/



=== TEST 19: a proxy that is no network
--- http_config
    geo $g { proxy localhost; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid network "localhost" in \S+\.conf:\d+/



=== TEST 20: the address must be a $variable
--- http_config
    geo remote_addr $g { }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid variable name "remote_addr" in \S+\.conf:\d+/



=== TEST 21: geo's argument count and context
--- http_config
    geo $a $b $c { }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "geo" directive in \S+\.conf:\d+/



=== TEST 22: geo belongs to http{}
--- config
    geo $g { }
--- must_die
--- error_log eval
qr/\[emerg\] .*"geo" directive is not allowed here in \S+\.conf:\d+/
