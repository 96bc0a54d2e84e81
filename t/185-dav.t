# dav (ngx_http_dav_module): PUT (through a temporary file renamed into place: dav_access's
# modes, create_full_put_path, the Date header's time, bodies larger than the body buffer),
# DELETE (Depth, min_delete_depth), MKCOL, COPY and MOVE (Destination, Overwrite, Depth), with
# nginx's statuses and error-log lines, methods not listed left to static, and the directives'
# errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/185-dav.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Digest::MD5 ();

plan 'no_plan';

# a body filter (runs once the response is in) that reports files' modes: "path=octal ..."
sub modes {
    my @paths = @_;
    return sub {
        my $m = join ' ', map {
            my @s = stat("$Test::Moongate::HtmlDir/$_");
            @s ? sprintf("%s=%o", $_, $s[2] & 07777) : "$_=none"
        } @paths;
        return "$_[0]$m";
    };
}

our $Big = join '', map { chr(($_ * 7 + ($_ >> 8)) % 256) } 1 .. 300000;
our $BigMd5 = Digest::MD5::md5_hex($Big);
our $Tree = [["a/b/c/f.txt", "f\n"], ["a/g.txt", "gg\n"], ["h.txt", "hhh\n"]];

run_tests();

__DATA__

=== TEST 1: PUT creates (201, Location) then replaces (204) a file with dav_access's mode
--- config
    location / {
        dav_methods PUT;
        dav_access group:rw all:r;
    }
--- request eval
["PUT /new.txt\nhello", "PUT /new.txt\nhello again", "GET /new.txt"]
--- error_code eval
[201, 204, 200]
--- response_headers_like eval
["Location: http://localhost(:\\d+)?/new.txt\nContent-Length: 0", "", ""]
--- response_headers eval
["", "!Location", ""]
--- response_body_filters eval
[sub { $_[0] }, sub { $_[0] }, ::modes("new.txt")]
--- response_body eval
["", "", "hello againnew.txt=664"]



=== TEST 2: dav_access: user rw unless named, x on directories wherever r
--- config
    location /r/ { dav_methods PUT MKCOL; dav_access user:r; }
    location /a/ { dav_methods PUT MKCOL; dav_access all:r; }
    location /d/ { dav_methods PUT MKCOL; }
    location = /check { return 200; }
--- user_files
>>> r/.keep
>>> a/.keep
>>> d/.keep
--- request eval
["PUT /r/f\nx", "MKCOL /r/dir/", "PUT /a/f\nx", "MKCOL /a/dir/", "PUT /d/f\nx", "MKCOL /d/dir/",
 "GET /check"]
--- error_code eval
[201, 201, 201, 201, 201, 201, 200]
--- response_body_filters eval
[(sub { $_[0] }) x 6, ::modes("r/f", "r/dir", "a/f", "a/dir", "d/f", "d/dir")]
--- response_body eval
[("") x 6, "r/f=400 r/dir=500 a/f=604 a/dir=705 d/f=600 d/dir=700"]



