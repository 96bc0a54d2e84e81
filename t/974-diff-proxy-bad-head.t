# proxy_pass against an upstream that misbehaves in its head (or ends early), as Debian's
# nginx 1.22 answers, logs ($status|$upstream_status|$upstream_addr|$upstream_response_length|
# $upstream_bytes_received) and words its error log: each upstream is a script that reads the
# request and writes fixed bytes.  The blocks marked moongate_only are where moongate is
# stricter on purpose (nginx 1.23+ is too for the framing ones): an interim 1xx is dropped, an
# unasked 101, Content-Length with Transfer-Encoding, an invalid Content-Length, an unknown
# Transfer-Encoding, a header line without a colon and two Content-Length values are a 502.
#
#   prove -I t/lib t/974-diff-proxy-bad-head.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/974-diff-proxy-bad-head.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

my $ok = "HTTP/1.1 200 OK\r\n";
my %script = (
    closed    => [],
    midhead   => ["HTTP/1.1 200 OK\r\nContent-Le"],
    shortlen  => ["${ok}Content-Length: 100\r\n\r\n0123456789"],
    shortchk  => ["${ok}Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n"],
    nul       => ["${ok}X-A: a\0b\r\nContent-Length: 2\r\n\r\nok"],
    fold      => ["${ok}X-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok"],
    spacename => ["${ok}X-A : a\r\nContent-Length: 2\r\n\r\nok"],
    big       => ["${ok}X-Big: " . ('a' x 5000) . "\r\nContent-Length: 2\r\n\r\nok"],
    nocontent => ["HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"],
    notmod    => ["HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello"],
    hello     => ["${ok}Content-Length: 5\r\n\r\nhello"],
    slowhead  => [3],
    slowlen   => ["${ok}Content-Length: 100\r\n\r\n0123456789", 3],
    slowchk   => ["${ok}Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n", 3],
    trailer   => ["${ok}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"],
    http10    => ["HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nhello"],
    interim   => ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                  . "${ok}Content-Length: 2\r\n\r\nok"],
    switch    => ["HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\nraw"],
    clte      => ["${ok}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"],
    badlen    => ["${ok}Content-Length: abc\r\n\r\nok"],
    gzipte    => ["${ok}Transfer-Encoding: gzip\r\n\r\nok"],
    nocolon   => ["${ok}NoColon\r\nContent-Length: 2\r\n\r\nok"],
    dupcl     => ["${ok}Content-Length: 2\r\nContent-Length: 3\r\n\r\nok"],
    samecl    => ["${ok}Content-Length: 2\r\nContent-Length: 2\r\n\r\nok"],
    http09    => ["hello world\n"],
    badsize   => ["${ok}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"],
    nocrlf    => ["${ok}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n"],
    badchunk  => ["${ok}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nhello\r\n0\r\n\r\n"],
);
backend($_ => 'script', read => 1, script => $script{$_}) for sort keys %script;

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF2' . ($b->http_config // ''));
    log_format d '$status|$upstream_status|$upstream_addr|$upstream_response_length|$upstream_bytes_received|$body_bytes_sent';
EOF2
    $b->set_value('request', "GET /x\n") unless defined $b->request;
    $b->set_value('config', ($b->config // '') . "\n    location = /x { return 200 \"x\\n\"; }\n");
});

run_tests();

__DATA__

=== TEST 1: the upstream closes before the head: 502, "prematurely closed" while reading the header
--- config
    location /u/ {
        access_log logs/a1.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_CLOSED_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a1.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 1: 502');
my $a = backend_addr('closed');
Test::More::like($l, qr/^502\|502\|$a\|0\|0\|\d+$/, 'TEST 1: logged');
--- error_log
upstream prematurely closed connection while reading response header from upstream
--- response_body
x



=== TEST 2: the upstream closes in the middle of the head: 502, the bytes it sent received
--- config
    location /u/ {
        access_log logs/a2.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_MIDHEAD_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a2.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 2: 502');
my $a = backend_addr('midhead');
Test::More::like($l, qr/^502\|502\|$a\|0\|27\|\d+$/, 'TEST 2: logged');
--- error_log
upstream prematurely closed connection while reading response header from upstream
--- response_body
x



=== TEST 3: closed in the middle of a Content-Length body, buffered: the head and the 10 bytes, then the close
--- config
    location /u/ {
        access_log logs/a3.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SHORTLEN_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a3.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*Content-Length: 100\n.*\n\n0123456789\z}s, 'TEST 3: truncated');
my $a = backend_addr('shortlen');
Test::More::like($l, qr/^200\|200\|$a\|10\|50\|10$/, 'TEST 3: logged');
--- error_log
upstream prematurely closed connection while reading upstream
--- response_body
x



=== TEST 4: the same unbuffered
--- config
    location /u/ {
        access_log logs/a4.log d;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SHORTLEN_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a4.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*Content-Length: 100\n.*\n\n0123456789\z}s, 'TEST 4: truncated');
