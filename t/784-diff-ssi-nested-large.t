# SSI pages that include large pages that include others, as Debian's nginx 1.22 runs them:
# the output and the order of three levels of 40-90 KB pages (more than output_buffers, read
# in pieces, each level's include starting once its parse stopped), what a "set" at one level
# shows to "echo" at another, the error-log lines of failed includes; an "include ... set="
# whose response is beyond subrequest_output_buffer_size (the included request's location's;
# its Content-Length when it has one) ends the client's request with nginx's line, logged
# once; and what was parsed before a "wait" or "set" include is held for postpone_output
# until the include ended, not sent at once.
#
#   prove -I t/lib t/784-diff-ssi-nested-large.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/784-diff-ssi-nested-large.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

sub fill { my ($n, $c) = @_; ($c x 99 . "\n") x ($n / 100) }
sub set { qq{<!--# set var="$_[0]" value="$_[1]" -->} }
sub echo { qq{[<!--# echo var="$_[0]" default="none" -->]} }
sub inc { qq{{<!--# include virtual="$_[0]" -->}} }
# an included page's last line joined to its closing brace; each run of filler lines as
# <count letter> (the body is compared whole)
sub closing { my $b = shift; $b =~ s/\n\}/}/g; $b }
sub short { my $b = shift; $b =~ s/((.)\2{98}\n)+/'<' . length($&) . "$2>"/ge; $b }

our $L2 = echo('a') . echo('b') . echo('c') . set('c', 'c2') . fill(40000, 'z') . echo('a')
    . echo('b') . inc('/missing.html') . set('b', 'b2') . fill(20000, 'y') . inc('/small.html')
    . echo('c') . '<!--# if expr="$a = a1" -->A1<!--# else -->notA1<!--# endif -->';
our $L1 = echo('a') . set('b', 'b1') . fill(50000, 'q') . inc('/l2.html') . echo('b') . echo('c')
    . set('a', 'a1') . fill(30000, 'r') . inc('/l2.html') . echo('a');
our $Top = set('a', 'a0') . fill(10000, 'x') . inc('/l1.html') . echo('a') . echo('b') . echo('c')
    . fill(70000, 'w') . set('c', 'c0') . inc('/l2.html') . '<!--# include virtual="/l1.html" wait="yes" -->'
    . echo('c') . fill(5000, 'e');
# what nginx makes of it: an included page runs once its includer's parse stopped (two
# 32k reads ahead), so it sees the "set"s made by then
our $L2a1b1c2 = '[a1][b1][c2]<40000z>[a1][b1]{404}<20000y>{small a1 }[c2]A1';
our $L2a1b2c2 = '[a1][b2][c2]<40000z>[a1][b2]{404}<20000y>{small a1 }[c2]A1';
our $Want = '<10000x>{[a0]<50000q>{[a1][b1][none]<40000z>[a1][b1]{404}<20000y>{small a1 }[c2]A1}'
    . "[b1][none]<30000r>{$L2a1b2c2}[a1]}[a0][none][none]<70000w>{[a1][b2][c0]<40000z>[a1][b2]{404}"
    . "<20000y>{small a1 }[c2]A1}[a1]<50000q>{$L2a1b1c2}[b1][c2]<30000r>{$L2a1b2c2}[a1]\n[c2]<5000e>\n";

add_block_preprocessor(sub {
    my $b = shift;
    # /slow?k=KEY answers "slow" once /go?k=KEY was asked for
    $b->set_value(http_config => 'lua_shared_dict go 1m;');
    $b->set_value(config => <<'EOF2' . $b->config);
    location /go { content_by_lua_block { ngx.shared.go:set(ngx.var.arg_k, 1) } }
    location /slow {
        content_by_lua_block {
            for i = 1, 500 do
                if ngx.shared.go:get(ngx.var.arg_k) then break end
                ngx.sleep(0.01)
            end
            ngx.print("slow")
        }
    }
EOF2
    $b->set_value(user_files => ">>> top.html\n$Top\n>>> l1.html\n$L1\n>>> l2.html\n$L2\n"
        . ">>> small.html\nsmall <!--# echo var=\"a\" --> <!--# set var=\"d\" value=\"d1\" -->\n"
        . ">>> 404.html\n404\n>>> f.txt\n" . ('y' x 5000) . "\n" . ($b->user_files // ''));
});

# GET $path; what came within 0.5 s, then after /go?k=$key, all of it
sub held_then_all {
    my ($path, $key) = @_;
    my $s = client_connect();
    client_send($s, "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my $early = client_read($s, undef, 0.5);
    my $g = client_connect();
    client_send($g, "GET /go?k=$key HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    client_read($g, undef, 5);
    my $all = $early . client_read($s, undef, 5);
    $all =~ s/\r\n/\n/g;
    return (length $early ? "\"$early\"" : 'nothing', $all =~ /\n\n(.*)\z/s ? $1 : "\"$all\"");
}

run_tests();

__DATA__

=== TEST 1: three levels of large pages: output, order, set and echo across levels, errors
--- config
    location / { ssi on; error_page 404 /404.html; }
--- request
GET /top.html
--- response_body_filters: closing short
--- response_body eval
$main::Want
--- grep_error_log eval
qr/\[error\] .*/
--- grep_error_log_out eval
qr/\A(?:\[error\] \S+ \*1 open\(\) "\S+\/html\/missing\.html" failed \(2: No such file or directory\), client: 127\.0\.0\.1, server: localhost, request: "GET \/top\.html HTTP\/1\.1", subrequest: "\/missing\.html", host: "localhost"\n){5}\z/



=== TEST 2: "set" of a response with a Content-Length beyond subrequest_output_buffer_size (4k)
--- user_files
>>> t.html
A<!--# include virtual="/plain/f.txt" set="v" -->B[<!--# echo var="v" -->]C
--- config
    location / { ssi on; }
    location /plain/ { alias $TEST_NGINX_HTML_DIR/; }
--- init
my ($got, $eof) = client_read(do { my $s = client_connect(); client_send($s, "GET /t.html HTTP/1.1\r\nHost: localhost\r\n\r\n"); $s }, undef, 5);
Test::More::is("[$got] " . ($eof ? 'closed' : 'open'), '[] closed', 'TEST 2: the request ends, nothing sent');
--- request
GET /404.html
--- response_body
404
--- grep_error_log eval
qr/\[error\] .*/
--- grep_error_log_out eval
qr/\A\[error\] \S+ \*1 too big subrequest response: 5001 while sending response to client, client: 127\.0\.0\.1, server: localhost, request: "GET \/t\.html HTTP\/1\.1", subrequest: "\/plain\/f\.txt", host: "localhost"\n\z/



=== TEST 3: the included request's location sets the size
--- user_files
>>> t.html
A<!--# include virtual="/big/f.txt" set="v" -->B<!--# echo var="v" -->C
--- config
    location / { ssi on; }
    location /big/ { subrequest_output_buffer_size 8k; alias $TEST_NGINX_HTML_DIR/; }
--- request
GET /t.html
--- response_body eval
"AB" . ('y' x 5000) . "\nC\n"
--- no_error_log
[error]



=== TEST 4: an included SSI page keeps its file's length: it counts, whatever its includer says
--- user_files
>>> u.html
A<!--# include virtual="/ssi/f.txt" set="v" -->B<!--# echo var="v" -->C
--- config
    location / { ssi on; subrequest_output_buffer_size 16k; }
    location /ssi/ { ssi on; ssi_types text/plain; alias $TEST_NGINX_HTML_DIR/; }
--- init
my ($got, $eof) = client_read(do { my $s = client_connect(); client_send($s, "GET /u.html HTTP/1.1\r\nHost: localhost\r\n\r\n"); $s }, undef, 5);
Test::More::is("[$got] " . ($eof ? 'closed' : 'open'), '[] closed', 'TEST 4: the request ends, nothing sent');
--- request
GET /404.html
--- response_body
404
--- grep_error_log eval
qr/too big subrequest response.*subrequest: "[^"]*"/
--- grep_error_log_out
too big subrequest response: 5001 while sending response to client, client: 127.0.0.1, server: localhost, request: "GET /u.html HTTP/1.1", subrequest: "/ssi/f.txt"



=== TEST 5: a response without a length: logged without one, once, when it grows beyond
--- user_files
>>> t.html
A<!--# include virtual="/lua" set="v" -->B<!--# echo var="v" -->C
--- config
    location / { ssi on; }
    location /lua { content_by_lua_block { ngx.print(("a"):rep(3000)) ngx.print(("b"):rep(3000)) } }
--- init
my ($got, $eof) = client_read(do { my $s = client_connect(); client_send($s, "GET /t.html HTTP/1.1\r\nHost: localhost\r\n\r\n"); $s }, undef, 5);
Test::More::is("[$got] " . ($eof ? 'closed' : 'open'), '[] closed', 'TEST 5: the request ends, nothing sent');
--- request
GET /404.html
--- response_body
404
--- grep_error_log eval
qr/\[error\] .*/
--- grep_error_log_out eval
qr/\A\[error\] \S+ \*1 too big subrequest response, client: 127\.0\.0\.1, server: localhost, request: "GET \/t\.html HTTP\/1\.1", subrequest: "\/lua", host: "localhost"\n\z/



=== TEST 6: two levels down, two includers at once: the first too big one ends it all, logged once
--- user_files
>>> n.html
<!--# include virtual="/mid.html" --><!--# include virtual="/mid.html" -->
>>> mid.html
<!--# include virtual="/plain/f.txt" set="v" -->[<!--# echo var="v" -->]
--- config
    location / { ssi on; }
    location /plain/ { alias $TEST_NGINX_HTML_DIR/; }
--- init
my ($got, $eof) = client_read(do { my $s = client_connect(); client_send($s, "GET /n.html HTTP/1.1\r\nHost: localhost\r\n\r\n"); $s }, undef, 5);
Test::More::is("[$got] " . ($eof ? 'closed' : 'open'), '[] closed', 'TEST 6: the request ends, nothing sent');
--- request
GET /404.html
--- response_body
404
--- grep_error_log eval
qr/too big subrequest response.*subrequest: "[^"]*"/
--- grep_error_log_out
too big subrequest response: 5001 while sending response to client, client: 127.0.0.1, server: localhost, request: "GET /n.html HTTP/1.1", subrequest: "/plain/f.txt"



=== TEST 7: what came before a "set" include is held until it ended
--- user_files
>>> t.html
A<!--# include virtual="/slow?k=set" set="v" -->B<!--# echo var="v" -->C
--- config
    location / { ssi on; }
--- init
my ($early, $body) = main::held_then_all('/t.html', 'set');
Test::More::is($early, 'nothing', 'TEST 7: nothing while the include ran');
# (its own chunk: it had gone through the chunked filter before the include)
Test::More::is($body, "1\nA\n7\nBslowC\n\n0\n\n", 'TEST 7: then all of it');
--- request
GET /404.html
--- response_body
404



=== TEST 8: and before a "wait" include
--- user_files
>>> t.html
A<!--# include virtual="/slow?k=wait" wait="yes" -->B
--- config
    location / { ssi on; }
--- init
my ($early, $body) = main::held_then_all('/t.html', 'wait');
Test::More::is($early, 'nothing', 'TEST 8: nothing while the include ran');
Test::More::like($body, qr/\A(?:[0-9a-f]+\n)?A.*slow.*B\n/s, 'TEST 8: then all of it');
--- request
GET /404.html
--- response_body
404
