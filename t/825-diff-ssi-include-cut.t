# A proxied SSI include (proxy_buffering on) whose upstream fails half way, as Debian's nginx
# 1.22 sends it: after a timeout or a reset the buffer being filled (not full yet) is dropped,
# so a short page gives nothing (the page goes on; a stub stands for it) and a longer one gives
# its full buffers only; a premature close passes what came. The timeout is logged "while
# reading upstream" also when another include ended meanwhile, and a failed read of a
# buffered body is nginx's "readv() failed".
#
#   prove -I t/lib t/825-diff-ssi-include-cut.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/825-diff-ssi-include-cut.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

plan 'no_plan';

my $head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
backend(stall => 'script', read => 1, script => [$head . 'PART', 3]);
backend(reset => 'script', read => 1, script => [$head . 'PART', 1], reset => 1);
backend(close => 'script', read => 1, script => [$head . 'PART', 0.3]);
# 20000 bytes: the head buffer's 4096 minus the 43-byte head, three 4096-byte buffers, and 3659
# in the fifth
backend(big => 'script', read => 1, script => [$head . ('s' x 20000), 3]);
backend(ok => 'script', read => 1, script => [0.2, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]);

our $Locations = <<'EOT';
    location ~ \.html$ { ssi on; }
    location = /up/NAME {
        proxy_buffer_size 4k;
        proxy_buffers 8 4k;
        proxy_read_timeout 500ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORTNAME_PORT;
    }
EOT

# the locations for backend NAME (reset: a longer read timeout, the reset comes after 1 s)
sub loc {
    my ($n) = @_;
    my $l = $Locations =~ s/PORTNAME/\U$n/r =~ s/NAME/$n/r;
    $l =~ s/500ms/5s/ if $n eq 'reset';
    return $l;
}

run_tests();

__DATA__

=== TEST 1: a timeout: what a short page sent is dropped, the page goes on (a stub stands for it)
--- config eval: ::loc('stall')
--- user_files
>>> p.html
<!--# block name="s" -->STUB<!--# endblock -->A[<!--# include virtual="/up/stall" -->]B[<!--# include virtual="/up/stall" stub="s" -->]
--- timeout: 10
--- request
GET /p.html
--- response_body
A[]B[STUB]
--- error_log eval
qr/upstream timed out \(110: Connection timed out\) while reading upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/p\.html HTTP\/1\.1", subrequest: "\/up\/stall"/



=== TEST 2: a reset: the same, with nginx's "readv() failed" (one include: with two, nginx's output varies)
--- config eval: ::loc('reset')
--- user_files
>>> p.html
<!--# block name="s" -->STUB<!--# endblock -->A[<!--# include virtual="/up/reset" stub="s" -->]B
--- timeout: 10
--- request
GET /p.html
--- response_body
A[STUB]B
--- error_log eval
qr/readv\(\) failed \(104: Connection reset by peer\) while reading upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/p\.html HTTP\/1\.1", subrequest: "\/up\/reset"/



=== TEST 3: a premature close passes what came
--- config eval: ::loc('close')
--- user_files
>>> p.html
A[<!--# include virtual="/up/close" -->]B
--- timeout: 10
--- request
GET /p.html
--- response_body
A[PART]B
--- error_log
upstream prematurely closed connection while reading upstream



=== TEST 4: a longer page cut off by a timeout gives its full buffers only
--- config eval: ::loc('big')
--- user_files
>>> p.html
A[<!--# include virtual="/up/big" -->]B
--- timeout: 10
--- request
GET /p.html
--- response_body eval
"A[" . ("s" x 16341) . "]B\n"



=== TEST 5: the timeout is logged while reading upstream also when a later include ended meanwhile
--- config eval
::loc('stall') . q{
    location = /ok { proxy_pass http://127.0.0.1:$TEST_NGINX_OK_PORT; }
}
--- user_files
>>> p.html
A[<!--# include virtual="/up/stall" -->]B[<!--# include virtual="/ok" -->]
--- timeout: 10
--- request
GET /p.html
--- response_body
A[]B[ok]
--- error_log eval
qr/upstream timed out \(110: Connection timed out\) while reading upstream, client: 127\.0\.0\.1, server: localhost, request: "GET \/p\.html HTTP\/1\.1", subrequest: "\/up\/stall"/
--- no_error_log
while sending to client
