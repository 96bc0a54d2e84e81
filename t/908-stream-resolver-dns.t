# stream {}: resolver and proxy_pass to "host:port" from variables, resolved at run time by the
# test's DNS server (t/lib/Test/MoongateDNS.pm), the access log's $upstream_*, $bytes_* and
# $session_time; and a UDP proxy in front of that DNS server answering real queries
# (hand-built packets). Passes on Debian's nginx too.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateDNS;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;
use IO::Select;

# send $data, read as many bytes back or until EOF
sub echo_back { (exchange($_[0], $_[1], want => length $_[1]))[0] }

# a DNS question for the A records of $name, with id $id
sub dns_query {
    my ($id, $name) = @_;
    my $q = pack('n6', $id, 0x0100, 1, 0, 0, 0);
    $q .= pack('C', length $_) . $_ for split /\./, $name;
    return $q . pack('Cnn', 0, 1, 1);
}

# past a name at $off (labels, or a compression pointer)
sub skip_name {
    my ($p, $off) = @_;
    while ($off < length $p) {
        my $l = ord substr($p, $off, 1);
        return $off + 2 if ($l & 0xc0) == 0xc0;
        return $off + 1 if $l == 0;
        $off += $l + 1;
    }
    return $off;
}

# (id, rcode, addresses) of a DNS answer
sub dns_answer {
    my $p = shift;
    return (undef) if length $p < 12;
    my ($id, $flags, $qd, $an) = unpack('n4', $p);
    my $off = 12;
    $off = skip_name($p, $off) + 4 for 1 .. $qd;
    my @a;
    for (1 .. $an) {
        $off = skip_name($p, $off);
        my ($type, $class, $ttl, $len) = unpack('nnNn', substr($p, $off, 10));
        $off += 10;
        push @a, join('.', unpack('C4', substr($p, $off, 4))) if $type == 1 && $len == 4;
        $off += $len;
    }
    return ($id, $flags & 0xf, @a);
}

my $dns = dns_start('echo.test' => { a => ['127.0.0.1'] }, 'slow.test' => { drop => 1 });
my $echo = tcp_server(\&echo_serve);
my @p = map { Test::Moongate::find_free_port() } 1 .. 6;
my $s = Test::MoongateProc->new(name => 'resolver', workers => 1);
my $dir = $s->dir;
my $alog = "$dir/logs/stream.log";
$s->write_conf(stream => <<"EOF");
    log_format up '\$server_port \$status "\$upstream_addr" \$upstream_bytes_sent '
                  '\$upstream_bytes_received \$bytes_received \$bytes_sent \$session_time '
                  '\$upstream_connect_time';
    access_log $alog up;
    resolver 127.0.0.1:$dns valid=30s;
    resolver_timeout 1s;
    map \$server_port \$target {
        $p[0] echo.test:$echo;
        $p[1] nope.test:$echo;
        $p[2] slow.test:$echo;
        $p[3] echo.test;
    }
    server { listen 127.0.0.1:$p[0]; proxy_pass \$target; }
    server { listen 127.0.0.1:$p[1]; proxy_pass \$target; }
    server { listen 127.0.0.1:$p[2]; proxy_pass \$target; }
    server { listen 127.0.0.1:$p[3]; proxy_pass \$target; }
    server { listen 127.0.0.1:$p[4] udp; proxy_pass 127.0.0.1:$dns; proxy_responses 1;
             proxy_timeout 2s; }
EOF
$s->start or stop_here('the server did not start');

sub log_lines { -f $alog ? split /\n/, slurp($alog) : () }
sub last_log_of {
    my $port = shift;
    my $line;
    wait_for(sub { ($line) = grep { /^$port / } log_lines(); defined $line }, 10);
    return $line // '';
}

is(echo_back($p[0], "hello"), "hello", 'proxy_pass $var with a name: resolved, proxied');
like(last_log_of($p[0]),
     qr/^$p[0] 200 "127\.0\.0\.1:$echo" 5 5 5 5 \d+\.\d{3} \d+\.\d{3}$/,
     'access_log: $upstream_addr, byte counts both ways, $session_time, $upstream_connect_time');
ok(scalar(grep { /^echo\.test A$/i } dns_queries()), 'the resolver was asked for echo.test');

my $mark = $s->log_mark;
is(echo_back($p[1], "x"), '', 'an unknown name: closed');
like(last_log_of($p[1]), qr/^$p[1] 500 "-" /, 'an unknown name: status 500, no upstream');
ok($s->wait_log(qr/\[error\] .*nope\.test could not be resolved \(3: Host not found\), client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[1], bytes from\/to client:0\/0, bytes from\/to upstream:0\/0/, $mark),
   'error_log: could not be resolved (3: Host not found)');

is(echo_back($p[2], "x"), '', 'a name the DNS server never answers: closed');
like(last_log_of($p[2]), qr/^$p[2] 500 "-" /, 'resolver_timeout: status 500');
ok($s->wait_log(qr/\[error\] .*slow\.test could not be resolved \(110: Operation timed out\)/, $mark),
   'error_log: could not be resolved (110: Operation timed out)');

is(echo_back($p[3], "x"), '', 'a name without a port: closed');
like(last_log_of($p[3]), qr/^$p[3] 500 /, 'a name without a port: status 500');
ok($s->wait_log(qr/\[error\] .*no port in upstream "echo\.test"/, $mark), 'error_log: no port in upstream');

# UDP: real DNS questions through the proxy, each answered
{
    my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[4]") or die $!;
    my $sel = IO::Select->new($u);
    my %got;
    for my $id (101 .. 105) {
        send($u, dns_query($id, $id == 105 ? 'nope.test' : 'echo.test'), 0);
        next unless $sel->can_read(5);
        recv($u, my $pkt, 4096, 0);
        my ($rid, $rcode, @a) = dns_answer($pkt);
        $got{$rid} = "$rcode @a";
    }
    is_deeply(\%got, { map({ $_ => '0 127.0.0.1' } 101 .. 104), 105 => '3 ' },
              'udp proxy in front of a DNS server: each question gets its answer');
}

$s->stop;
done_testing();
