# proxy_cookie_flags as nginx 1.22 applies it (found by running both servers on the same
# lines): the flags of a rule add up whatever their order, a flag named with its "no" form is
# set, Strict wins over Lax over None; a regex cookie name ("~re") matches without regard to
# case, and "~*re" is no form of its own for a cookie name or a domain (the '*' is the
# regex's: an error), as it is for a path. moongate took the last SameSite word or the "no"
# form, matched a regex name with case, and took "~*" as a caseless regex.
#
#   TEST_MOONGATE_SERVROOT=/tmp/sr-x prove -I t/lib t/841-proxy-cookie-flags-case.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/841-proxy-cookie-flags-case.t
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

use Test::MoongateBackend;

# the upstream answers with the Set-Cookie lines the client sent in X-C and X-D (then one of its
# own, "second=2", that these blocks leave alone)
cookie_upstream();

run_tests();

__DATA__

=== TEST 1: a flag and its "no" form in one rule: the flag, in either order; several SameSites: Strict, then Lax, then None
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_flags c samesite=none nosamesite;
        proxy_cookie_flags d nosamesite samesite=strict;
        proxy_cookie_flags e secure nosecure;
        proxy_cookie_flags f nosecure secure;
        proxy_cookie_flags n nohttponly httponly;
        proxy_cookie_flags j samesite=lax samesite=strict;
        proxy_cookie_flags k samesite=strict samesite=lax;
        proxy_cookie_flags l samesite=none samesite=lax;
        proxy_cookie_flags m samesite=lax samesite=none;
    }
--- request eval
[("GET /") x 6]
--- more_headers eval
["X-C: c=1; SameSite=Lax\nX-D: c=1", "X-C: d=1; SameSite=Lax\nX-D: d=1",
 "X-C: e=1; Secure\nX-D: e=1", "X-C: f=1; Secure\nX-D: n=1; HttpOnly",
 "X-C: j=1\nX-D: k=1", "X-C: l=1\nX-D: m=1"]
--- raw_response_headers_like eval
["Set-Cookie: c=1; SameSite=None\r\nSet-Cookie: c=1; SameSite=None\r\n",
 "Set-Cookie: d=1; SameSite=Strict\r\nSet-Cookie: d=1; SameSite=Strict\r\n",
 "Set-Cookie: e=1; Secure\r\nSet-Cookie: e=1; Secure\r\n",
 "Set-Cookie: f=1; Secure\r\nSet-Cookie: n=1; HttpOnly\r\n",
 "Set-Cookie: j=1; SameSite=Strict\r\nSet-Cookie: k=1; SameSite=Strict\r\n",
 "Set-Cookie: l=1; SameSite=Lax\r\nSet-Cookie: m=1; SameSite=Lax\r\n"]



=== TEST 2: a regex cookie name matches without regard to case
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_flags ~^G samesite=strict;
        proxy_cookie_flags ~^h samesite=none;
    }
--- request eval
[("GET /") x 2]
--- more_headers eval
["X-C: G=1\nX-D: g=1", "X-C: H=1\nX-D: h=1"]
--- raw_response_headers_like eval
["Set-Cookie: G=1; SameSite=Strict\r\nSet-Cookie: g=1; SameSite=Strict\r\n",
 "Set-Cookie: H=1; SameSite=None\r\nSet-Cookie: h=1; SameSite=None\r\n"]



=== TEST 3: the words without regard to case; the first SameSite set (kept as written when it says that already), the others left; flags present kept as written
--- config
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2;
        proxy_cookie_flags a SECURE HttpOnly SameSite=LAX;
        proxy_cookie_flags b samesite=lax;
    }
--- request eval
[("GET /") x 5]
--- more_headers eval
["X-C: a=1\nX-D: A=2; SECURE; httponly; samesite=lax",
 "X-C: b=1; samesite=lax\nX-D: b=1; SameSite=LAX",
 "X-C: b=1; SameSite=Strict; samesite=none\nX-D: b=1;samesite = strict",
 "X-C: b=1; SameSite\nX-D: b=1; samesite=Lax; SameSite=None",
 "X-C: a=1; secure=; httponly=x\nX-D: a=1 ; Secure ;HttpOnly"]
--- raw_response_headers_like eval
["Set-Cookie: a=1; Secure; HttpOnly; SameSite=Lax\r\nSet-Cookie: A=2; SECURE; httponly; samesite=lax\r\n",
 "Set-Cookie: b=1; samesite=lax\r\nSet-Cookie: b=1; SameSite=LAX\r\n",
 "Set-Cookie: b=1; SameSite=Lax; samesite=none\r\nSet-Cookie: b=1; SameSite=Lax\r\n",
 "Set-Cookie: b=1; SameSite=Lax\r\nSet-Cookie: b=1; samesite=Lax; SameSite=None\r\n",
 "Set-Cookie: a=1; secure=; httponly=x; SameSite=Lax\r\nSet-Cookie: a=1; Secure; HttpOnly; SameSite=Lax\r\n"]



=== TEST 4: "~*" before a cookie name's regex: the '*' is the regex's
--- config
    location / {
        proxy_cookie_flags ~*^a secure;
    }
--- must_die
--- error_log eval
qr/pcre2_compile\(\) failed: quantifier does not follow a repeatable item in "\*\^a" at "\*\^a" in \S+:\d+/



=== TEST 5: "~*" before a domain's regex: the same
--- config
    location / {
        proxy_cookie_domain ~*x.com y;
    }
--- must_die
--- error_log eval
qr/pcre2_compile\(\) failed: quantifier does not follow a repeatable item in "\*x\.com" at "\*x\.com" in \S+:\d+/