=== TEST 3: create_full_put_path makes the directories (with dav_access's modes); without it the rename fails
--- config
    location /full/ { dav_methods PUT; create_full_put_path on; dav_access user:rw group:r; }
    location /nofull/ { dav_methods PUT; }
    location = /check { return 200; }
--- request eval
["PUT /full/p/q/c.txt\nfull", "PUT /nofull/p/c.txt\nx", "GET /check"]
--- error_code eval
[201, 500, 200]
--- response_body_filters eval
[sub { "" }, sub { "" }, ::modes("full/p", "full/p/q", "full/p/q/c.txt", "nofull/p")]
--- response_body eval
["", "", "full/p=750 full/p/q=750 full/p/q/c.txt=640 nofull/p=none"]
--- error_log eval
qr{\[crit\] .*rename\(\) ".*/\d{10}" to ".*/html/nofull/p/c\.txt" failed \(2: No such file or directory\)}



=== TEST 4: a body larger than client_body_buffer_size, by length and chunked; Date sets the file's time
--- config
    client_body_buffer_size 8k;
    location / { dav_methods PUT; }
--- request eval
["PUT /big\n$::Big", "GET /big", "PUT /dated\nd", "GET /dated"]
--- more_headers eval
["", "", "Date: Sun, 13 Sep 2020 12:26:40 GMT", ""]
--- error_code eval
[201, 200, 201, 200]
--- response_headers eval
["", "Content-Length: 300000", "", "Last-Modified: Sun, 13 Sep 2020 12:26:40 GMT"]
--- response_body_filters eval
[sub { $_[0] }, sub { Digest::MD5::md5_hex($_[0]) }, sub { $_[0] }, sub { $_[0] }]
--- response_body eval
["", $::BigMd5, "", "d"]



=== TEST 5: a chunked body
--- config
    location / { dav_methods PUT; }
--- raw_request eval
["PUT /chunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
 "GET /chunked HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"]
--- error_code eval
[201, 200]
--- response_body eval
["", "hello world"]



=== TEST 6: PUT refusals: to a collection, with a range, onto a directory, without a length; an empty body is a file
--- config
    location / { dav_methods PUT; }
--- user_files
>>> dir/x.txt
x
--- request eval
["PUT /dir/\nx", "PUT /r.txt\nx", "PUT /dir\nx", "PUT /nolength", "PUT /empty"]
--- more_headers eval
["", "Content-Range: bytes 0-0/1", "", "", "Content-Length: 0"]
--- error_code eval
[409, 501, 409, 500, 201]
--- error_log eval
["cannot PUT to a collection", "PUT with range is unsupported",
 qr{\[error\] .*"[^"]*/html/dir" could not be created \(21: Is a directory\)},
 "PUT request body must be in a file"]



=== TEST 7: methods dav_methods does not list are static's (405); off in a nested location
--- config
    location / {
        dav_methods DELETE;
        location /off/ { dav_methods off; }
    }
--- user_files
>>> a.txt
a
>>> off/b.txt
b
--- request eval
["PUT /a.txt\nx", "DELETE /off/b.txt", "DELETE /a.txt", "GET /a.txt", "GET /off/b.txt"]
--- error_code eval
[405, 405, 204, 404, 200]



=== TEST 8: DELETE: files and trees, Depth, a body, a missing file, a directory named without its slash
--- config
    location / { dav_methods DELETE; }
--- user_files eval
$::Tree
--- request eval
["DELETE /h.txt", "DELETE /none", "DELETE /a", "DELETE /a/", "DELETE /a/g.txt",
 "DELETE /a/g.txt", "DELETE /a/g.txt\nbody", "DELETE /a/g.txt/", "DELETE /a/", "GET /a/b/c/f.txt"]
--- more_headers eval
["", "", "", "Depth: 0", "Depth: 1", "Depth: many", "", "", "Depth: infinity", ""]
--- error_code eval
[204, 404, 409, 400, 400, 400, 415, 409, 204, 404]
--- error_log eval
[qr{\[error\] .*lstat\(\) ".*/html/none" failed \(2: No such file or directory\)},
 qr{\[error\] .*DELETE ".*/html/a" failed \(21: Is a directory\)},
 '"Depth" header must be infinity', '"Depth" header must be 0 or infinity',
 'client sent invalid "Depth" header: "many"', "DELETE with body is unsupported",
 qr{lstat\(\) ".*/html/a/g\.txt/" failed \(20: Not a directory\)}]



=== TEST 9: min_delete_depth counts the URI's slashes, one more for a collection
--- config
    location / { dav_methods DELETE; min_delete_depth 2; }
--- user_files
>>> x/y/f
>>> x/g
>>> h
--- request eval
["DELETE /h", "DELETE /x/", "DELETE /x/g", "DELETE /x/y/"]
--- error_code eval
[409, 409, 204, 204]
--- error_log eval
["insufficient URI depth:1 to DELETE", "insufficient URI depth:2 to DELETE"]



=== TEST 10: MKCOL: created (Location), existing, not a collection, no parent, with a body
--- config
    location / { dav_methods MKCOL; }
--- request eval
["MKCOL /d/", "MKCOL /d/", "MKCOL /e", "MKCOL /x/y/", "MKCOL /f/\nbody"]
--- error_code eval
[201, 405, 409, 409, 415]
--- response_headers_like eval
["Location: http://localhost(:\\d+)?/d/", "", "", "", ""]
--- error_log eval
[qr{mkdir\(\) ".*/html/d" failed \(17: File exists\)}, "MKCOL can create a collection only",
 qr{mkdir\(\) ".*/html/x/y" failed \(2: No such file or directory\)},
 "MKCOL with body is unsupported"]



=== TEST 11: COPY a file: Destination as a path or this server's URL, Overwrite
--- config
    location / { dav_methods COPY; }
--- user_files eval
$::Tree
--- request eval
["COPY /h.txt", "COPY /h.txt", "COPY /a/g.txt", "COPY /a/g.txt", "COPY /a/g.txt", "GET /c1.txt",
 "GET /c2.txt", "GET /h.txt"]
--- more_headers eval
["Destination: /c1.txt", "Destination: http://localhost/c2.txt", "Destination: /h.txt\nOverwrite: F",
 "Destination: /h.txt\nOverwrite: maybe", "Destination: /h.txt\nOverwrite: T", "", "", ""]
--- error_code eval
[204, 204, 412, 400, 204, 200, 200, 200]
--- response_body eval
["", "", "", "", "", "hhh\n", "hhh\n", "gg\n"]
--- response_body_filters eval
[(sub { $_[0] }) x 2, sub { $_[0] =~ /412 Precondition Failed/ ? "" : $_[0] },
 sub { $_[0] =~ /400 Bad Request/ ? "" : $_[0] }, (sub { $_[0] }) x 4]
--- error_log eval
[qr{\[error\] .*"[^"]*/html/h\.txt" could not be created \(17: File exists\)},
 'client sent invalid "Overwrite" header: "maybe"']



=== TEST 12: COPY refusals: no or foreign Destination, unsafe, collection mismatch, Depth, a body
--- config
    location / { dav_methods COPY; }
--- user_files eval
$::Tree
--- request eval
["COPY /h.txt", "COPY /h.txt", "COPY /h.txt", "COPY /h.txt", "COPY /h.txt", "COPY /h.txt",
 "COPY /a/", "COPY /h.txt\nbody"]
--- more_headers eval
["", "Destination: http://example.com/x", "Destination: https://localhost/x", "Destination: x.txt",
 "Destination: /x/../y", "Destination: /d/", "Destination: /b/\nDepth: 1", "Destination: /z"]
--- error_code eval
[400, 400, 400, 400, 400, 409, 400, 415]
--- error_log eval
['client sent no "Destination" header',
 '"Destination" URI "http://example.com/x" is handled by different repository than the source URI',
 'client sent invalid "Destination" header: "https://localhost/x"',
 'client sent invalid "Destination" header: "x.txt"',
 'unsafe URI "/x/../y" was detected', 'client sent invalid "Destination" header: "/x/../y"',
 'both URI "/h.txt" and "Destination" URI "/d/" should be either collections or non-collections',
 '"Depth" header must be 0 or infinity', "COPY and MOVE with body are unsupported"]



=== TEST 13: COPY a tree (201), over an existing one, not over it with Overwrite: F
--- config
    location / { dav_methods COPY; }
--- user_files eval
[@$::Tree, ["e/old.txt", "old"]]
--- request eval
["COPY /a/", "COPY /a/", "COPY /a/", "GET /b/b/c/f.txt", "GET /e/g.txt", "GET /e/old.txt"]
--- more_headers eval
["Destination: /b/", "Destination: /e/", "Destination: /e/\nOverwrite: F", "", "", ""]
--- error_code eval
[201, 201, 412, 200, 200, 404]



=== TEST 14: MOVE a file (makes the destination's directories) and a tree; Depth must be infinity
--- config
    location / { dav_methods MOVE; }
--- user_files eval
$::Tree
--- request eval
["MOVE /h.txt", "MOVE /a/", "MOVE /m/", "GET /new/dir/h.txt", "GET /h.txt", "GET /m/b/c/f.txt"]
--- more_headers eval
["Destination: /new/dir/h.txt", "Destination: /m/", "Destination: /n/\nDepth: 0", "", "", ""]
--- error_code eval
[204, 201, 400, 200, 404, 200]
--- error_log
"Depth" header must be infinity



=== TEST 15: bad dav_methods, dav_access and min_delete_depth values; a repeated method warns
--- config
    location / { dav_methods PUT PUT; }
    location /x/ { dav_methods GET; }
--- must_die
--- error_log eval
[qr/\[warn\] .*duplicate value "PUT" in .*moongate\.conf:\d+/,
 qr/\[emerg\] .*invalid value "GET" in .*moongate\.conf:\d+/]



=== TEST 16: dav_access takes user, group and all with r or rw
--- config
    location / { dav_access group:w; }
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "group:w" in .*moongate\.conf:\d+/



=== TEST 17: min_delete_depth is a number
--- config
    location / { min_delete_depth x; }
--- must_die
--- error_log
"min_delete_depth" directive invalid number in



=== TEST 18: dav_methods is not allowed in "if"
--- config
    location / { if ($arg_x) { dav_methods PUT; } }
--- must_die
--- error_log
"dav_methods" directive is not allowed here in



=== TEST 19: a created file's Location has nginx's URI escaping: " < > \ ^ ` { | } ? # % and spaces as %XX, ' ~ as they are
--- config
    location / { dav_methods PUT; }
--- request eval
"PUT /a%22b%3Cc%3Ed%5Ce%5Ef%60g%7Bh%7Ci%7Dj%3Fk%23l%25m%20n'o~p\nx"
--- error_code: 201
--- response_headers_like
Location: http://localhost(:\d+)?/a%22b%3Cc%3Ed%5Ce%5Ef%60g%7Bh%7Ci%7Dj%3Fk%23l%25m%20n'o~p$
