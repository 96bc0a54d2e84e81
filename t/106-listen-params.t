# listen's socket parameters: backlog=, rcvbuf=, sndbuf=, so_keepalive=on|off|idle:intvl:cnt,
# fastopen=, deferred, bind, ipv6only=, reuseport, with nginx's verdicts at -t (setfib= is
# FreeBSD's and an invalid parameter on Linux; accept_filter= is logged and ignored), the options
# of an address taken from the one listen that gives them, and what the kernel then holds: the
# socket's options are read back from the serving process (pidfd_getfd, root only) and the
# backlog is the Send-Q of the listening socket in `ss -ltn`.  A reload re-applies them as nginx
# does: buffers, keepalive and fastopen set again, a new backlog through listen() again,
# deferred turned on or off; what a listen no longer says is left as it was.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/106-listen-params.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Socket qw(:all);

plan 'no_plan';

$ENV{TEST_NGINX_PORT2} = Test::Moongate::find_free_port();

# The options of the listening socket on 127.0.0.1:$port (or any address) held by process $pid,
# read through a copy of its descriptor; undef when the system does not let us (not root, an old
# kernel).
sub sockopts {
    my ($pid, $port) = @_;
    my $pidfd = syscall(434, $pid + 0, 0);                 # pidfd_open
    return undef if $pidfd < 0;
    my $found;
    for my $link (glob "/proc/$pid/fd/*") {
        next unless (readlink($link) // '') =~ /^socket:/;
        my ($n) = $link =~ /(\d+)$/;
        my $fd = syscall(438, $pidfd, $n + 0, 0);          # pidfd_getfd
        next if $fd < 0;
        open(my $fh, '+<&=', $fd) or next;
        my $name = getsockname($fh) or next;
        next unless sockaddr_family($name) == AF_INET && (sockaddr_in($name))[0] == $port;
        my $opt = sub { unpack 'i', getsockopt($fh, $_[0], $_[1]) // pack('i', -1) };
        next unless $opt->(SOL_SOCKET, SO_ACCEPTCONN);
        $found = { rcvbuf => $opt->(SOL_SOCKET, SO_RCVBUF), sndbuf => $opt->(SOL_SOCKET, SO_SNDBUF),
                   keepalive => $opt->(SOL_SOCKET, SO_KEEPALIVE),
                   keepidle => $opt->(IPPROTO_TCP, TCP_KEEPIDLE),
                   keepintvl => $opt->(IPPROTO_TCP, TCP_KEEPINTVL),
                   keepcnt => $opt->(IPPROTO_TCP, TCP_KEEPCNT),
                   fastopen => $opt->(IPPROTO_TCP, TCP_FASTOPEN),
                   deferred => $opt->(IPPROTO_TCP, TCP_DEFER_ACCEPT) ? 1 : 0 };
        last;
    }
    POSIX::close($pidfd);
    return $found;
}

# The backlog of the socket listening on 127.0.0.1:$port: Send-Q in `ss -ltn`.
sub backlog {
    my $port = shift;
    for (`ss -ltnH 2>/dev/null`) {
        my @f = split;
        return $f[2] if ($f[3] // '') eq "127.0.0.1:$port";
    }
    return undef;
}

# Checks a block's listening socket on $port against $want (a hashref, backlog included).
sub check_socket {
    my ($port, $want, $name) = @_;
    my $pid = Test::Moongate::read_pid();
    SKIP: {
        my $got = $pid && sockopts($pid, $port);
        skip "$name: the socket cannot be read back here (pidfd_getfd needs root)",
             scalar keys %$want unless $got;
        for my $k (sort keys %$want) {
            my $v = $k eq 'backlog' ? backlog($port) : $got->{$k};
            Test::More::is($v, $want->{$k}, "$name: $k");
        }
    }
}

run_tests();

# ---------------------------------------------------------------------------
# a reload re-applies the options to the socket that stays

my $s = Test::MoongateProc->new(name => 'listen', workers => 1,
    listen => 'rcvbuf=16k sndbuf=32k so_keepalive=1m:2:3 fastopen=5 backlog=7 deferred',
    server => 'location / { return 200 "ok\n"; }');
my $m = $s->start;
ok($m, 'a master with the options starts') or exit;
my $pre = sockopts($m, $s->port);
SKIP: {
    skip 'the socket cannot be read back here (pidfd_getfd needs root)', 20 unless $pre;
    is_deeply([@$pre{qw(rcvbuf sndbuf keepalive keepidle keepintvl keepcnt fastopen deferred)},
               backlog($s->port)], [32768, 65536, 1, 60, 2, 3, 5, 1, 7],
              'at start: rcvbuf, sndbuf (doubled by the kernel), keepalive 60/2/3, fastopen, deferred, backlog');
    my @steps = (
        ['rcvbuf=64k backlog=9 so_keepalive=off',
         [131072, 65536, 0, 60, 2, 3, 5, 0, 9],
         'rcvbuf and backlog changed, so_keepalive off, deferred gone: the rest stays as it was'],
        ['so_keepalive=5m:: deferred fastopen=0',
         [131072, 65536, 1, 300, 2, 3, 0, 1, 511],
         'keepalive on with a new idle time, deferred back, fastopen 0, the default backlog'],
        ['', [131072, 65536, 1, 300, 2, 3, 0, 0, 511],
         'no options: deferred off, nothing else touched'],
    );
    for my $st (@steps) {
        $s->write_conf(listen => $st->[0]);
        my ($code, $out, $err) = $s->reload;
        is($code, 0, "reload to \"listen ... $st->[0]\"") or diag("$out$err");
        is(http_get($s->port, '/')->{body}, "ok\n", '... serves');
        my $o = sockopts($m, $s->port) || {};
        is_deeply([@$o{qw(rcvbuf sndbuf keepalive keepidle keepintvl keepcnt fastopen deferred)},
                   backlog($s->port)], $st->[1], "... $st->[2]");
    }
    unlike(Test::Moongate::slurp($s->error_log), qr/\[(?:alert|emerg|crit|error|warn)\]/,
           'nothing to complain about in the error log');
}
$s->stop;

__DATA__

=== TEST 1: the options reach the socket; backlog is its Send-Q
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2 backlog=7 rcvbuf=16k sndbuf=32k fastopen=3 deferred so_keepalive=1m:10:4;
        return 200 "port 2\n";
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
main::check_socket($ENV{TEST_NGINX_PORT2}, { backlog => 7, rcvbuf => 32768, sndbuf => 65536,
                   fastopen => 3, deferred => 1, keepalive => 1, keepidle => 60, keepintvl => 10,
                   keepcnt => 4 }, 'listen options');
main::check_socket($ServerPort, { backlog => 511, fastopen => 0, deferred => 0, keepalive => 0 },
                   'a plain listen');
--- response_body
ok



=== TEST 2: the options of an address come from whichever of its listens gives them
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        server_name one;
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2 default_server backlog=5 so_keepalive=on;
        server_name two;
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
main::check_socket($ENV{TEST_NGINX_PORT2}, { backlog => 5, keepalive => 1 }, 'options of the second listen');
--- response_body
ok



=== TEST 3: so_keepalive with the count only; rcvbuf=0 is taken (the system's minimum)
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2 so_keepalive=::5 rcvbuf=0;
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
main::check_socket($ENV{TEST_NGINX_PORT2}, { keepalive => 1, keepcnt => 5, keepidle => 7200,
                   rcvbuf => 2304 }, 'so_keepalive=::5');
--- response_body
ok



=== TEST 4: accept_filter= is FreeBSD's: logged at emerg and ignored, as nginx does on Linux
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2 accept_filter=dataready;
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- init
    # said while the config is read, before the error log is open: on stderr
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[emerg\] .*accept filters "accept_filter=dataready" are not supported on this platform, ignored in .*\.conf:\d+$/m,
                     'the line on -t');
    Test::More::is($code, 0, '-t succeeds');
--- response_body
ok



=== TEST 5: setfib= is FreeBSD's: an invalid parameter on Linux
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 setfib=1;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "setfib=1" in .*:\d+/



=== TEST 6: bad backlog
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 backlog=0;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid backlog "backlog=0" in .*:\d+/



=== TEST 7: bad rcvbuf
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 rcvbuf=x;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid rcvbuf "rcvbuf=x" in .*:\d+/



=== TEST 8: bad sndbuf: no g unit
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 sndbuf=1g;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid sndbuf "sndbuf=1g" in .*:\d+/



=== TEST 9: bad fastopen
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 fastopen=-1;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid fastopen "fastopen=-1" in .*:\d+/



=== TEST 10: bad ipv6only
--- config
    listen [::1]:$TEST_NGINX_PORT2 ipv6only=yes;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "ipv6only=yes" in .*:\d+/



=== TEST 11: so_keepalive: all three left out
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 so_keepalive=::;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid so_keepalive value: "::" in .*:\d+/



=== TEST 12: so_keepalive: a zero
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 so_keepalive=0::;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid so_keepalive value: "0::" in .*:\d+/



=== TEST 13: so_keepalive: a bad time, and four fields
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 so_keepalive=1h:1x:;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid so_keepalive value: "1h:1x:" in .*:\d+/



=== TEST 14: so_keepalive: four fields
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 so_keepalive=1:2:3:4;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid so_keepalive value: "1:2:3:4" in .*:\d+/



=== TEST 15: socket options twice for one address
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2 backlog=4;
    }
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 rcvbuf=8k;
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate listen options for 127\.0\.0\.1:\d+ in .*:\d+/



=== TEST 16: ipv6only=on on an IPv4 address is taken and changes nothing
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2 ipv6only=on bind;
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 17: an unknown parameter
--- config
    listen 127.0.0.1:$TEST_NGINX_PORT2 fast;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "fast" in .*:\d+/



=== TEST 18: options on a unix-domain socket: the TCP ones fail, logged and ignored, as nginx
--- http_config
    server {
        listen unix:$TEST_NGINX_SERVROOT/l.sock so_keepalive=1:1:1 fastopen=3 deferred;
    }
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- error_log eval
[qr/\[alert\] .*setsockopt\(TCP_KEEPIDLE, 1\) unix:.*l\.sock failed, ignored \(95: Operation not supported\)/,
 qr/\[alert\] .*setsockopt\(TCP_FASTOPEN, 3\) unix:.*l\.sock failed, ignored \(95: Operation not supported\)/,
 qr/\[alert\] .*setsockopt\(TCP_DEFER_ACCEPT, 1\) for unix:.*l\.sock failed, ignored \(95: Operation not supported\)/]
