# tcp_nodelay: TCP_NODELAY is set where nginx sets it (a connection going keepalive, TLS,
# unbuffered proxying), not at every response: a plain connection that closes after its response
# never gets it. Seen from the worker's own socket: pidfd_getfd(2) copies it into this process,
# where getsockopt reads the flag.
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::MoongateBackend;
use Test::MoongateRaw qw(worker_nodelay);
use Test::Moongate::Certs;
use Test::More;
use IO::Socket::INET;
use IO::Socket::SSL;

my $dir = Test::Moongate::Certs::make();
alarm 120; # a read that never ends fails the file instead of hanging it

# the flag on the worker's end of the connection whose peer is $cport (-1: no such socket)
sub nodelay_of {
    my ($pid, $lport, $cport) = @_;
    return worker_nodelay($pid, sub { $_[0] == $cport && $_[1] == $lport });
}

# read up to the end of a head; then the whole body when $len is known
sub read_head {
    my ($sock, $len) = @_;
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        my $n = sysread($sock, $buf, 4096, length $buf);
        last unless $n;
    }
    if (defined $len) {
        my ($head) = $buf =~ /\A(.*?\r\n\r\n)/s;
        while (length($buf) < length($head) + $len) {
            my $n = sysread($sock, $buf, 4096, length $buf);
            last unless $n;
        }
    }
    return $buf;
}

backend(ws => 'websocket');
my $bport = Test::Moongate::find_free_port();
my $tport = Test::Moongate::find_free_port();
my $big = 'x' x 4000;
my $slow = "limit_rate_after 1k; limit_rate 1; return 200 \"$big\";";
my $s = Test::MoongateProc->new(name => 'nodelay', workers => 1,
    http => "    server {\n        listen 127.0.0.1:$bport;\n"
          . "        location / { $slow }\n"
          . "        location /fast { return 200 \"$big\"; }\n    }\n"
          . "    server {\n        listen 127.0.0.1:$tport ssl;\n"
          . "        ssl_certificate $dir/localhost.crt;\n"
          . "        ssl_certificate_key $dir/localhost.key;\n"
          . "        location / { $slow }\n    }\n",
    server => "        location /slow { $slow }\n"
            . "        location /small { return 200 \"ok\"; }\n"
            . "        location /off { tcp_nodelay off; return 200 \"ok\"; }\n"
            . "        location /unbuffered { proxy_buffering off; proxy_pass http://127.0.0.1:$bport/; }\n"
            . "        location /ws { proxy_http_version 1.1; proxy_set_header Upgrade \$http_upgrade;\n"
            . "            proxy_set_header Connection upgrade;\n"
            . "            proxy_pass http://127.0.0.1:$Test::MoongateBackend::Port{ws}; }\n"
            . "        location /buffered { limit_rate_after 1k; limit_rate 1;\n"
            . "                             proxy_pass http://127.0.0.1:$bport/fast; }\n");
ok($s->start, 'started') or BAIL_OUT('no server');
my ($w) = $s->workers;
my $wpid = $w->[0];
my $port = $s->port;

sub plain {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
        or die "connect: $!";
    return $c;
}

# a plain HTTP/1.0 connection closing after its response: none while the response goes
{
    my $c = plain();
    print $c "GET /slow HTTP/1.0\r\n\r\n";
    like(read_head($c), qr{^HTTP/1\.1 200}, 'HTTP/1.0: the head came');
    is(nodelay_of($wpid, $port, $c->sockport), 0, 'HTTP/1.0, closing: no TCP_NODELAY');
}

# a keepalive response in progress: not yet (nginx sets it when the connection goes keepalive)
{
    my $c = plain();
    print $c "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
    like(read_head($c), qr{^HTTP/1\.1 200}, 'HTTP/1.1: the head came');
    is(nodelay_of($wpid, $port, $c->sockport), 0, 'HTTP/1.1, during its first response: not yet');
}

# once the connection waits for its next request, it has it
{
    my $c = plain();
    print $c "GET /small HTTP/1.1\r\nHost: x\r\n\r\n";
    like(read_head($c, 2), qr{\r\n\r\nok\z}, 'keepalive: the response came');
    ok(wait_for(sub { nodelay_of($wpid, $port, $c->sockport) == 1 }, 5),
       'kept alive: TCP_NODELAY');
}

# tcp_nodelay off: not even then (two requests: the first one's keepalive is surely done)
{
    my $c = plain();
    print $c "GET /off HTTP/1.1\r\nHost: x\r\n\r\n";
    like(read_head($c, 2), qr{ok\z}, 'off: first response');
    print $c "GET /off HTTP/1.1\r\nHost: x\r\n\r\n";
    like(read_head($c, 2), qr{ok\z}, 'off: second response');
    is(nodelay_of($wpid, $port, $c->sockport), 0, 'tcp_nodelay off: none');
}

# unbuffered proxying: the client's connection has it; buffered: it does not
{
    my $c = plain();
    print $c "GET /unbuffered HTTP/1.0\r\n\r\n";
    like(read_head($c), qr{^HTTP/1\.1 200}, 'unbuffered: the head came');
    is(nodelay_of($wpid, $port, $c->sockport), 1, 'unbuffered proxying: TCP_NODELAY');
    $c = plain();
    print $c "GET /buffered HTTP/1.0\r\n\r\n";
    like(read_head($c), qr{^HTTP/1\.1 200}, 'buffered: the head came');
    is(nodelay_of($wpid, $port, $c->sockport), 0, 'buffered proxying, closing: none');
}

# a 101 tunnel: the client's connection has it
{
    my $c = plain();
    print $c "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    like(read_head($c), qr{^HTTP/1\.1 101}, 'upgrade: 101 came');
    ok(wait_for(sub { nodelay_of($wpid, $port, $c->sockport) == 1 }, 5), '101 tunnel: TCP_NODELAY');
}

# TLS: from the handshake on, also for a connection that closes after its response
{
    my $c = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $tport, Timeout => 5,
                                 SSL_verify_mode => 0, SSL_hostname => 'localhost')
        or die "TLS connect: $SSL_ERROR";
    print $c "GET / HTTP/1.0\r\n\r\n";
    my $buf = '';
    $buf .= $_ while defined($_ = <$c>) && $_ ne "\r\n";
    like($buf, qr{^HTTP/1\.1 200}, 'TLS: the head came');
    is(nodelay_of($wpid, $tport, $c->sockport), 1, 'TLS, closing: TCP_NODELAY');
}

# TLS: from the handshake's first byte (the default server's tcp_nodelay), as nginx 1.22, not
# only once it is done: a ClientHello (made by Python's ssl over memory BIOs) is sent on a plain
# socket and the server's first flight read back; the handshake stays unfinished while the flag
# is read
{
    my $hello = `python3 -c 'import ssl, sys
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
o = ssl.MemoryBIO(); t = c.wrap_bio(ssl.MemoryBIO(), o, server_hostname="localhost")
try: t.do_handshake()
except ssl.SSLWantReadError: pass
sys.stdout.buffer.write(o.read())'`;
    ok(length($hello) > 5 && substr($hello, 0, 1) eq "\x16", 'TLS mid-handshake: a ClientHello made');
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tport, Timeout => 5)
        or die "connect: $!";
    print $c $hello;
    my $rin = '';
    vec($rin, fileno($c), 1) = 1;
    ok(select(my $rout = $rin, undef, undef, 10) > 0, "TLS mid-handshake: the server's flight came");
    is(nodelay_of($wpid, $tport, $c->sockport), 1, 'TLS mid-handshake: TCP_NODELAY');
    close $c;
}

$s->stop;
done_testing;
