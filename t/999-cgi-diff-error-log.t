# Error-log lines of the CGI family as Debian's nginx 1.22 writes them (a differential
# audit): a FastCGI application's stderr over several lines keeps its line ends and tabs
# (PHP joins its messages with them; trailing line ends, dots and spaces are dropped); a
# client that goes while the answer is awaited is "epoll_wait() reported that client
# prematurely closed connection, so upstream connection is closed too while sending request
# to upstream" (nginx's context until the answer is read). Fake applications from
# Test::MoongateBackend's fastcgi kind.
#
#   prove -I t/lib t/999-cgi-diff-error-log.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/999-cgi-diff-error-log.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

my $err = fastcgi_record(7, "PHP message: one\nPHP message:\ttwo...\n");
backend(app => 'fastcgi', script => [$err . fastcgi_answer("Content-Type: text/plain\r\n\r\nok\n")->[0]]);

backend(slow => 'fastcgi', script => [3, @{ fastcgi_answer("Content-Type: text/plain\r\n\r\nlate\n") }]);

log_level('info');

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



=== TEST 2: the client goes while the answer is awaited: 499, nginx's line
--- config
    location /slow {
        access_log logs/s2.log s;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
    location /t { return 200 "t\n"; }
--- http_config
    log_format s '$uri $status';
--- init
backend_log_clear('slow');
my $s = client_connect();
client_send($s, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
# the close once the application has the request (its log says so), 5 s at most
for (1 .. 100) {
    last if grep { /^stdin / } backend_lines('slow');
    Time::HiRes::sleep(0.05);
}
close $s;
my ($l) = logged_lines('s2.log', 1);
Test::More::is($l, '/slow 499', 'TEST 2: 499 in the access log');
--- request
GET /t
--- response_body
t
--- error_log
[info]
epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too while sending request to upstream
