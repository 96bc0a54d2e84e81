# A client that closes its connection while the proxied response is awaited: the upstream
# request is given up, "client prematurely closed connection" is logged (info) and the access
# log says 499; with proxy_ignore_client_abort on the upstream's response is awaited and read
# all the same (200 in the access log).  A pipelined request meanwhile is no close.  Over TLS
# the client's close_notify is no request either: the half-close after it is the abort.
#
#   prove -I t/lib t/312-proxy-client-abort.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/312-proxy-client-abort.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');

# the same over TLS: the close sends close_notify before the FIN
sub hang_up_tls {
    my ($path) = @_;
    require IO::Socket::SSL;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, Timeout => 5) or die "TLS connect: $!";
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n";
    $s->close(SSL_no_shutdown => 0);
}

# send the request and close at once
sub hang_up {
    my ($path) = @_;
    my $s = client_connect();
    client_send($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n");
    close $s;
}

our $Log = <<'EOF';
    log_format s '$uri $status $upstream_status';
EOF

log_level('info');

run_tests();

__DATA__

=== TEST 1: the client closes while the upstream thinks: 499, the upstream connection closed
--- http_config eval: $main::Log
--- config
    location /slow {
        access_log logs/s1.log s;
        proxy_set_header X-Echo-Delay 1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- init
main::hang_up('/slow');
my ($l) = logged_lines('s1.log', 1);
Test::More::like($l, qr{^/slow 499 }, 'TEST 1: 499 in the access log');
--- request
GET /t
--- error_code: 404
--- error_log
client prematurely closed connection



=== TEST 2: proxy_ignore_client_abort on: the response is awaited, 200 in the access log
--- http_config eval: $main::Log
--- config
    location /slow {
        access_log logs/s2.log s;
        proxy_ignore_client_abort on;
        proxy_set_header X-Echo-Delay 1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- init
main::hang_up('/slow');
my ($l) = logged_lines('s2.log', 1);
Test::More::is($l, '/slow 200 200', 'TEST 2: 200 in the access log, from the upstream');
--- request
GET /t
--- error_code: 404
--- no_error_log
client prematurely closed connection



=== TEST 3: a pipelined request while the first one waits on the upstream: both answered
--- config
    location /slow {
        proxy_set_header X-Echo-Delay 0.5;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- pipelined_requests eval
["GET /slow/1", "GET /slow/2"]
--- response_body_like eval
["^GET /slow/1 ", "^GET /slow/2 "]
--- no_error_log
client prematurely closed connection



=== TEST 4: over TLS, the client's close_notify and close while the upstream thinks: 499
--- ssl
--- http_config eval: $main::Log
--- config
    location /slow {
        access_log logs/s4.log s;
        proxy_set_header X-Echo-Delay 2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- init
main::hang_up_tls('/slow');
my ($l) = logged_lines('s4.log', 1);
Test::More::like($l, qr{^/slow 499 }, 'TEST 4: 499 in the access log');
--- request
GET /t
--- error_code: 404
--- error_log
client prematurely closed connection
