# stream {}: TCP proxying (issue 20) with real clients and servers: a Perl TCP echo, a server
# that answers with the first line it got (PROXY protocol out), redis-server and memcached behind
# the proxy; upstream failover, return/set/access, PROXY protocol in, the access log and the
# error log lines. Passes on Debian's nginx too (its stream module is loaded dynamically).
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateRedis ();
use Test::More;
use Test::MoongateTcp qw(tcp_server echo_serve dead_port exchange);

my @Kids; # processes of this file's own (memcached)
END { kill 'KILL', @Kids if @Kids }
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes ();

# the first line received, sent back, then echo
sub line_serve {
    my $c = shift;
    my $line = '';
    while (sysread($c, my $ch, 1)) { $line .= $ch; last if $ch eq "\n" }
    syswrite($c, $line);
    echo_serve($c);
}

sub log_lines { my $f = shift; -f $f ? split /\n/, Test::MoongateProc::slurp($f) : () }

# wait for the access log to have $n lines
sub wait_log {
    my ($f, $n) = @_;
    wait_for(sub { scalar(log_lines($f)) >= $n }, 5);
    return [log_lines($f)];
}

my $echo = tcp_server(\&echo_serve);
my $liner = tcp_server(\&line_serve);
my $dead = dead_port();
my @p = map { Test::Moongate::find_free_port() } 1 .. 14;
my $echo2 = tcp_server(\&echo_serve);
my $dir;

my $s = Test::MoongateProc->new(name => 'stream', workers => 1, error_level => 'info');
$dir = $s->dir;
my $alog = "$dir/logs/stream.log";
$s->write_conf(stream => <<"EOF");
    log_format basic '\$remote_addr \$protocol \$status \$bytes_sent \$bytes_received '
                     '"\$upstream_addr" "\$upstream_bytes_sent" "\$upstream_bytes_received" '
                     '\$server_port';
    access_log $alog basic;
    upstream failover { server 127.0.0.1:$dead; server 127.0.0.1:$echo; }
    upstream nothing { server 127.0.0.1:$dead; }
    upstream backup { server 127.0.0.1:$dead; server 127.0.0.1:$echo backup; }
    server { listen 127.0.0.1:$p[0]; proxy_pass 127.0.0.1:$echo; }
    server { listen 127.0.0.1:$p[1]; proxy_pass failover; }
    server { listen 127.0.0.1:$p[2]; proxy_pass nothing; }
    server { listen 127.0.0.1:$p[3]; set \$who "is \$remote_addr"; return "you \$who\\n"; }
    server { listen 127.0.0.1:$p[4]; deny 127.0.0.1; allow all; return "in\\n"; }
    server { listen 127.0.0.1:$p[5] proxy_protocol;
             return "\$proxy_protocol_addr:\$proxy_protocol_port \$remote_addr\\n"; }
    server { listen 127.0.0.1:$p[6]; proxy_pass 127.0.0.1:$liner; proxy_protocol on; }
    server { listen 127.0.0.1:$p[7]; proxy_pass backup; proxy_next_upstream_tries 5; }
    server { listen 127.0.0.1:$p[8]; proxy_pass 127.0.0.1:$echo; proxy_timeout 1s; }
    split_clients "abc\${server_port}x" \$bucket { 10% one; 30% two; * three; }
    split_clients "abc" \$fixed { 10% one; 30% two; * three; }
    server { listen 127.0.0.1:$p[9]; return "\$fixed\n"; }
    server { listen 127.0.0.1:$p[10] proxy_protocol; set_real_ip_from 127.0.0.0/8;
             deny 192.0.2.66;
             return "\$remote_addr:\$remote_port \$realip_remote_addr:\$realip_remote_port\n"; }
    limit_conn_zone \$binary_remote_addr zone=perip:1m;
    server { listen 127.0.0.1:$p[11]; limit_conn perip 1; proxy_pass 127.0.0.1:$echo; }
    map \$server_port \$route { $p[12] "exact \$protocol"; default none; }
    map "x\$remote_addr" \$net { ~^x127\\. loopback; default other; }
    server { listen 127.0.0.1:$p[12]; return "\$route \$net\n"; }
    upstream hashed { hash "k\$server_port" consistent; server 127.0.0.1:$echo; server 127.0.0.1:$echo2; }
    server { listen 127.0.0.1:$p[13]; proxy_pass hashed; }
