# map: exact keys without case, "\" escapes, regexes in order with their captures, ~*,
# values with variables, default, hostnames masks (exact, *.x, .x, x.*; longest first; the
# trailing dot), volatile, include, the variable's laziness and caching, set over a map,
# map_hash_* checks as nginx builds its hash, and the configuration errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/160-map.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: exact keys match without case; default; "\" escapes a special name; the empty key
--- http_config
    map $arg_k $m {
        default     def;
        Foo         exact-foo;
        \default    escaped;
        ""          empty;
    }
--- config
    location /t { return 200 "[$m]\n"; }
--- request eval
["GET /t?k=foo", "GET /t?k=FOO", "GET /t?k=default", "GET /t?k=%5Cdefault", "GET /t?k=", "GET /t", "GET /t?k=fo"]
--- response_body eval
["[exact-foo]\n", "[exact-foo]\n", "[escaped]\n", "[def]\n", "[empty]\n", "[empty]\n", "[def]\n"]



=== TEST 2: regexes in order, the first match wins; ~* ignores case; captures in the value
--- http_config
    map $arg_k $m {
        default              none;
        ~^x                  first;
        ~^xy                 second;
        ~^re(\d+)$           "re-$1";
        ~*^CI(?<word>[a-z]+)$ "ci-$1-$word";
    }
--- config
    location /t { return 200 "[$m]\n"; }
--- request eval
["GET /t?k=xyz", "GET /t?k=re12", "GET /t?k=re12x", "GET /t?k=ciAbc", "GET /t?k=CIABC", "GET /t?k=Xyz"]
--- response_body eval
["[first]\n", "[re-12]\n", "[none]\n", "[ci-Abc-Abc]\n", "[ci-ABC-ABC]\n", "[none]\n"]



=== TEST 3: no regex is tried on an empty value
--- http_config
    map $arg_k $m { default def; ~^$ matched-empty; ~.* any; }
--- config
    location /t { return 200 "[$m]\n"; }
--- request eval
["GET /t?k=", "GET /t?k=a"]
--- response_body eval
["[def]\n", "[any]\n"]



=== TEST 4: the map's match replaces $1 once the variable is read; an exact match leaves it
--- http_config
    map $arg_k $m { ~^re(\d+)$ "re-$1"; foo exact; }
--- config
    location /t {
        if ($uri ~ ^/t(.*)) { }
        return 200 "[$1] [$m] [$1]\n";
    }
--- request eval
["GET /t/zz?k=re5", "GET /t/zz?k=foo"]
--- response_body eval
["[5] [re-5] [5]\n", "[/zz] [exact] [/zz]\n"]



=== TEST 5: values with variables; a source made of several variables; maps of maps
--- http_config
    map $arg_a:$arg_b $pair { 1:2 one-two; ~^(.*):(.*)$ "b=$2,a=$1"; }
    map $arg_k $inner { default "in-$arg_k"; x "$arg_z!"; }
    map $arg_k $outer { default "out($inner)"; }
--- config
    location /pair { return 200 "[$pair]\n"; }
    location /chain { return 200 "[$outer]\n"; }
--- request eval
["GET /pair?a=1&b=2", "GET /pair?a=x&b=y", "GET /pair", "GET /chain?k=q", "GET /chain?k=x&z=zz"]
--- response_body eval
["[one-two]\n", "[b=y,a=x]\n", "[b=,a=]\n", "[out(in-q)]\n", "[out(zz!)]\n"]



=== TEST 6: no default and no match: an empty value, without a warning
--- http_config
    map $arg_k $m { a 1; }
--- config
    location /t { return 200 "[$m]\n"; }
--- request
GET /t?k=b
--- response_body
[]
--- no_error_log
uninitialized



=== TEST 7: hostnames: exact first, then the longest *.x / .x, then the longest x.*, then regexes
--- http_config
    map $http_host $h {
        hostnames;
        default           none;
        example.com       exact;
        *.example.com     star;
        *.a.example.com   star-a;
        .example.net      dot-net;
        www.*             www;
        www.example.*     www-example;
        ~^www\.ex         regex;
    }
--- config
    location /t { return 200 "[$h]\n"; }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Host: EXAMPLE.com", "Host: x.example.com", "Host: a.example.com", "Host: b.a.example.com",
 "Host: example.net", "Host: x.y.example.net", "Host: xexample.net", "Host: www.foo.org",
 "Host: www.example.org", "Host: www.example.com", "Host: www.example.com.", "Host: www"]
