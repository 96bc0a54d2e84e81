# A client that closes while its proxied request waits for the upstream's answer, logged as
# Debian's nginx 1.22 logs it on Linux (found comparing both servers' logs on one config): the
# close is the one epoll reported ("epoll_wait() reported that client prematurely closed
# connection, so upstream connection is closed too") and, the upstream not having answered
# yet, the request is still "sending request to upstream" (nginx names the header reading only
# once the upstream's read event or read timeout comes); an upstream that times out is named
# "while reading response header from upstream".
#
#   prove -I t/lib t/749-log-diff-abort.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/749-log-diff-abort.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Time::HiRes ();

backend(a => 'echo');

# send the request and close once the upstream has it (so the request is past its connect and
# send, whatever the speed of the build: an ASan one too)
sub hang_up {
    my ($path) = @_;
    backend_log_clear('a');
    my $s = client_connect();
    client_send($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my $deadline = Time::HiRes::time() + 5;
    Time::HiRes::sleep(0.01) until backend_log('a') || Time::HiRes::time() > $deadline;
    close $s;
}

log_level('info');

run_tests();

__DATA__

=== TEST 1: the client closes before the upstream answers: nginx's words and action
--- http_config
    log_format s '$uri $status';
--- config
    location /slow {
        access_log logs/s1.log s;
        proxy_set_header X-Echo-Delay 1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- init
main::hang_up('/slow');
my ($l) = logged_lines('s1.log', 1);
Test::More::like($l, qr{^/slow 499$}, 'TEST 1: 499 in the access log');
--- request
GET /t
--- error_code: 404
--- error_log eval
qr{\[info\] .*epoll_wait\(\) reported that client prematurely closed connection, so upstream connection is closed too while sending request to upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /slow HTTP/1\.1", upstream: "http://127\.0\.0\.1:\d+/slow", host: "localhost"}



=== TEST 2: the upstream's read timeout: "while reading response header from upstream"
--- config
    location /slow {
        proxy_read_timeout 200ms;
        proxy_set_header X-Echo-Delay 1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /slow
--- error_code: 504
--- error_log eval
qr{\[error\] .*upstream timed out \(110: Connection timed out\) while reading response header from upstream, client: 127\.0\.0\.1, server: localhost, request: "GET /slow HTTP/1\.1", upstream: "http://127\.0\.0\.1:\d+/slow", host: "localhost"}
