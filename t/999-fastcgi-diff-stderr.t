# A FastCGI application's stderr in the error log, as Debian's nginx 1.22 writes it (a
# differential audit): a message over several lines keeps its line ends and tabs (PHP joins
# its messages with them); trailing line ends, dots and spaces are dropped. A fake
# application from Test::MoongateBackend's fastcgi kind.
#
#   prove -I t/lib t/999-fastcgi-diff-stderr.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/999-fastcgi-diff-stderr.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

my $err = fastcgi_record(7, "PHP message: one\nPHP message:\ttwo...\n");
backend(app => 'fastcgi', script => [$err . fastcgi_answer("Content-Type: text/plain\r\n\r\nok\n")->[0]]);

run_tests();

__DATA__

=== TEST 1: two lines of stderr: logged as two lines
--- config
    location / { fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT; }
--- request
GET /
--- response_body
ok
--- error_log eval
[qr/\[error\] .*FastCGI sent in stderr: "PHP message: one$/m,
 qr/^PHP message:\ttwo" while reading response header from upstream, client: 127\.0\.0\.1, /m]
--- no_error_log
\x0A
