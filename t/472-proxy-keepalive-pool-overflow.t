# The upstream keepalive pool when more connections are in use than it keeps ("keepalive N":
# at most N idle per worker; when it is full, the least recently used goes), as nginx's:
# C requests at once open C connections, N stay once they are answered and the next C at once
# open C - N more; the pool hands out its most recently used connection first; a connection
# put into a full pool closes the least recently used one, whichever server it is to.
# t/bench/proxy-churn.sh counts the same under wrk's load.
#
#   prove -I t/lib t/472-proxy-keepalive-pool-overflow.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/472-proxy-keepalive-pool-overflow.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

# a backend per block: each numbers its connections from 1
backend($_ => 'counting') for qw(k l a b c d e f m);

# $n requests at once, each held by the backend until all $n are there: the bodies, in the
# order the requests were sent
sub wave {
    my ($n, $name) = @_;
    my $before = backend_log($name);
    my @s = map { client_connect() } 1 .. $n;
    client_send($_, "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Echo-Delay: 30\r\n\r\n")
        for @s;
    my $until = time + 10;
    Time::HiRes::sleep(0.02) while backend_log($name) < $before + $n && time < $until;
    Test::More::is(backend_log($name) - $before, $n, "$n requests held upstream at once");
    backend_release($name);
    my @bodies;
    for my $s (@s) {
        my ($got) = client_read($s, qr/\r\n\r\n.*\n/s, 5);
        push @bodies, $got =~ /\r\n\r\n(.*\n)/s ? $1 : '';
        close $s;
    }
    return @bodies;
}

# the connections the proxy closed, once there are $n (or 5 s went)
sub closed {
    my ($name, $n) = @_;
    my $until = time + 5;
    Time::HiRes::sleep(0.02) while backend_closed($name) < $n && time < $until;
    return scalar backend_closed($name);
}

sub get_body {
    my $s = client_connect();
    client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my ($got) = client_read($s, qr/\r\n\r\n.*\n/s, 5);
    close $s;
    return $got =~ /\r\n\r\n(.*\n)/s ? $1 : '';
}

# TCP sockets with bytes not yet read whose (local or remote) port is $port
sub unread {
    my ($port, $side) = @_;
    open my $fh, '<', '/proc/net/tcp' or return 0;
    <$fh>;
    my $n = 0;
    while (<$fh>) {
        my @f = split;
        my $p = hex((split /:/, $side eq 'remote' ? $f[2] : $f[1])[1]);
        $n++ if $p == $port && hex((split /:/, $f[4])[1]) > 0;
    }
    return $n;
}

# a process's state letter (T: stopped)
sub state {
    open my $fh, '<', "/proc/$_[0]/stat" or return '';
    return <$fh> =~ /\) (\S)/ ? $1 : '';
}

sub wait_unread {
    my ($port, $side, $n) = @_;
    my $until = time + 10;
    Time::HiRes::sleep(0.02) while unread($port, $side) < $n && time < $until;
    return unread($port, $side);
}

run_tests();

__DATA__

=== TEST 1: keepalive 2, three requests at once twice: 3 connections, one closed, then one more (4 for 6)
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 2;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- init
my @first = main::wave(3, 'k');
Test::More::is(join('', sort @first), "k conn=1 req=1\nk conn=2 req=1\nk conn=3 req=1\n",
               'TEST 1: three connections for three requests at once');
Test::More::is(main::closed('k', 1), 1, 'TEST 1: the full pool closes one of them');
my @second = main::wave(3, 'k');
Test::More::is(scalar(grep { /req=2\n/ } @second), 2, 'TEST 1: the two kept are used again');
Test::More::is(scalar(grep { /\Ak conn=4 req=1\n\z/ } @second), 1, 'TEST 1: one new connection');
Test::More::is(main::closed('k', 2), 2, 'TEST 1: and again one closed');
--- request
GET /t
--- response_body_like: ^k conn=[1-4] req=[23]\n$



=== TEST 2: the most recently used connection is handed out first: one after another, the same one
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_L_PORT;
        keepalive 2;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- init