my $a = backend_addr('shortlen');
Test::More::like($l, qr/^200\|200\|$a\|10\|50\|10$/, 'TEST 4: logged');
--- error_log
upstream prematurely closed connection while
--- response_body
x



=== TEST 5: closed in the middle of a chunked body: the chunk passed on, no last chunk
--- config
    location /u/ {
        access_log logs/a5.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SHORTCHK_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a5.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*Transfer-Encoding: chunked\n.*\n\na\n0123456789\n\z}s, 'TEST 5: truncated');
my $a = backend_addr('shortchk');
Test::More::like($l, qr/^200\|200\|$a\|15\|62\|15$/, 'TEST 5: logged');
--- error_log
upstream prematurely closed connection while reading upstream
--- response_body
x



=== TEST 6: the same unbuffered
--- config
    location /u/ {
        access_log logs/a6.log d;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SHORTCHK_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a6.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*Transfer-Encoding: chunked\n.*\n\na\n0123456789\n\z}s, 'TEST 6: truncated');
my $a = backend_addr('shortchk');
Test::More::like($l, qr/^200\|200\|$a\|15\|62\|15$/, 'TEST 6: logged');
--- error_log
upstream prematurely closed connection while
--- response_body
x



=== TEST 7: a NUL in a header value: 502, the line logged up to the NUL, then the NUL in hex
--- config
    location /u/ {
        access_log logs/a7.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_NUL_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a7.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 7: 502');
my $a = backend_addr('nul');
Test::More::like($l, qr/^502\|502\|$a\|0\|50\|\d+$/, 'TEST 7: logged');
--- error_log
upstream sent invalid header: "X-A: a\x00..." while reading response header from upstream
--- response_body
x



=== TEST 8: an obs-fold continuation line: 502, nothing before its space
--- config
    location /u/ {
        access_log logs/a8.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FOLD_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a8.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 8: 502');
--- error_log
upstream sent invalid header: "\x20..." while reading response header from upstream
--- response_body
x



=== TEST 9: a space before the colon: 502, the name up to the space
--- config
    location /u/ {
        access_log logs/a9.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SPACENAME_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a9.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 9: 502');
--- error_log
upstream sent invalid header: "X-A\x20..." while reading response header from upstream
--- response_body
x



=== TEST 10: a head larger than proxy_buffer_size: 502, "too big header"
--- config
    location /u/ {
        access_log logs/a10.log d;
        proxy_buffer_size 4k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a10.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 10: 502');
my $a = backend_addr('big');
Test::More::like($l, qr/^502\|502\|$a\|0\|\d+\|\d+$/, 'TEST 10: logged');
--- error_log
upstream sent too big header while reading response header from upstream
--- response_body
x



=== TEST 11: a 204 with a body: the body is not passed on, a warning, the bytes counted
--- config
    location /u/ {
        access_log logs/a11.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_NOCONTENT_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a11.log');
Test::More::like($r, qr{\AHTTP/1\.1 204 No Content\n.*\n\n\z}s, 'TEST 11: 204, no body');
my $a = backend_addr('nocontent');
Test::More::like($l, qr/^204\|204\|$a\|5\|51\|0$/, 'TEST 11: logged');
--- error_log
[warn]
upstream sent more data than specified in "Content-Length" header while reading upstream
--- response_body
x



=== TEST 12: a 304 with a body: the same
--- config
    location /u/ {
        access_log logs/a12.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_NOTMOD_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a12.log');
Test::More::like($r, qr{\AHTTP/1\.1 304 Not Modified\n.*\n\n\z}s, '304, no body');
my $a = backend_addr('notmod');
Test::More::like($l, qr/^304\|304\|$a\|5\|53\|0$/, 'TEST 12: logged');
--- error_log
upstream sent more data than specified in "Content-Length" header while reading upstream
--- response_body
x



=== TEST 13: a HEAD whose answer has a body: the head alone, no warning, the body not counted
--- config
    location /u/ {
        access_log logs/a13.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HELLO_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a13.log', "HEAD /u/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*Content-Length: 5\n.*\n\n\z}s, 'TEST 13: the head');
my $a = backend_addr('hello');
Test::More::like($l, qr/^200\|200\|$a\|0\|43\|0$/, 'TEST 13: logged');
--- no_error_log
[warn]
[error]
--- response_body
x



=== TEST 14: no head within proxy_read_timeout: 504
--- config
    location /u/ {
        access_log logs/a14.log d;
        proxy_read_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOWHEAD_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a14.log');
Test::More::like($r, qr{\AHTTP/1\.1 504 Gateway Time-out\n}, 'TEST 14: 504');
my $a = backend_addr('slowhead');
Test::More::like($l, qr/^504\|504\|$a\|0\|0\|\d+$/, 'TEST 14: logged');
--- error_log
upstream timed out (110: Connection timed out) while reading response header from upstream
--- no_error_log
temporarily disabled
--- response_body
x



=== TEST 15: proxy_read_timeout in the middle of a Content-Length body: the response is cut short (what of the body went out before differs: nginx's buffered pipe holds those bytes)
--- config
    location /u/ {
        access_log logs/a15.log d;
        proxy_read_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOWLEN_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a15.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*Content-Length: 100\n.*\n\n(?:0123456789)?\z}s, 'TEST 15: cut short');
my $a = backend_addr('slowlen');
Test::More::like($l, qr/^200\|200\|$a\|10\|50\|(?:0|10)$/, 'TEST 15: logged');
--- error_log
upstream timed out (110: Connection timed out) while reading upstream
--- response_body
x



=== TEST 16: proxy_read_timeout in the middle of a chunked body, unbuffered: the chunk went out, no last chunk
--- config
    location /u/ {
        access_log logs/a16.log d;
        proxy_buffering off;
        proxy_read_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOWCHK_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a16.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*Transfer-Encoding: chunked\n.*\n\na\n0123456789\n\z}s, 'TEST 16: no last chunk');
my $a = backend_addr('slowchk');
Test::More::like($l, qr/^200\|200\|$a\|15\|62\|15$/, 'TEST 16: logged');
--- error_log
upstream timed out (110: Connection timed out) while reading upstream
--- response_body
x



=== TEST 17: a chunked body with a trailer: the body, the trailer dropped
--- config
    location /u/ {
        access_log logs/a17.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_TRAILER_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a17.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\n5\nhello\n0\n\n\z}s, 'TEST 17: the body');
Test::More::unlike($r, qr/X-T/, 'TEST 17: no trailer');
my $a = backend_addr('trailer');
Test::More::like($l, qr/^200\|200\|$a\|23\|70\|15$/, 'TEST 17: logged');
--- no_error_log
[error]
--- response_body
x



=== TEST 18: an HTTP/1.0 answer without a length: up to the close, chunked to an HTTP/1.1 client
--- config
    location /u/ {
        access_log logs/a18.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HTTP10_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a18.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*Transfer-Encoding: chunked\n.*X-A: 1\n.*?\n5\nhello\n0\n\n\z}s, 'TEST 18: the body');
my $a = backend_addr('http10');
Test::More::like($l, qr/^200\|200\|$a\|5\|32\|15$/, 'TEST 18: logged');
--- no_error_log
[error]
--- response_body
x



=== TEST 19: no status line (HTTP/0.9): the bytes as they came, without a head; $status "009" as nginx's
--- config
    location /u/ {
        access_log logs/a19.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_HTTP09_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a19.log');
Test::More::is($r, "hello world\n", 'TEST 19: the bytes alone');
my $a = backend_addr('http09');
Test::More::like($l, qr/^009\|200\|$a\|12\|12\|12$/, 'TEST 19: logged');
--- error_log
upstream sent no valid HTTP/1.0 header while reading response header from upstream
--- response_body
x



=== TEST 20: unbuffered, a bad chunk size among what came with the head: logged in the head's context; the connection closes with nothing sent (the head held back for postpone_output is dropped, not flushed)
--- config
    location /u/ {
        access_log logs/a20.log d;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BADCHUNK_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a20.log');
Test::More::is($r, '', 'TEST 20: nothing');
my $a = backend_addr('badchunk');
Test::More::like($l, qr/^200\|200\|$a\|26\|73\|0$/, 'TEST 20: logged');
--- error_log
upstream sent invalid chunked response while reading response header from upstream
--- response_body
x



=== TEST 21: buffered, a bad chunk size or a chunk without its CRLF: nothing sent, the connection closed
--- config
    location /s/ {
        access_log logs/a21.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BADSIZE_PORT;
    }
    location /c/ {
        access_log logs/a21c.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_NOCRLF_PORT;
    }
--- init
my ($r, $l) = get_logged('/s/', 'a21.log');
Test::More::is($r, '', 'TEST 21: bad size: nothing');
my $a = backend_addr('badsize');
Test::More::like($l, qr/^200\|200\|$a\|16\|63\|0$/, 'TEST 21: bad size: logged');
($r, $l) = get_logged('/c/', 'a21c.log');
Test::More::is($r, '', 'TEST 21: no CRLF: nothing');
--- grep_error_log eval: qr/upstream sent invalid chunked response while reading upstream/
--- grep_error_log_out
upstream sent invalid chunked response while reading upstream
upstream sent invalid chunked response while reading upstream
--- response_body
x



=== TEST 22: 100 and 103 before the answer are dropped (nginx 1.22 passes the 100 on as the response)
--- moongate_only
--- config
    location /u/ {
        access_log logs/a22.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_INTERIM_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a22.log');
Test::More::like($r, qr{\AHTTP/1\.1 200 OK\n.*\n\nok\z}s, 'TEST 22: the final answer');
Test::More::like($l, qr/^200\|200\|.*\|2\|\d+\|2$/, 'TEST 22: logged');
--- response_body
x



=== TEST 23: a 101 to a request that asked no upgrade: 502 (nginx 1.22 passes it on and tunnels)
--- moongate_only
--- config
    location /u/ {
        access_log logs/a23.log d;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SWITCH_PORT;
    }
--- init
my ($r, $l) = get_logged('/u/', 'a23.log');
Test::More::like($r, qr{\AHTTP/1\.1 502 }, 'TEST 23: 502');
--- error_log
upstream sent unexpected "101 Switching Protocols" while reading response header from upstream
--- response_body
x



=== TEST 24: Content-Length and Transfer-Encoding, an invalid Content-Length, an unknown Transfer-Encoding, a line without a colon, two Content-Length values: 502 each (nginx 1.22 passes them on; the last length frames its body)
--- moongate_only
--- config
    location /clte/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CLTE_PORT; }
    location /badlen/ { proxy_pass http://127.0.0.1:$TEST_NGINX_BADLEN_PORT; }
    location /gzipte/ { proxy_pass http://127.0.0.1:$TEST_NGINX_GZIPTE_PORT; }
    location /nocolon/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NOCOLON_PORT; }
    location /dupcl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_DUPCL_PORT; }
--- request eval
["GET /clte/", "GET /badlen/", "GET /gzipte/", "GET /nocolon/", "GET /dupcl/"]
--- error_code eval
[502, 502, 502, 502, 502]
--- error_log
upstream sent "Content-Length" and "Transfer-Encoding" headers at the same time while reading response header from upstream
upstream sent invalid "Content-Length" header: "Content-Length: abc" while reading response header from upstream
upstream sent unknown "Transfer-Encoding": "gzip" while reading response header from upstream
upstream sent invalid header: "NoColon\x0d..." while reading response header from upstream
upstream sent duplicate header line: "Content-Length: 3", previous value: "Content-Length: 2" while reading response header from upstream



=== TEST 25: the same Content-Length twice: one length, passed on
--- config
    location /u/ { proxy_pass http://127.0.0.1:$TEST_NGINX_SAMECL_PORT; }
--- request
GET /u/
--- response_body chomp
ok
--- no_error_log
[error]
