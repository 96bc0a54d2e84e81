# stream {}: pass (ngx_stream_pass_module, nginx >= 1.25.5; Debian's 1.22 has none: those
# parts run on moongate only) hands the accepted connection to http's or another stream
# server's listening socket, the bytes after a PROXY header with it; the core's
# variables_hash_*, tcp_nodelay and listen fastopen/backlog/so_keepalive, on both.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;

# what the server says before closing
sub answer { (exchange($_[0], $_[1]))[0] }

sub body { my $r = shift; $r =~ s/^.*?\r\n\r\n//s; $r }

my @p = map { Test::Moongate::find_free_port() } 1 .. 10;
my $s = Test::MoongateProc->new(name => 'pass', workers => 1, error_level => 'info',
    server => 'location / { return 200 "http $server_port $remote_addr\n"; }');
my $hp = $s->port;
my $pass = is_nginx() ? '' : <<"EOF";
    server { listen 127.0.0.1:$p[0]; pass 127.0.0.1:$hp; }
    server { listen 127.0.0.1:$p[1] proxy_protocol; set_real_ip_from 127.0.0.1; pass 127.0.0.1:$hp; }
    server { listen 127.0.0.1:$p[2]; pass 127.0.0.1:$p[3]; }
    map \$server_port \$target { $p[4] 127.0.0.1:$p[3]; default 127.0.0.1:1; }
    server { listen 127.0.0.1:$p[4]; pass \$target; }
    server { listen 127.0.0.1:$p[5]; pass \$target; }
    server { listen 127.0.0.1:$p[6]; pass 127.0.0.1:$p[6]; }
EOF
$s->write_conf(stream => <<"EOF");
    variables_hash_max_size 2048;
    variables_hash_bucket_size 128;
    tcp_nodelay off;
    server { listen 127.0.0.1:$p[3] fastopen=16 backlog=77 so_keepalive=on;
             return "stream \$server_port\\n"; }
$pass
EOF
$s->start or stop_here('the server did not start');

is(answer($p[3]), "stream $p[3]\n", 'listen fastopen/backlog/so_keepalive, tcp_nodelay off: served');
SKIP: {
    skip 'ss is not installed', 1 unless -x '/usr/bin/ss' || -x '/bin/ss';
    my $ss = `ss -ltnH 'sport = :$p[3]' 2>/dev/null`;
    like($ss, qr/^LISTEN\s+\d+\s+77\s/m, 'listen backlog=77: the socket\'s queue');
}

SKIP: {
    skip 'pass: nginx >= 1.25.5', 8 if is_nginx();
    like(answer($p[0], "GET / HTTP/1.0\r\n\r\n"), qr/^HTTP\/1\.1 200 .*\r\n\r\nhttp $p[0] 127\.0\.0\.1\n\z/s,
         'pass ADDRESS: http answers the passed connection');
    is(body(answer($p[1], "PROXY TCP4 192.0.2.9 192.0.2.1 5555 80\r\nGET / HTTP/1.0\r\n\r\n")),
       "http $p[1] 192.0.2.9\n",
       'pass after a PROXY header: the request bytes read with it reach http; realip\'s address too');
    is(answer($p[2]), "stream $p[2]\n", 'pass to another stream server');
    is(answer($p[4]), "stream $p[4]\n", 'pass $var');
    my $mark = $s->log_mark;
    is(answer($p[5]), '', 'pass to an address nothing listens on: closed');
    ok($s->wait_log(qr/\[error\] .*port not found for "127\.0\.0\.1:1" while passing connection to port, client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[5]/, $mark),
       'error_log: port not found');
    is(answer($p[6]), '', 'pass to itself: closed');
    ok($s->wait_log(qr/\[error\] .*stream pass cycle/, $mark),
       'error_log: a loop of passes ends');
}

# variables_hash_*: nginx's sizing answers, a warning or a refusal
{
    $s->write_conf(stream => <<"EOF");
    variables_hash_max_size 1;
    server { listen 127.0.0.1:$p[7]; return x; }
EOF
    my ($code, $out, $err) = $s->cmd('-t');
    is($code, 0, 'variables_hash_max_size 1: -t passes');
    like($err, qr/\[warn\] .*could not build optimal variables_hash, you should increase either variables_hash_max_size: 1 or variables_hash_bucket_size: 64; ignoring variables_hash_bucket_size/,
         'variables_hash_max_size too small: nginx\'s warning');
    my $long = 'v' x 70;
    $s->write_conf(stream => <<"EOF");
    map \$server_port \$$long { default x; }
    server { listen 127.0.0.1:$p[7]; return \$$long; }
EOF
    ($code, $out, $err) = $s->cmd('-t');
    isnt($code, 0, 'a variable name longer than the bucket: -t fails');
    like($err, qr/\[emerg\] .*could not build variables_hash, you should increase variables_hash_bucket_size: 64/,
         'variables_hash_bucket_size: nginx\'s message');
    $s->write_conf(stream => <<"EOF");
    server { listen 127.0.0.1:$p[7] fastopen=x; return x; }
EOF
    ($code, $out, $err) = $s->cmd('-t');
    like($err, qr/\[emerg\] .*invalid fastopen "fastopen=x" in \S+:\d+/, 'listen fastopen=x: refused');
}

$s->stop;
done_testing();
