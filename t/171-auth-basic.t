# auth_basic, auth_basic_user_file (ngx_http_auth_basic_module): the password schemes
# (crypt(3) DES, MD5 and SHA-512, Apache's $apr1$, {PLAIN}, {SHA}, {SSHA}), the htpasswd
# format (comments, comments after the password, CRLF, a last line without LF), the 401 with
# WWW-Authenticate, $remote_user, "off", realms and file names with variables, inheritance,
# nginx's log lines, a missing file (403), an unreadable one (500), a malformed line (skipped,
# with a log line in moongate) and the configuration errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/171-auth-basic.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use MIME::Base64;

plan 'no_plan';
log_level('info');

sub basic { 'Authorization: Basic ' . encode_base64($_[0], '') }

our $Users = <<'EOF';
>>> htpasswd
# users with every scheme
des:abGt0/Tg9kP0g
md5:$1$s4lt$7VYLmWgDxBsVvtkfwRaD80
sha512:$6$s4ltsalt$mqvwt/wxYfV2KVmzFsawSDdSs.Z8uqV35qBFOb/XqfzesRGcDS/Z/DffjLEzTPSw3RPYPdx3EOhIjALhMgGc..
apr1:$apr1$AbCdEfGh$iMuzB58gqmMyUAx6XQLNp/
apr1long:$apr1$xy$KWmjAYxMqmqTjytotPjDu.
sha:{SHA}YRpDrEkEydF2E33VEs/ECjWuOlU=
ssha:{SSHA}iOJtJyIYH1Z6ZJT9YzwkI4/LNI4BAnNhbHR5
plain:{PLAIN}plainPw:a comment after the password
twice:{PLAIN}first
twice:{PLAIN}second
EOF

run_tests();

__DATA__

=== TEST 1: each scheme takes its password
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "closed site";
        auth_basic_user_file ../html/htpasswd;
    }
--- user_files eval
$::Users . ">>> t/ok\nok\n"
--- request eval
[("GET /t/ok") x 8]
--- more_headers eval
[main::basic("des:desPw"), main::basic("md5:md5Pw"), main::basic("sha512:sha512Pw"),
 main::basic("apr1:apr1Pw"), main::basic("apr1long:a much longer password than sixteen bytes"),
 main::basic("sha:shaPw"), main::basic("ssha:sshaPw"), main::basic("plain:plainPw")]
--- error_code eval
[(200) x 8]
--- response_body eval
[("ok\n") x 8]



=== TEST 2: a wrong password is a 401 with the challenge, whatever the scheme
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "closed site";
        auth_basic_user_file ../html/htpasswd;
    }
--- user_files eval
$::Users . ">>> t/ok\nok\n"
--- request eval
[("GET /t/ok") x 8]
--- more_headers eval
[main::basic("des:desPx"), main::basic("md5:md5Px"), main::basic("sha512:sha512Px"),
 main::basic("apr1:apr1Px"), main::basic("apr1long:a much longer password than sixteen byte"),
 main::basic("sha:shaPx"), main::basic("ssha:sshaPx"), main::basic("plain:plainPw:a")]
--- error_code eval
[(401) x 8]
--- response_headers eval
[("WWW-Authenticate: Basic realm=\"closed site\"") x 8]
--- response_body_like eval
[("<center><h1>401 Authorization Required</h1></center>") x 8]
--- error_log eval
[qr/\[error\] .*user "des": password mismatch, client: 127\.0\.0\.1, server: localhost, request: "GET \/t\/ok HTTP\/1\.1"/,
 qr/\[error\] .*user "apr1long": password mismatch/,
 qr/\[error\] .*user "ssha": password mismatch/,
 qr/\[error\] .*user "plain": password mismatch/]



=== TEST 3: the first line of a user decides
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file ../html/htpasswd;
    }
--- user_files eval
$::Users . ">>> t/ok\nok\n"
--- request eval
["GET /t/ok", "GET /t/ok"]
--- more_headers eval
[main::basic("twice:first"), main::basic("twice:second")]
--- error_code eval
[200, 401]