--- response_body eval
["[exact]\n", "[star]\n", "[star]\n", "[star-a]\n", "[dot-net]\n", "[dot-net]\n", "[none]\n",
 "[www]\n", "[www-example]\n", "[star]\n", "[star]\n", "[none]\n"]



=== TEST 8: a *.x mask does not match x itself; without hostnames a mask is a plain string
--- http_config
    map $arg_h $h { hostnames; *.w.com star; a.b.* tail2; }
    map $arg_h $plain { *.a.com literal; }
--- config
    location /h { return 200 "[$h]\n"; }
    location /p { return 200 "[$plain]\n"; }
--- request eval
["GET /h?h=w.com", "GET /h?h=.w.com", "GET /h?h=a.b", "GET /h?h=a.b.c", "GET /p?h=*.a.com", "GET /p?h=x.a.com"]
--- response_body eval
["[]\n", "[star]\n", "[]\n", "[tail2]\n", "[literal]\n", "[]\n"]



=== TEST 9: a map's value is cached for the request; volatile evaluates it at each use
--- http_config
    map $x $cached { default "c$x"; }
    map $x $vol { volatile; default "v$x"; }
--- config
    location /t {
        set $x 1;
        set $first "$cached $vol";
        set $x 2;
        return 200 "$first | $cached $vol\n";
    }
--- request
GET /t
--- response_body
c1 v1 | c1 v2



=== TEST 10: a variable named twice in one value has one value, even a volatile map's
--- http_config
    map $1 $rot { volatile; ~^(.)(.*)$ "$2$1"; }
--- config
    location /t {
        if ($arg_k ~ ^(.*)$) { }
        return 200 "$rot $rot\n";
    }
--- request
GET /t?k=abc
--- response_body
bca bca



=== TEST 11: a map's captures longer than the ones they replace in one value (nginx: 500)
--- http_config
    map $arg_k $long { ~^(.*)$ "$1"; }
--- config
    location /t {
        if ($uri ~ ^/t()) { }
        return 200 "[$1] [$long] [$1]\n";
    }
--- request
GET /t?k=a-rather-long-value-that-does-not-fit-where-an-empty-capture-was-measured
--- response_body
[a-rather-long-value-that-does-not-fit-where-an-empty-capture-was-measured] [a-rather-long-value-that-does-not-fit-where-an-empty-capture-was-measured] [a-rather-long-value-that-does-not-fit-where-an-empty-capture-was-measured]
--- moongate_only



=== TEST 12: set overrides a map's variable
--- http_config
    map $arg_k $m { default orig; }
--- config
    location /t { set $m changed; return 200 "[$m]\n"; }
--- request
GET /t
--- response_body
[changed]