EOF
$s->start or stop_here('the server did not start');
my $n = 0;

# an echo through the proxy, both ways, in pieces
{
    my ($got) = exchange($p[0], "hello\n", 6);
    is($got, "hello\n", 'proxy_pass ADDRESS: the echo comes back');
    my $big = 'x' x 300000;
    ($got) = exchange($p[0], $big, length $big);
    is(length $got, length $big, 'proxy_pass: 300000 bytes go there and back');
    my $l = wait_log($alog, $n += 2);
    is($l->[0], qq{127.0.0.1 TCP 200 6 6 "127.0.0.1:$echo" "6" "6" $p[0]},
       'access_log: addresses, status, byte counts both sides, $server_port');
}

# failover: the first peer refuses, the second answers
{
    my ($got) = exchange($p[1], "ping\n", 5);
    is($got, "ping\n", 'upstream: a refused peer is skipped');
    my $l = wait_log($alog, ++$n);
    is($l->[-1], qq{127.0.0.1 TCP 200 5 5 "127.0.0.1:$dead, 127.0.0.1:$echo" "0, 5" "0, 5" $p[1]},
       'access_log: $upstream_addr and the byte counts of both tries');
    ok($s->wait_log(qr/\[error\] .*connect\(\) failed \(111: Connection refused\) while connecting to upstream, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[1], upstream: "127\.0\.0\.1:$dead"/),
       'error_log: connect() failed ... while connecting to upstream');
}

# no live peer: 502, the client gets nothing
{
    my ($got, $eof) = exchange($p[2], "ping\n", undef);
    is($got, '', 'all peers down: nothing comes back');
    ok($eof, 'all peers down: the connection is closed');
    my $l = wait_log($alog, ++$n);
    like($l->[-1], qr/^127\.0\.0\.1 TCP 502 0 \d+ "127\.0\.0\.1:$dead" "0" "0" $p[2]$/,
         'access_log: status 502');
}

# backup: used once the primary failed
{
    my ($got) = exchange($p[7], "b\n", 2);
    is($got, "b\n", 'backup peer answers when the primary is down');
    $n++;
}

# return and set
{
    my ($got) = exchange($p[3], '', undef);
    is($got, "you is 127.0.0.1\n", 'return with a set variable');
    $n++;
}

# access
{
    my ($got, $eof) = exchange($p[4], '', undef);
    is($got, '', 'deny: nothing sent');
    my $l = wait_log($alog, ++$n);
    like($l->[-1], qr/^127\.0\.0\.1 TCP 403 0 0 "-" "-" "-" $p[4]$/, 'deny: status 403 in the log');
    ok($s->wait_log(qr/\[error\] .*access forbidden by rule while initializing session, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[4]/),
       'error_log: access forbidden by rule');
}

