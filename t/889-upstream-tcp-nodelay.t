# tcp_nodelay on the upstream side: nginx sets TCP_NODELAY on a connection to an upstream only
# at three moments, where tcp_nodelay is on: a 101 tunnel (both ends pass bytes on as they
# come), an unbuffered request body going up in pieces, and the start of TLS when the session
# may be resumed (proxy_ssl_session_reuse); not at connect, not for unbuffered responses (the
# client's end only), not on a kept connection for that alone. Read from the worker's own socket
# as t/884 does: pidfd_getfd(2) copies it into this process.
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::MoongateBackend;
use Test::Moongate::Certs;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Test::MoongateRaw qw(worker_nodelay);

my $dir = Test::Moongate::Certs::make();
$SIG{PIPE} = "IGNORE";
alarm 120; # a read that never ends fails the file instead of hanging it

# the flag on the worker's connection to $peer (its own listener's end excluded; -1: no such
# socket)
sub upstream_nodelay {
    my ($pid, $peer) = @_;
    return worker_nodelay($pid, sub { $_[0] == $peer && $_[1] != $peer });
}

# read until $re matches what came (or EOF, or 10 s without a byte); $idle, when given, runs
# each half second without one (a backend_release the backend may have missed)
sub read_until {
    my ($sock, $re, $idle) = @_;
    my $buf = '';
    my $sel = IO::Select->new($sock);
    my $quiet = 0;
    while ($buf !~ $re && $quiet < 10) {
        unless ($sel->can_read(0.5)) {
            $quiet += 0.5;
            $idle->() if $idle;
            next;
        }
        my $n = sysread($sock, $buf, 4096, length $buf);
        last unless $n;
        $quiet = 0;
    }
    return $buf;
}

my $echo = backend(echo => 'echo');
my $up = backend(up => 'echo');
my $ws = backend(ws => 'websocket');
my $drip = backend(drip => 'drip', interval => 0.2, count => 40);
my $tport = Test::Moongate::find_free_port();
my $slow = "limit_rate_after 1k; limit_rate 1; return 200 \"" . ('x' x 4000) . "\";";
my $ws_loc = "proxy_http_version 1.1; proxy_set_header Upgrade \$http_upgrade;\n"
           . "            proxy_set_header Connection upgrade; proxy_pass http://127.0.0.1:$ws;";
my $https = "proxy_buffering off; proxy_pass https://127.0.0.1:$tport/;";
my $s = Test::MoongateProc->new(name => 'upnodelay', workers => 1,
    http => "    upstream kept { server 127.0.0.1:$echo; keepalive 4; }\n"
          . "    server {\n        listen 127.0.0.1:$tport ssl;\n"
          . "        ssl_certificate $dir/localhost.crt;\n"
          . "        ssl_certificate_key $dir/localhost.key;\n"
          . "        location / { $slow }\n    }\n",
    server => "        location /buffered { proxy_pass http://127.0.0.1:$echo; }\n"
            . "        location /unbuffered { proxy_buffering off; proxy_pass http://127.0.0.1:$drip; }\n"
            . "        location /kept { proxy_http_version 1.1; proxy_set_header Connection \"\";\n"
            . "            proxy_pass http://kept; }\n"
            . "        location /ws { $ws_loc }\n"
            . "        location /ws-off { tcp_nodelay off; $ws_loc }\n"
            . "        location /upload { proxy_request_buffering off; proxy_pass http://127.0.0.1:$up; }\n"
            . "        location /upload-off { tcp_nodelay off; proxy_request_buffering off;\n"
            . "            proxy_pass http://127.0.0.1:$up; }\n"
            . "        location /https { $https }\n"
            . "        location /https-noreuse { proxy_ssl_session_reuse off; $https }\n"
            . "        location /https-off { tcp_nodelay off; $https }\n");
ok($s->start, 'started') or BAIL_OUT('no server');
my ($w) = $s->workers;
my $wpid = $w->[0];
my $port = $s->port;

sub plain {
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
        || die "connect: $!";
}

# the request went up, its answer has not come: the connection to the upstream has none
{
    my $c = plain();
    print $c "GET /buffered HTTP/1.0\r\nX-Echo-Delay: 20\r\n\r\n";
    ok(wait_for(sub { scalar(my @l = backend_log('echo')) }, 5), 'buffered: request up');
    is(upstream_nodelay($wpid, $echo), 0, 'buffered, waiting for the answer: no TCP_NODELAY');
    like(read_until($c, qr{\r\n\r\n}, sub { backend_release('echo') }), qr{^HTTP/1\.1 200},
         'buffered: the answer came');
}

# unbuffered proxying: the client's end has it, the upstream's does not
{
    my $c = plain();
    print $c "GET /unbuffered HTTP/1.0\r\n\r\n";
    like(read_until($c, qr{\r\n\r\n}), qr{^HTTP/1\.1 200}, 'unbuffered: the head came');
    is(upstream_nodelay($wpid, $drip), 0, 'unbuffered, response under way: none upstream');
}

