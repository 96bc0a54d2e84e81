# TLS read-ahead (server contexts read a record in one read(2), as nginx): the bytes OpenSSL
# takes from the socket beyond what a read asked for raise no read event, so a connection must
# go on without one: pipelined requests in one TLS write read through a 1k head buffer, a body
# discarded in small reads with a request after it, h2 streams that come with the client's
# Finished (h2load over ALPN). Each waits a bounded time and fails on a missing answer.
#
#   prove -I t/lib t/527-ssl-read-ahead.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/527-ssl-read-ahead.t
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::Moongate::Certs;
use IO::Socket::SSL;
use Time::HiRes ();

Test::Moongate::Certs::make();
log_level('info');

# send $data on one TLS connection in one go, then read until $want answers (or 10 s)
sub pipelined {
    my ($data, $want) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$Test::Moongate::ServerPort",
                                 SSL_verify_mode => 0) or return "connect: $SSL_ERROR";
    $s->print($data) or return "write: $!";
    $s->blocking(0);
    my ($buf, $deadline) = ('', Time::HiRes::time() + 10);
    while (Time::HiRes::time() < $deadline) {
        my $n = $s->sysread(my $b, 65536);
        if ($n) {
            $buf .= $b;
            last if (() = $buf =~ m{HTTP/1\.1 200 }g) >= $want;
        } elsif (defined $n) {
            last;
        } else {
            Time::HiRes::sleep(0.01);
        }
    }
    return $buf;
}

run_tests();

__DATA__

=== TEST 1: 300 pipelined requests in one TLS write, read through a 1k head buffer: all answered
--- ssl
--- config
    client_header_buffer_size 1k;
    location /t { return 200 "n=$connection_requests\n"; }
--- init
my $req = join '', map { "GET /t HTTP/1.1\r\nHost: localhost\r\nX-Pad: " . ('p' x 200) . "\r\n\r\n" } 1 .. 300;
my $out = main::pipelined($req, 300);
my $n = () = $out =~ m{HTTP/1\.1 200 }g;
Test::More::is($n, 300, "300 answers");
Test::More::like($out, qr/n=300\n\z/, "the last one is the connection's 300th");
--- request
GET /t
--- response_body
n=1



=== TEST 2: a 300 KB body discarded in small reads, then a request in the same write
--- ssl
--- config
    client_body_buffer_size 1k;
    location /t { return 200 "n=$connection_requests\n"; }
--- init
my $body = 'b' x 300000;
my $req = "POST /t HTTP/1.1\r\nHost: localhost\r\nContent-Length: 300000\r\n\r\n$body"
        . "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n";
my $out = main::pipelined($req, 2);
my $n = () = $out =~ m{HTTP/1\.1 200 }g;
Test::More::is($n, 2, "both answered");
Test::More::like($out, qr/n=2\n\z/, "the second on the same connection");
--- request
GET /t
--- response_body
n=1



=== TEST 3: h2 over TLS, many streams on two connections (h2load): none fails
--- ssl
--- listen_options: http2
--- config
    keepalive_requests 100000;
    location /t { return 200 "0123456789\n"; }
--- h2_cmd
h2load -n 1000 -c 2 -m 20 https://127.0.0.1:$TEST_NGINX_SERVER_PORT/t | grep -E "^(requests|status codes):"
--- h2_out
requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx
