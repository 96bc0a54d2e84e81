# auth_basic_user_file's lines as nginx 1.22 reads them: a comment, an empty line, a line of
# blanks or one without "user:" are skipped without a word (moongate logged a warning for
# each line without a colon, on every request); CRLF ends a password; a hash scheme nginx does
# not know, or an empty one, goes to crypt(3) and matches nothing: "password mismatch", 401.
# A missing or unreadable file: t/171 (403 and 500).
#
#   TEST_MOONGATE_SERVROOT=/tmp/sr-x prove -I t/lib t/842-auth-basic-file-lines.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/842-auth-basic-file-lines.t
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use MIME::Base64;

log_level('info');

sub basic { 'Authorization: Basic ' . encode_base64($_[0], '') }

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => <<'_EOC_');
    root $TEST_NGINX_HTML_DIR;
    location /t/ {
        auth_basic "r";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/pw;
    }
_EOC_
    # a CRLF file: the lines nginx skips first, users with odd hashes after them
    $block->set_value(user_files => ">>> pw\r\n\r\n# c\r\nbob\r\nnocolon\r\n\r\n   \r\n"
        . "md5:{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==\r\nempty:\r\nx:{FOO}bar\r\ndollar:\$9\$zz\r\n"
        . "bob:{PLAIN}b\r\ntab\t:{PLAIN}t\r\nnocolon:{PLAIN}n\n>>> t/ok\nok\n");
});

run_tests();

__DATA__

=== TEST 1: the users after the lines nginx skips count; nothing is logged for those lines
--- request eval
[("GET /t/ok") x 3]
--- more_headers eval
[main::basic("bob:b"), main::basic("nocolon:n"), main::basic("tab\t:t")]
--- response_body eval
[("ok\n") x 3]
--- no_error_log
[warn]
[error]



=== TEST 2: schemes nginx does not know and an empty hash match nothing: 401, "password mismatch"
--- request eval
[("GET /t/ok") x 5]
--- more_headers eval
[main::basic("md5:secret"), main::basic("empty:"), main::basic("empty:x"), main::basic("x:bar"),
 main::basic("dollar:x")]
--- error_code eval
[(401) x 5]
--- response_headers eval
[('WWW-Authenticate: Basic realm="r"') x 5]
--- error_log eval
[qr/\[error\] .*user "md5": password mismatch, client: /, qr/user "empty": password mismatch/,
 qr/user "x": password mismatch/, qr/user "dollar": password mismatch/]
--- no_error_log
[warn]
[crit]



=== TEST 3: a user of blanks is no line's
--- request
GET /t/ok
--- more_headers eval
main::basic("   :x")
--- error_code: 401
--- error_log eval
qr/\[error\] .*user "   " was not found in ".*\/html\/pw", client: /
--- no_error_log
[warn]