# an unbuffered request body: the upstream's end has it from the request's first write, as the
# body's pieces go up as they come (not with tcp_nodelay off); a body all there with the head
# goes as a buffered one, and so does a request with none: no TCP_NODELAY
for my $case (['/upload', 1, 'half sent'], ['/upload-off', 0, 'half sent, tcp_nodelay off']) {
    my ($uri, $want, $what) = @$case;
    my $c = plain();
    print $c "POST $uri HTTP/1.0\r\nContent-Length: 9\r\n\r\nhalf";
    ok(wait_for(sub { upstream_nodelay($wpid, $up) >= 0 }, 5), "unbuffered body, $what: connected");
    # set at the first write, which follows the connect: waited for (a loaded machine can read
    # the flag in between); where it must not come, 2 s without it
    my $seen = wait_for(sub { upstream_nodelay($wpid, $up) == 1 }, $want ? 10 : 2) ? 1 : 0;
    is($seen, $want, "unbuffered body, $what: " . ($want ? 'TCP_NODELAY' : 'none'));
    print $c "-done";
    like(read_until($c, qr{half-done}), qr{^HTTP/1\.1 200.*half-done}s, "unbuffered body, $what: echoed");
    close $c;
    ok(wait_for(sub { upstream_nodelay($wpid, $up) == -1 }, 10), "unbuffered body, $what: closed");
}
for my $case (["POST /upload HTTP/1.0\r\nContent-Length: 4\r\n", 'body', 'the whole body with the head'],
              ["GET /upload HTTP/1.0\r\n", '', 'no body']) {
    my ($head, $body, $what) = @$case;
    backend_log_clear('up');
    my $c = plain();
    print $c "${head}X-Echo-Delay: 20\r\n\r\n$body";
    ok(wait_for(sub { scalar(my @l = grep { $_->[3] eq '/upload' } backend_log('up')) }, 5),
       "request buffering off, $what: request up");
    is(upstream_nodelay($wpid, $up), 0, "request buffering off, $what: none");
    like(read_until($c, qr{\r\n\r\n}, sub { backend_release('up') }), qr{^HTTP/1\.1 200},
         "request buffering off, $what: answered");
    close $c;
    ok(wait_for(sub { upstream_nodelay($wpid, $up) == -1 }, 10), "request buffering off, $what: closed");
}

# a kept upstream connection, idle in the pool: none
{
    my $c = plain();
    print $c "GET /kept HTTP/1.0\r\n\r\n";
    like(read_until($c, qr{\r\n\r\n}), qr{^HTTP/1\.1 200}, 'kept: the answer came');
    is(upstream_nodelay($wpid, $echo), 0, 'idle kept connection: none');
}

# a 101 tunnel: both ends have it, the upstream's too; with tcp_nodelay off neither
{
    my $c = plain();
    print $c "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    like(read_until($c, qr{hello\n}), qr{^HTTP/1\.1 101}, 'upgrade: 101 came');
    ok(wait_for(sub { upstream_nodelay($wpid, $ws) == 1 }, 5), '101 tunnel: TCP_NODELAY upstream');
    print $c "bye\n";
    close $c;
    ok(wait_for(sub { upstream_nodelay($wpid, $ws) == -1 }, 5), 'tunnel closed');
    $c = plain();
    print $c "GET /ws-off HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    like(read_until($c, qr{hello\n}), qr{^HTTP/1\.1 101}, 'tcp_nodelay off: 101 came');
    print $c "ping\n";
    like(read_until($c, qr{ping\n}), qr{ping\n}, 'tcp_nodelay off: the tunnel echoes');
    is(upstream_nodelay($wpid, $ws), 0, 'tcp_nodelay off: none upstream');
    print $c "bye\n";
}

# https: at the TLS start, where the session may be reused (proxy_ssl_session_reuse, on by
# default) and tcp_nodelay is on; not otherwise. The TLS server's slow answer keeps the
# connection up while it is read (unbuffered: its head comes at once).
for my $case (['/https', 1, 'session reuse on'], ['/https-noreuse', 0, 'proxy_ssl_session_reuse off'],
              ['/https-off', 0, 'tcp_nodelay off']) {
    my ($uri, $want, $what) = @$case;
    my $c = plain();
    print $c "GET $uri HTTP/1.0\r\n\r\n";
    like(read_until($c, qr{\r\n\r\n}), qr{^HTTP/1\.1 200}, "https, $what: the head came");
    is(upstream_nodelay($wpid, $tport), $want, "https upstream, $what: " . ($want ? 'TCP_NODELAY' : 'none'));
    close $c;
    ok(wait_for(sub { upstream_nodelay($wpid, $tport) == -1 }, 10), "https, $what: closed");
}

$s->stop;
done_testing;