# PROXY protocol in
{
    my ($got) = exchange($p[5], "PROXY TCP4 192.0.2.7 198.51.100.1 4321 80\r\n", undef);
    is($got, "192.0.2.7:4321 127.0.0.1\n", 'listen proxy_protocol: $proxy_protocol_addr/_port');
    $n++;
    ($got) = exchange($p[5], "PROXY TCP4 nonsense\r\n", undef);
    is($got, '', 'a broken PROXY header: closed without an answer');
    ok($s->wait_log(qr/\[error\] .*broken header: "PROXY TCP4 nonsense/), 'error_log: broken header');
    $n++;
}

# PROXY protocol out
{
    my ($got) = exchange($p[6], "data\n", 200, timeout => 2);
    like($got, qr/^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ $p[6]\r\ndata\n$/,
         'proxy_protocol on: the PROXY v1 line goes first, then the client bytes');
    $n++;
}

# proxy_timeout: an idle session ends
{
    my $t0 = Time::HiRes::time();
    my ($got, $eof) = exchange($p[8], "a", undef, timeout => 5);
    my $took = Time::HiRes::time() - $t0;
    ok($eof && $got eq 'a' && $took < 4, 'proxy_timeout 1s: the idle session is closed')
        or diag("got '$got' eof $eof after $took s");
    $n++;
}

# realip in stream: a trusted client's PROXY header source becomes the address
{
    my ($got) = exchange($p[10], "PROXY TCP4 192.0.2.7 198.51.100.1 4321 80\r\n", undef);
    like($got, qr/^192\.0\.2\.7:4321 127\.0\.0\.1:\d+\n$/,
         'set_real_ip_from: $remote_addr/_port from the PROXY header, $realip_remote_addr/_port the peer');
    ($got) = exchange($p[10], "PROXY TCP4 192.0.2.66 198.51.100.1 4321 80\r\n", undef);
    is($got, '', 'set_real_ip_from: access checks the real address');
    $n += 2;
}

# limit_conn in stream: one session per address
{
    my $held = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p[11]") or die;
    syswrite($held, "1\n");
    my $sel = IO::Select->new($held);
    $sel->can_read(5) and sysread($held, my $b, 10);
    my ($got, $eof) = exchange($p[11], "2\n", undef);
    ok($eof && $got eq '', 'limit_conn 1: a second session of the address is closed');
    ok($s->wait_log(qr/\[error\] .*limiting connections by zone "perip"/),
       'error_log: limiting connections by zone');
    close $held;
    my $l = wait_log($alog, $n + 2);
    ok((grep { /^127\.0\.0\.1 TCP 503 0 \d+ "-" "-" "-" $p[11]$/ } @$l), 'access_log: status 503');
    $n += 2;
    ok(wait_for(sub { (exchange($p[11], "3\n", 2))[0] eq "3\n" }, 5),
       'limit_conn: once the first session ended, a new one is let in');
    $n++;
}

# map in stream: an exact key (its value with a variable) and a regex
{
    my ($got) = exchange($p[12], '', undef);
    is($got, "exact TCP loopback\n", 'map in stream: exact key, regex, values with variables');
    $n++;
}

# hash in a stream upstream: one key, one peer
{
    my @got = map { (exchange($p[13], "h$_\n", 3))[0] } 1 .. 4;
    is_deeply(\@got, ["h1\n", "h2\n", "h3\n", "h4\n"], 'hash consistent: sessions proxied');
    my $l = wait_log($alog, $n += 4);
    my %peers = map { /"(127\.0\.0\.1:\d+)"/ ? ($1 => 1) : () } grep { / $p[13]$/ } @$l;
    is(scalar(keys %peers), 1, 'hash: every session of the key went to the same peer');
}

# split_clients in stream: the bucket nginx's MurmurHash2 gives "abc"
{
    my ($got) = exchange($p[9], '', undef);
    is($got, "one\n", 'split_clients in stream');
    $n++;
}

# redis and memcached behind the proxy
SKIP: {
    my $rport = Test::MoongateRedis::start() or skip($Test::MoongateRedis::Why, 2);
    my $mport;
    my $mc = -x '/usr/bin/memcached';
    if ($mc) {
        $mport = Test::Moongate::find_free_port();
        my $pid = fork // die;
        if ($pid == 0) {
            { exec '/usr/bin/memcached', '-l', '127.0.0.1', '-p', $mport, '-U', '0', '-u', 'nobody' }
            POSIX::_exit(1);
        }
        push @Kids, $pid;
        wait_for(sub { IO::Socket::INET->new(PeerAddr => "127.0.0.1:$mport") }, 5);
    }
    my @q = map { Test::Moongate::find_free_port() } 1 .. 2;
    $s->write_conf(stream => <<"EOF");
    server { listen 127.0.0.1:$q[0]; proxy_pass 127.0.0.1:$rport; }
    server { listen 127.0.0.1:$q[1]; proxy_pass 127.0.0.1:${\($mport // 1)}; }
EOF
    my ($code) = $s->reload;
    is($code, 0, 'reload to the redis/memcached config');
    my ($got) = exchange($q[0], "SET k v\r\nGET k\r\nPING\r\n", 18);
    is($got, "+OK\r\n\$1\r\nv\r\n+PONG\r\n", 'redis-server behind the stream proxy');
    skip('no /usr/bin/memcached', 1) unless $mc;
    ($got) = exchange($q[1], "set k 0 0 2\r\nvv\r\nget k\r\n", 37);
    is($got, "STORED\r\nVALUE k 0 2\r\nvv\r\nEND\r\n", 'memcached behind the stream proxy');
}

$s->stop;
done_testing();