=== TEST 4: no credentials, an unknown user
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file ../html/htpasswd;
    }
--- user_files eval
$::Users . ">>> t/ok\nok\n"
--- request eval
["GET /t/ok", "GET /t/ok"]
--- more_headers eval
["", main::basic("nobody:x")]
--- error_code eval
[401, 401]
--- response_headers eval
[("WWW-Authenticate: Basic realm=\"r\"") x 2]
--- error_log eval
[qr/\[info\] .*no user\/password was provided for basic authentication, client: 127\.0\.0\.1/,
 qr/\[error\] .*user "nobody" was not found in ".*\/html\/htpasswd", client: 127\.0\.0\.1/]



=== TEST 5: credentials nginx does not read are no credentials
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    }
--- user_files
>>> pw
a:{PLAIN}b
>>> t/ok
ok
--- request eval
[("GET /t/ok") x 6]
--- more_headers eval
["Authorization: Digest username=\"a\"", "Authorization: Basic !!!!",
 main::basic("a"), main::basic(":b"), "Authorization: Basic ", "Authorization: basic " . MIME::Base64::encode_base64("a:b", "")]
--- error_code eval
[401, 401, 401, 401, 401, 200]
--- grep_error_log: no user/password was provided for basic authentication
--- grep_error_log_out eval
"no user/password was provided for basic authentication\n" x 5



=== TEST 6: $remote_user is the user of the credentials
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
        add_header X-User "[$remote_user]";
    }
--- user_files
>>> pw
alice:{PLAIN}secret
>>> t/ok
ok
--- request
GET /t/ok
--- more_headers eval
main::basic("alice:secret")
--- response_headers
X-User: [alice]



=== TEST 7: the file format: comments, CRLF, a comment after the password, no final LF
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    }
--- user_files eval
">>> pw\n#x:{PLAIN}hash\n\ncrlf:{PLAIN}c1\r\ncomment:{PLAIN}c2:not the password\n spaced:{PLAIN}c3\nlast:{PLAIN}c4"
. "\n>>> t/ok\nok\n"
--- request eval
[("GET /t/ok") x 7]
--- more_headers eval
[main::basic("#x:hash"), main::basic("crlf:c1"), main::basic("comment:c2"),
 main::basic("comment:c2:not the password"), main::basic("spaced:c3"), main::basic(" spaced:c3"),
 main::basic("last:c4")]
--- error_code eval
[401, 200, 200, 401, 401, 200, 200]



=== TEST 8: a malformed line is skipped: the users after it still count
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    }
--- user_files
>>> pw
bob
:{PLAIN}x
bob:{PLAIN}b
>>> t/ok
ok
--- request
GET /t/ok
--- more_headers eval
main::basic("bob:b")
--- response_body
ok



=== TEST 9: moongate names a malformed line it skips
--- moongate_only
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    }
--- user_files
>>> pw
# comment
bob
:{PLAIN}x
bob:{PLAIN}b
>>> t/ok
ok
--- request
GET /t/ok
--- more_headers eval
main::basic("bob:b")
--- response_body
ok
--- error_log eval
[qr/\[warn\] .*malformed line 2 in ".*\/html\/pw" skipped: no "user:password", client: 127\.0\.0\.1/,
 qr/\[warn\] .*malformed line 3 in ".*\/html\/pw" skipped/]



=== TEST 10: "auth_basic off" in a nested level; the settings are inherited
--- config
    root $TEST_NGINX_HTML_DIR;
    auth_basic "srv";
    auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    location /t/ {
        location /t/open/ {
            auth_basic off;
        }
    }
--- user_files
>>> pw
a:{PLAIN}b
>>> t/ok
ok
>>> t/open/ok
open
--- request eval
["GET /t/ok", "GET /t/open/ok"]
--- error_code eval
[401, 200]
--- response_headers eval
["WWW-Authenticate: Basic realm=\"srv\"", "!WWW-Authenticate"]