main::wave(2, 'l');
my ($c1) = main::get_body() =~ /conn=(\d+) req=2/;
Test::More::ok($c1, 'TEST 2: a kept connection, its second request');
Test::More::like(main::get_body(), qr/\Al conn=$c1 req=3\n\z/, 'TEST 2: the same one again');
Test::More::like(main::get_body(), qr/\Al conn=$c1 req=4\n\z/, 'TEST 2: and again');
--- request
GET /t
--- response_body_like: ^l conn=[12] req=5\n$



=== TEST 3: a full pool closes the least recently used, whichever server it is to (keepalive 2, three servers in turn)
--- http_config
    upstream abc {
        server 127.0.0.1:$TEST_NGINX_A_PORT;
        server 127.0.0.1:$TEST_NGINX_B_PORT;
        server 127.0.0.1:$TEST_NGINX_C_PORT;
        keepalive 2;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://abc;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- response_body eval
["a conn=1 req=1\n", "b conn=1 req=1\n", "c conn=1 req=1\n", "a conn=2 req=1\n",
 "b conn=2 req=1\n", "c conn=2 req=1\n"]



=== TEST 4: the same with keepalive 3: all three kept, each reused
--- http_config
    upstream abc {
        server 127.0.0.1:$TEST_NGINX_D_PORT;
        server 127.0.0.1:$TEST_NGINX_E_PORT;
        server 127.0.0.1:$TEST_NGINX_F_PORT;
        keepalive 3;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://abc;
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- response_body eval
["d conn=1 req=1\n", "e conn=1 req=1\n", "f conn=1 req=1\n", "d conn=1 req=2\n",
 "e conn=1 req=2\n", "f conn=1 req=2\n"]



=== TEST 5: two answers and two requests one turn of the loop handles: the answers' connections serve the requests (keepalive 1: the pool is brought back to its size at the turn's end; nginx closes one at once and connects anew)
--- moongate_only
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_M_PORT;
        keepalive 1;
    }
--- config
    location /t {
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
    location = /ping { return 200 "pong\n"; }
--- init
my $up = $Test::MoongateBackend::Port{m};
my $port = Test::Moongate::server_port();
# two clients the server has taken (a request answered: kept alive, waiting)
my @later = map { client_connect() } 1 .. 2;
for my $s (@later) {
    client_send($s, "GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n");
    Test::More::like(scalar client_read($s, qr/pong\n/, 5), qr/pong\n/, 'TEST 5: a client kept alive');
}
# two requests held upstream: two connections
my @held = map { client_connect() } 1 .. 2;
client_send($_, "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Echo-Delay: 30\r\n\r\n")
    for @held;
my $until = time + 10;
Time::HiRes::sleep(0.02) while backend_log('m') < 2 && time < $until;
# the server stopped, both answers reach its upstream sockets, then both requests its client
# sockets: its next epoll_wait reports the answers first, then the requests
my $pid = Test::Moongate::read_pid();
kill 'STOP', $pid;
# stopped, not only signalled: an answer before that would be taken by its epoll_wait
$until = time + 10;
Time::HiRes::sleep(0.01) while main::state($pid) ne 'T' && time < $until;
Test::More::is(main::state($pid), 'T', 'TEST 5: the server is stopped');
backend_release('m');
Test::More::is(main::wait_unread($up, 'remote', 2), 2, 'TEST 5: both answers wait in the server\'s sockets');
client_send($_, "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n") for @later;
Test::More::is(main::wait_unread($port, 'local', 2), 2, 'TEST 5: both requests wait too');
kill 'CONT', $pid;
for my $s (@held) {
    Test::More::like(scalar client_read($s, qr/req=1\n/, 5), qr/m conn=[12] req=1\n/, 'TEST 5: a held answer');
    close $s;
}
my @bodies;
for my $s (@later) {
    my $got = client_read($s, qr/\r\n\r\n.*\n/s, 5);
    push @bodies, $got =~ /\r\n\r\n(.*\n)/s ? $1 : '';
    close $s;
}
Test::More::is(join('', sort @bodies), "m conn=1 req=2\nm conn=2 req=2\n",
               'TEST 5: both requests on the two connections, none new');
--- request
GET /t
--- response_body_like: ^m conn=[12] req=3\n$
