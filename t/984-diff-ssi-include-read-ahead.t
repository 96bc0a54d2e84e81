# SSI in a page read from a file, as Debian's nginx 1.22 runs it: the page is read as nginx's
# copy filter reads it for a filter that needs memory, into output_buffers (2 x 32k), and the
# next part is read and parsed while a buffer is free, though what the others gave waits
# behind an include; the included page runs once reading stops. So an include sees a later
# "set" that came within that read-ahead, and not one beyond it. A single buffer takes a
# file's last part whole when it is less than 1.25 times its size.
#
#   prove -I t/lib t/984-diff-ssi-include-read-ahead.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/984-diff-ssi-include-read-ahead.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

# $n bytes of filler text
sub fill { ('x' x 99 . "\n") x ($_[0] / 100) }
sub set { qq{<!--# set var="x" value="$_[0]" -->} }
our $Inc = '{<!--# include virtual="/inc.html" -->}';
# an include at the start, then a "set" of p1, p2, ... every 8 KB; what the include saw
# tells how far the parse went before it ran
our $Scan = set('p0') . $Inc . join('', map { fill(8000) . set("p$_") } 1 .. 25);

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value(user_files => ">>> inc.html\n<!--# echo var=\"x\" default=\"none\" -->\n"
                                . $b->user_files);
});

run_tests();

__DATA__

=== TEST 1: a 40 KB page: the include in the first 32 KB sees the "set" in the rest
--- user_files eval
">>> t.html\n" . main::set('early') . $main::Inc . main::fill(40000) . main::set('late') . $main::Inc
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body eval
"{late\n}" . main::fill(40000) . "{late\n}"



=== TEST 2: the include in the second part, the "set" beyond two buffers: not seen
--- user_files eval
">>> t.html\n" . main::fill(40000) . main::set('early') . $main::Inc . main::fill(100000) . main::set('late')
--- config
    location / { ssi on; }
--- request
GET /t.html
--- response_body eval
main::fill(40000) . "{early\n}" . main::fill(100000)



=== TEST 3: how far the parse goes before the include runs, by output_buffers
--- user_files eval
">>> t.html\n$main::Scan"
--- config
    location / { ssi on; }
    location /one/ { ssi on; output_buffers 1 32k; alias $TEST_NGINX_HTML_DIR/; }
    location /four/ { ssi on; output_buffers 4 32k; alias $TEST_NGINX_HTML_DIR/; }
    location /small/ { ssi on; output_buffers 2 8k; alias $TEST_NGINX_HTML_DIR/; }
--- request eval
["GET /t.html", "GET /one/t.html", "GET /four/t.html", "GET /small/t.html"]
--- response_body_like eval
[qr/\A\{p8\n\}/, qr/\A\{p4\n\}/, qr/\A\{p16\n\}/, qr/\A\{p2\n\}/]



=== TEST 4: one buffer takes a last part up to 1.25 times its size whole
--- user_files eval
">>> t.html\n" . main::set('early') . $main::Inc . main::fill(40000) . main::set('late')
--- config
    location / { ssi on; output_buffers 1 32k; }
--- request
GET /t.html
--- response_body eval
"{late\n}" . main::fill(40000)
