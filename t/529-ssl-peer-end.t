# A client that ends its TLS connection first (a close_notify, or a plain TCP FIN) gets no
# close_notify back, as in nginx (its no_send_shutdown): the server just closes. Sending one
# after the client closed its socket only made the client's kernel answer with a reset (one
# more write per connection for clients that close first, like `openssl s_time`).
#
#   prove -I t/lib t/529-ssl-peer-end.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/529-ssl-peer-end.t
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Select;
use Time::HiRes ();
use IO::Socket::SSL;

Test::Moongate::Certs::make();

# One keepalive request over TLS ($version), its answer read whole, then the client ends the
# connection ($how: "notify" sends a close_notify, "fin" shuts the socket's write side down).
# Returns the bytes the server sent after that until it closed, or "timeout".
sub after_client_end {
    my ($version, $how) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_verify_mode => 0, SSL_hostname => 'localhost',
                                 SSL_version => $version, Timeout => 10)
        or die "connect: $SSL_ERROR\n";
    print $s "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my $got = '';
    while ($got !~ /\r\n\r\nok\n\z/) {
        my $n = sysread($s, $got, 4096, length $got);
        die "the answer ended early: $got\n" unless $n;
    }
    # the raw socket from here on (a dup of its descriptor: no TLS layer)
    open(my $raw, '+<&', fileno($s)) or die "dup: $!\n";
    if ($how eq 'notify') {
        Net::SSLeay::shutdown($s->_get_ssl_object) >= 0 or die "SSL_shutdown failed\n";
    } else {
        shutdown($raw, 1) or die "shutdown: $!\n";
    }
    my ($after, $sel, $end) = ('', IO::Select->new($raw), time + 10);
    while (time < $end) {
        next unless $sel->can_read(0.2);
        my $n = sysread($raw, $after, 4096, length $after);
        return $after if defined $n && $n == 0;
        return $after unless defined $n; # a reset: what came before it
    }
    return 'timeout';
}

run_tests();

__DATA__

=== TEST 1: TLS 1.2: the client's close_notify gets no close_notify back, the server closes
--- ssl
--- config
    location / { return 200 "ok\n"; }
--- init
my $after = main::after_client_end('TLSv1_2', 'notify');
Test::More::is(length $after, 0, "nothing after the client's close_notify, then the close");
--- request
GET /
--- response_body
ok



=== TEST 2: TLS 1.2: a client that shuts its side down without a close_notify gets none
--- ssl
--- config
    location / { return 200 "ok\n"; }
--- init
my $after = main::after_client_end('TLSv1_2', 'fin');
Test::More::is(length $after, 0, "nothing after the client's FIN, then the close");
--- request
GET /
--- response_body
ok



=== TEST 3: TLS 1.3: the same after a close_notify
--- ssl
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\n"; }
--- init
my $after = main::after_client_end('TLSv1_3', 'notify');
Test::More::is(length $after, 0, "nothing after the client's close_notify, then the close");
--- request
GET /
--- response_body
ok



=== TEST 4: TLS 1.3: the same after a FIN
--- ssl
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\n"; }
--- init
my $after = main::after_client_end('TLSv1_3', 'fin');
Test::More::is(length $after, 0, "nothing after the client's FIN, then the close");
--- request
GET /
--- response_body
ok



=== TEST 5: the server's own close still sends a close_notify (keepalive_timeout)
--- ssl
--- config
    keepalive_timeout 1s;
    location / { return 200 "ok\n"; }
--- init
my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                             SSL_verify_mode => 0, SSL_hostname => 'localhost',
                             SSL_version => 'TLSv1_2', Timeout => 10)
    or die "connect: $SSL_ERROR\n";
print $s "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
my $got = '';
while ($got !~ /\r\n\r\nok\n\z/) {
    my $n = sysread($s, $got, 4096, length $got);
    die "the answer ended early: $got\n" unless $n;
}
# the next read waits for the server's end: a close_notify is a clean end (0, not an error)
my $n = sysread($s, my $more, 4096);
Test::More::is($n, 0, "the server's close after keepalive_timeout is a clean TLS end");
Test::More::is(Net::SSLeay::get_shutdown($s->_get_ssl_object) & 2, 2,
               "its close_notify was received");
--- request
GET /
--- response_body
ok



=== TEST 6: a client that resets its connection after the handshake can resume its session
Its session stays in the shared cache: the connection ended without a close_notify, but it had
not failed (OpenSSL removes the session of a connection freed without a shutdown).
--- ssl
--- http_config
    ssl_session_cache shared:SSL:1m;
    ssl_session_tickets off;
--- config
    ssl_protocols TLSv1.2;
    location / { return 200 "$ssl_session_reused\n"; }
--- init
my $ctx = IO::Socket::SSL::SSL_Context->new(SSL_verify_mode => 0, SSL_version => 'TLSv1_2',
                                            SSL_session_cache_size => 4)
    or die "context: $SSL_ERROR\n";
my $get = sub {
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                 SSL_reuse_ctx => $ctx, SSL_session_key => 'k529',
                                 SSL_hostname => 'localhost', Timeout => 10)
        or die "connect: $SSL_ERROR\n";
    print $s "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my $got = '';
    while ($got !~ /\r\n\r\n[.r]\n\z/) {
        my $n = sysread($s, $got, 4096, length $got);
        die "the answer ended early: $got\n" unless $n;
    }
    return ($s, $got);
};
my ($s, $first) = $get->();
Test::More::like($first, qr/\r\n\r\n\.\n\z/, "a new session");
# a reset, no close_notify: the server's read fails while it waits for the next request
# (marked shut down on this side, quietly, so that the client too keeps the session)
Net::SSLeay::set_shutdown($s->_get_ssl_object, 3);
setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_LINGER(), pack('ii', 1, 0)) or die "linger: $!\n";
$s->close(SSL_no_shutdown => 1);
my $end = time + 10;
Time::HiRes::sleep(0.05) until time > $end
    || Test::Moongate::slurp(Test::Moongate::error_log_file()) =~ /Connection reset by peer/;
my ($s2, $second) = $get->();
Test::More::like($second, qr/\r\n\r\nr\n\z/, "the second connection resumed the session");
--- request
GET /
--- response_body
.