=== TEST 13: include inside the block, relative to the configuration directory
--- http_config
    map $arg_k $m {
        default d;
        include map-keys/*.conf;
        local   here;
    }
--- user_files
>>> ../conf/map-keys/a.conf
fromfile   included;
~^inc(.)   "inc-$1";
--- config
    location /t { return 200 "[$m]\n"; }
--- request eval
["GET /t?k=FromFile", "GET /t?k=incX", "GET /t?k=local", "GET /t?k=z"]
--- response_body eval
["[included]\n", "[inc-X]\n", "[here]\n", "[d]\n"]



=== TEST 14: many exact keys in a hash smaller than nginx would want: it still works
--- http_config eval
"map_hash_max_size 16;\nmap \$arg_k \$m {\n" . CORE::join("", map { "    host$_.example.com v$_;\n" } 1..300) . "}\n"
--- config
    location /t { return 200 "[$m]\n"; }
--- request eval
["GET /t?k=host1.example.com", "GET /t?k=HOST300.example.com", "GET /t?k=host301.example.com"]
--- response_body eval
["[v1]\n", "[v300]\n", "[]\n"]



=== TEST 15: ... and nginx's warning about it (shown here beside a later error, as nginx prints it before its log is open)
--- http_config eval
"map_hash_max_size 16;\nmap \$arg_k \$m {\n" . CORE::join("", map { "    host$_.example.com v$_;\n" } 1..300) . "}\nmap_hash_max_size 16;\n"
--- config
--- must_die
--- error_log eval
[qr/\[warn\] .*could not build optimal map_hash, you should increase either map_hash_max_size: 16 or map_hash_bucket_size: 64; ignoring map_hash_bucket_size$/,
 qr/\[emerg\] .*"map_hash_max_size" directive is duplicate in \S+\.conf:\d+/]



=== TEST 16: duplicate keys conflict, without case (named in lowercase, as nginx)
--- http_config
    map $arg_k $m { abc 1; ABC 2; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*conflicting parameter "abc" in \S+\.conf:\d+/



=== TEST 17: hostnames: .x conflicts with x and with *.x
--- http_config
    map $host $m { hostnames; *.a.com 1; a.com 2; .a.com 3; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*conflicting parameter "\.a\.com" in \S+\.conf:\d+/



=== TEST 18: hostnames: a mask in the middle is invalid
--- http_config
    map $host $m { hostnames; www.*.com 1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid hostname or wildcard "www\.\*\.com" in \S+\.conf:\d+/



=== TEST 19: two defaults
--- http_config
    map $host $m { default 1; default 2; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate default map parameter in \S+\.conf:\d+/



=== TEST 20: a line with three words, and a lone word that is no parameter
--- http_config
    map $host $m { a 1 2; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of the map parameters in \S+\.conf:\d+/



=== TEST 21: the same for a lone unknown word
--- http_config
    map $host $m { hostname; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of the map parameters in \S+\.conf:\d+/



=== TEST 22: the result must be a $variable
--- http_config
    map $host m { a 1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid variable name "m" in \S+\.conf:\d+/



=== TEST 23: a built-in variable cannot be a map's
--- http_config
    map $host $uri { a 1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*the duplicate "uri" variable in \S+\.conf:\d+/



=== TEST 24: map belongs to http{}
--- config
    map $host $m { a 1; }
--- must_die
--- error_log eval
qr/\[emerg\] .*"map" directive is not allowed here in \S+\.conf:\d+/



=== TEST 25: map's argument count
--- http_config
    map $host { a 1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "map" directive in \S+\.conf:\d+/



=== TEST 26: a bad regex
--- http_config
    map $host $m { ~(a 1; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*pcre2_compile\(\) failed: missing closing parenthesis in "\(a" in \S+\.conf:\d+/



=== TEST 27: an unknown variable in a value
--- http_config
    map $host $m { a $no_such_variable; }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "no_such_variable" variable/



=== TEST 28: map_hash_max_size takes a number
--- http_config
    map_hash_max_size 1k;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"map_hash_max_size" directive invalid number in \S+\.conf:\d+/



=== TEST 29: map_hash_* after a map is a duplicate: the first map fixed the sizes
--- http_config
    map $host $m { a 1; }
    map_hash_bucket_size 128;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"map_hash_bucket_size" directive is duplicate in \S+\.conf:\d+/



=== TEST 30: map_hash_max_size 0 cannot hold a key
--- http_config
    map_hash_max_size 0;
    map $host $m { a 1; }
--- config
--- must_die
--- error_log
could not build map_hash, you should increase map_hash_max_size: 0



=== TEST 31: a key longer than the bucket (the size rounded up to the cache line)
--- http_config eval
"map_hash_bucket_size 60;\nmap \$host \$m { " . ("k" x 60) . " 1; }"
--- config
--- must_die
--- error_log
could not build map_hash, you should increase map_hash_bucket_size: 64



=== TEST 32: a bucket size nginx cannot use
--- http_config
    map_hash_bucket_size 65473;
    map $host $m { a 1; }
--- config
--- must_die
--- error_log
could not build map_hash, too large map_hash_bucket_size: 65536



=== TEST 33: a block inside map
--- http_config
    map $host $m { a { } }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*unexpected "\{" in \S+\.conf:\d+/



=== TEST 34: a map that needs itself stops 100 levels deep, as nginx: "cycle while evaluating variable"
--- http_config
    map $y $y { default a; }
    map $b $a { default "a$b"; }
    map $a $b { default "b$a"; }
--- config
    location /y { return 200 "[$y]\n"; }
    location /a { return 200 "[$a]\n"; }
--- request eval
["GET /y", "GET /a"]
--- response_body eval
["[a]\n", "[" . ("ab" x 50) . "]\n"]
--- error_log eval
[qr/\[error\] .*cycle while evaluating variable "y", client: /,
 qr/\[error\] .*cycle while evaluating variable "a", client: /]
