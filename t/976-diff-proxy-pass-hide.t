# Which of an upstream's header lines reach the client, as Debian's nginx 1.22 decides:
# hidden by default (Date, Server, X-Pad, X-Accel-*), proxy_pass_header, proxy_hide_header,
# and proxy_ignore_headers (which stops the X-Accel-* and caching lines from acting, not from
# being hidden or passed).
#
#   prove -I t/lib t/976-diff-proxy-pass-hide.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/976-diff-proxy-pass-hide.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(up => 'script', read => 1, script => [
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Accel-Expires: 10\r\nX-Accel-Buffering: no\r\n"
    . "X-Accel-Charset: koi8-r\r\nX-Accel-Limit-Rate: 100\r\n"
    . "Expires: Thu, 01 Jan 2037 00:00:00 GMT\r\nCache-Control: max-age=5\r\nSet-Cookie: a=b\r\n"
    . "X-Powered-By: p\r\nServer: up\r\nDate: Mon, 01 Jan 2001 00:00:00 GMT\r\nX-Pad: 1\r\n"
    . "Content-Type: text/plain\r\n\r\nok\n"]);

# the response's header lines to $path, but Connection, and Date and Server unless the
# upstream's, sorted, as one string
sub heads {
    my $s = client_connect();
    client_send($s, "GET $_[0] HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my ($data) = client_read($s, undef, 5);
    my ($head) = split /\r\n\r\n/, $data, 2;
    my (undef, @l) = split /\r\n/, $head;
    @l = grep { !/^Connection:/ && !/^Server: (?!up$)/ && !/^Date: (?!Mon, 01 Jan 2001)/ } @l;
    return join "\n", sort @l;
}

my $common = "Cache-Control: max-age=5\nContent-Length: 3\nContent-Type: text/plain\n"
    . "Expires: Thu, 01 Jan 2037 00:00:00 GMT\nSet-Cookie: a=b\nX-Powered-By: p";
our %Want = (
    default => $common,
    pass    => "Cache-Control: max-age=5\nContent-Length: 3\nContent-Type: text/plain\n"
               . "Date: Mon, 01 Jan 2001 00:00:00 GMT\nExpires: Thu, 01 Jan 2037 00:00:00 GMT\n"
               . "Server: up\nSet-Cookie: a=b\nX-Accel-Expires: 10\nX-Pad: 1\nX-Powered-By: p",
    hide    => "Cache-Control: max-age=5\nContent-Length: 3\nContent-Type: text/plain",
    ignore  => $common,
);

run_tests();

__DATA__

=== TEST 1: hidden by default, passed, hidden, ignored
--- config
    location /default/ { proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT; }
    location /pass/ {
        proxy_pass_header X-Accel-Expires;
        proxy_pass_header Server;
        proxy_pass_header Date;
        proxy_pass_header X-Pad;
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT;
    }
    location /hide/ {
        proxy_hide_header Set-Cookie;
        proxy_hide_header Expires;
        proxy_hide_header X-Powered-By;
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT;
    }
    location /ignore/ {
        proxy_ignore_headers X-Accel-Expires X-Accel-Buffering X-Accel-Charset X-Accel-Limit-Rate Expires Cache-Control Set-Cookie;
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT;
    }
    location = /x { return 200 "x\n"; }
--- init
for my $k (qw(default pass hide ignore)) {
    Test::More::is(main::heads("/$k/"), $main::Want{$k}, "TEST 1: $k");
}
--- request
GET /x
--- response_body
x
--- grep_error_log eval: qr/unknown charset "koi8-r" to override/
--- grep_error_log_out
unknown charset "koi8-r" to override
unknown charset "koi8-r" to override
unknown charset "koi8-r" to override
