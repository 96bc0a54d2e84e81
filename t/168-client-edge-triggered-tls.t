# TLS client connections are registered edge-triggered too (as nginx's, EPOLLET), and OpenSSL
# reads ahead: a record it took from the socket may hold more than a read asked for, and that
# raises no event. t/167's cases over TLS, each sent in one TLS write (one record) or together
# in one TCP segment (TCP_CORK), so that what is left sits in OpenSSL's buffer and not in the
# socket: a head that fills the 1k header buffer with the next request behind it while the
# first waits on an upstream; heads of exactly the buffer's size one after another; a request,
# the client's close_notify and its FIN while the upstream thinks (499); a request and
# close_notify alone on a kept-alive connection (the answer, then the close, long before
# keepalive_timeout); a body of exactly the body buffer's size sent with its head.
#
#   prove -I t/lib t/168-client-edge-triggered-tls.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/168-client-edge-triggered-tls.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::Moongate::Certs;
use IO::Socket::SSL;
use IO::Select;
use Net::SSLeay;
use Socket qw(IPPROTO_TCP TCP_NODELAY TCP_CORK);
use Time::HiRes ();

Test::Moongate::Certs::make();
backend(a => 'echo');

sub tls_connect {
    my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$Test::Moongate::ServerPort",
                                 SSL_verify_mode => 0, Timeout => 5)
        or die "connect: $SSL_ERROR\n";
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    return $s;
}

# one SSL_write: one record up to 16k
sub tls_send {
    my ($s, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = $s->syswrite($data, length($data) - $off, $off);
        die "write: $!\n" unless defined $n;
        $off += $n;
    }
}

# $data, the close_notify and (with $fin) the FIN in one TCP segment
sub tls_send_last {
    my ($s, $data, $fin) = @_;
    setsockopt($s, IPPROTO_TCP, TCP_CORK, 1);
    tls_send($s, $data);
    Net::SSLeay::shutdown($s->_get_ssl_object); # close_notify, without waiting for the peer's
    shutdown($s, 1) if $fin;
    setsockopt($s, IPPROTO_TCP, TCP_CORK, 0);
}

# read until $until matches (or the end, or $timeout s without a byte): (data, eof)
sub tls_read {
    my ($s, $until, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my ($data, $eof) = ('', 0);
    while (!defined $until || $data !~ $until) {
        last unless $s->pending || $sel->can_read($timeout);
        my $n = $s->sysread(my $buf, 65536);
        if (!$n) {
            next if !defined $n && $!{EAGAIN};
            $eof = 1;
            last;
        }
        $data .= $buf;
    }
    return ($data, $eof);
}

# a GET head of exactly $len bytes (padded with a header), keep-alive unless $close
sub head_of {
    my ($path, $len, $close) = @_;
    my $h = "GET $path HTTP/1.1\r\nHost: localhost\r\n" . ($close ? "Connection: close\r\n" : '');
    my $pad = $len - length($h) - length("X-Pad: \r\n\r\n");
    die "head too short\n" if $pad < 1;
    return $h . 'X-Pad: ' . ('p' x $pad) . "\r\n\r\n";
}

our $Log = <<'EOF';
    log_format s '$uri $status';
EOF

log_level('info');

run_tests();

__DATA__

=== TEST 1: a head that fills the 1k header buffer, the next request behind it in the same record, while the first waits on the upstream
--- ssl
--- config
    location = /t { return 200 "t\n"; }
    client_header_buffer_size 1k;
    location /slow {
        proxy_set_header X-Echo-Delay 0.3;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location /fast { return 200 "fast\n"; }
--- init
my $s = main::tls_connect();
main::tls_send($s, main::head_of('/slow/1', 1024) . main::head_of('/fast/2', 600, 1));
my ($data) = main::tls_read($s, qr/fast\n/, 5);
my @st = $data =~ /^HTTP\/1\.1 (\d+)/mg;
Test::More::is("@st", '200 200', 'TEST 1: both pipelined requests answered');
Test::More::like($data, qr{\r\n\r\nGET /slow/1 .*\r\n\r\nfast\n$}s, 'TEST 1: in order, the second whole');
--- request
GET /t
--- response_body
t
--- no_error_log
[error]



=== TEST 2: heads of exactly the buffer's size one after the other on a kept-alive connection
--- ssl
--- config
    location = /t { return 200 "t\n"; }
    client_header_buffer_size 1k;
    location /k { return 200 "k $uri\n"; }
--- init
my $s = main::tls_connect();
my $got = '';
for my $i (1 .. 5) {
    main::tls_send($s, main::head_of("/k/$i", 1024));
    my ($d) = main::tls_read($s, qr/k \/k\/$i\n/, 5);
    $got .= ($d =~ /(k \/k\/\d+)\n/)[0] // 'none';
    $got .= ' ';
}
Test::More::is($got, 'k /k/1 k /k/2 k /k/3 k /k/4 k /k/5 ', 'TEST 2: five answers on one connection');
--- request
GET /t
--- response_body
t
--- no_error_log
[error]



=== TEST 3: a request, the client's close_notify and its FIN in one segment while the upstream thinks: 499
--- ssl
--- http_config eval: $main::Log
--- config
    location = /t { return 200 "t\n"; }
    location /slow {
        access_log logs/s3.log s;
        proxy_set_header X-Echo-Delay 1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- init
my $s = main::tls_connect();
main::tls_send_last($s, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n", 1);
my ($l) = main::logged_lines('s3.log', 1);
Test::More::like($l // '', qr{^/slow 499$}, 'TEST 3: 499 in the access log');
close $s;
--- request
GET /t
--- response_body
t
--- error_log
client prematurely closed connection



=== TEST 4: a kept-alive request and the client's close_notify in one segment (no FIN): answered, then closed at once
--- ssl
--- config
    location = /t { return 200 "t\n"; }
    keepalive_timeout 60s;
    location /k { return 200 "k\n"; }
--- init
my $s = main::tls_connect();
my $t0 = Time::HiRes::time();
main::tls_send_last($s, "GET /k HTTP/1.1\r\nHost: localhost\r\n\r\n", 0);
my ($data, $eof) = main::tls_read($s, undef, 8);
Test::More::like($data, qr{^HTTP/1\.1 200 .*\r\n\r\nk\n\z}s, 'TEST 4: answered');
Test::More::ok($eof && Time::HiRes::time() - $t0 < 8, 'TEST 4: then closed, not at keepalive_timeout');
--- request
GET /t
--- response_body
t
--- no_error_log
[error]



=== TEST 5: a body of exactly client_body_buffer_size, sent with its head, read whole
--- ssl
--- config
    location = /t { return 200 "t\n"; }
    client_body_buffer_size 16k;
    location /b {
        content_by_lua_block {
            ngx.req.read_body()
            local b = ngx.req.get_body_data() or ""
            ngx.say(#b, " ", b:sub(1, 3), b:sub(-3))
        }
    }
--- init
my $body = ('abc' x 5460) . 'wxyz';
my $s = main::tls_connect();
main::tls_send($s, "POST /b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n" . $body);
my ($data) = main::tls_read($s, qr/\n\d+ \S+\n/, 5);
Test::More::like($data, qr{\r\n\r\n(?:[0-9a-f]+\r\n)?16384 abcxyz\n}, 'TEST 5: 16384 bytes');
--- request
GET /t
--- response_body
t
--- no_error_log
[error]
