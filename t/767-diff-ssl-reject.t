# Found by running the same configs on nginx 1.22 and moongate (issue 13's TLS audit):
# a handshake ssl_reject_handshake refuses is logged as nginx logs it, one info line
# "handshake rejected while SSL handshaking", without a second "SSL_do_handshake() failed"
# line for the callback's failure.
#
#   prove -I t/lib t/767-diff-ssl-reject.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/767-diff-ssl-reject.t
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::SSL;

Test::Moongate::Certs::make();
log_level('info');

# a handshake with this SNI name ('' sends none); 1 when it succeeded
sub handshake {
    my ($sni) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, SSL_hostname => $sni, Timeout => 10);
    return $s ? 1 : 0;
}

run_tests();

__DATA__

=== TEST 1: an unknown name refused by the default server: one info line
--- ssl: sni=a.test
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl default_server;
        ssl_reject_handshake on;
    }
--- config
    server_name a.test;
    location / { return 200 "a\n"; }
--- init
Test::More::is(main::handshake('unknown.test'), 0, "an unknown name gets no handshake");
--- request
GET /
--- more_headers
Host: a.test
--- response_body
a
--- error_log
[info]
handshake rejected while SSL handshaking, client: 127.0.0.1
--- no_error_log
SSL_do_handshake() failed
SSL handshake rejected



=== TEST 2: no name at all: the default server refuses it the same way
--- ssl: sni=a.test
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT ssl default_server;
        ssl_reject_handshake on;
    }
--- config
    server_name a.test;
    location / { return 200 "a\n"; }
--- init
Test::More::is(main::handshake(''), 0, "no name gets no handshake");
--- request
GET /
--- more_headers
Host: a.test
--- response_body
a
--- error_log
handshake rejected while SSL handshaking, client: 127.0.0.1
--- no_error_log
SSL_do_handshake() failed
SSL handshake rejected