=== TEST 11: the realm and the file name with variables; a realm of "off" disables the check
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "$arg_realm";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/$arg_file;
    }
--- user_files
>>> pw1
a:{PLAIN}one
>>> pw2
a:{PLAIN}two
>>> t/ok
ok
--- request eval
["GET /t/ok?realm=R1&file=pw1", "GET /t/ok?realm=R2&file=pw2", "GET /t/ok?realm=R2&file=pw1",
 "GET /t/ok?realm=off&file=pw1"]
--- more_headers eval
[main::basic("a:one"), main::basic("a:two"), main::basic("a:two"), ""]
--- error_code eval
[200, 200, 401, 200]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", "WWW-Authenticate: Basic realm=\"R2\"", "!WWW-Authenticate"]



=== TEST 12: a relative file name with variables is relative to the configuration's directory
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file ../html/$arg_file;
    }
--- user_files
>>> pw1
a:{PLAIN}one
>>> t/ok
ok
--- request
GET /t/ok?file=pw1
--- more_headers eval
main::basic("a:one")
--- response_body
ok



=== TEST 13: a missing file is a 403
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/no-such-file;
    }
--- user_files
>>> t/ok
ok
--- request
GET /t/ok
--- more_headers eval
main::basic("a:b")
--- error_code: 403
--- error_log eval
qr/\[error\] .*open\(\) ".*\/html\/no-such-file" failed \(2: No such file or directory\), client: 127\.0\.0\.1/



=== TEST 14: a file that cannot be read is a 500
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/$arg_f;
    }
--- user_files
>>> t/ok
ok
--- init
    unlink "$HtmlDir/loop";
    symlink("loop", "$HtmlDir/loop") or die "symlink: $!";
--- request eval
["GET /t/ok?f=loop", "GET /t/ok?f=t"]
--- more_headers eval
[main::basic("a:b"), main::basic("a:b")]
--- error_code eval
[500, 500]
--- error_log eval
[qr/\[crit\] .*open\(\) ".*\/html\/loop" failed \(40: Too many levels of symbolic links\)/,
 qr/\[crit\] .*pread\(\) ".*\/html\/t" failed \(21: Is a directory\)/]



=== TEST 15: auth_basic inside limit_except applies to the other methods only
--- config
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        limit_except GET {
            auth_basic "writers";
            auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
        }
    }
--- user_files
>>> pw
a:{PLAIN}b
>>> t/ok
ok
--- request eval
["GET /t/ok", "DELETE /t/ok"]
--- error_code eval
[200, 401]
--- response_headers eval
["!WWW-Authenticate", "WWW-Authenticate: Basic realm=\"writers\""]



=== TEST 16: auth_basic is duplicate
--- config
    location /t {
        auth_basic a;
        auth_basic b;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_basic" directive is duplicate in .*\.conf:\d+/



=== TEST 17: auth_basic_user_file is duplicate
--- config
    location /t {
        auth_basic_user_file a;
        auth_basic_user_file b;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_basic_user_file" directive is duplicate in .*\.conf:\d+/



=== TEST 18: one argument exactly
--- config
    location /t {
        auth_basic;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "auth_basic" directive in .*\.conf:\d+/



=== TEST 19: an unknown variable in the file name
--- config
    location /t {
        auth_basic x;
        auth_basic_user_file /etc/$no_such_variable;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "no_such_variable" variable/



=== TEST 20: not inside "if"
--- config
    location /t {
        if ($arg_x) {
            auth_basic x;
        }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_basic" directive is not allowed here in .*\.conf:\d+/



=== TEST 21: two Authorization lines are a bad request
--- config
    location /t {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    }
--- user_files
>>> pw
a:{PLAIN}b
--- request
GET /t
--- more_headers eval
main::basic("a:b") . "\n" . main::basic("x:y")
--- error_code: 400
--- error_log eval
qr/\[info\] .*client sent duplicate header line: "Authorization: Basic eDp5", previous value: "Authorization: Basic YTpi"/
