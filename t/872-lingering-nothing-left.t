# lingering_close on, the other side of t/871: a client that sent nothing after its request
# gets no lingering close (the socket is closed at once, so what it sends after the EOF is
# reset), over TLS too, where the handshake's end and the request's read leave OpenSSL nothing;
# the same after a kept-alive request on the connection; and a client that closed its side
# (FIN) with its request gets the answer and the EOF.
#
#   prove -I t/lib t/872-lingering-nothing-left.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/872-lingering-nothing-left.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::INET ();
use IO::Socket::SSL ();
use IO::Select ();
use Test::MoongateRaw qw(server_conn read_end);
use POSIX ();
use Time::HiRes ();

Test::Moongate::Certs::make();

plan 'no_plan';

sub conn { server_conn(@_) }

# After the server's EOF, does it still read what the client sends (lingering) or was the
# socket closed (a reset)? Raw bytes, under TLS too; two writes apart (the first one's RST
# makes the second fail)
sub after_eof {
    my $s = shift;
    local $SIG{PIPE} = 'IGNORE';
    my $fd = fileno($s);
    POSIX::write($fd, 'x', 1);
    Time::HiRes::sleep(0.3);
    return defined POSIX::write($fd, 'y', 1) ? 'read on' : 'RST';
}

# requests @heads on one connection, each answer read before the next is sent: (answers, how
# it ended after the last, what became of bytes sent after the EOF)
sub exchange_close {
    my ($tls, @heads) = @_;
    my $s = conn($tls);
    my ($all, $how) = ('');
    for my $i (0 .. $#heads) {
        print {$s} $heads[$i];
        my ($out, $h) = read_end($s, $i < $#heads ? qr/\r\n\r\nk \S+\n/ : undef);
        $all .= $out;
        $how = $h;
    }
    return ($all, $how, after_eof($s));
}

our $Conf = <<'EOF';
    location = /t { return 200 "t\n"; }
    location /k { lingering_timeout 5s; return 200 "k $uri\n"; }
EOF

run_tests();

__DATA__

=== TEST 1: plain HTTP/1.0, nothing more sent: closed at once, not lingering
--- config eval: $main::Conf
--- init
my ($out, $how, $after) = main::exchange_close(0, "GET /k/1 HTTP/1.0\r\n\r\n");
Test::More::like($out, qr{\r\n\r\nk /k/1\n\z}, 'TEST 1: the answer');
Test::More::is($how, 'EOF', 'TEST 1: then EOF');
Test::More::is($after, 'RST', 'TEST 1: not lingering: what the client sends next is reset');
--- request
GET /t
--- response_body
t



=== TEST 2: TLS HTTP/1.0 after a full handshake, nothing more sent: closed at once, not lingering
--- ssl
--- config eval: $main::Conf
--- init
my ($out, $how, $after) = main::exchange_close(1, "GET /k/2 HTTP/1.0\r\n\r\n");
Test::More::like($out, qr{\r\n\r\nk /k/2\n\z}, 'TEST 2: the answer');
Test::More::is($how, 'EOF', 'TEST 2: then EOF');
Test::More::is($after, 'RST', 'TEST 2: not lingering: what the client sends next is reset');
--- request
GET /t
--- response_body
t



=== TEST 3: a kept-alive request, then one with Connection: close, plain and TLS: closed at once
--- ssl
--- config eval: $main::Conf
--- init
my @heads = ("GET /k/a HTTP/1.1\r\nHost: localhost\r\n\r\n",
             "GET /k/b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
my ($out, $how, $after) = main::exchange_close(1, @heads);
Test::More::like($out, qr{\r\n\r\nk /k/a\n.*\r\n\r\nk /k/b\n\z}s, 'TEST 3: both answers');
Test::More::is($how, 'EOF', 'TEST 3: then EOF');
Test::More::is($after, 'RST', 'TEST 3: not lingering: what the client sends next is reset');
--- request
GET /t
--- response_body
t



=== TEST 4: the same on a plain connection
--- config eval: $main::Conf
--- init
my @heads = ("GET /k/a HTTP/1.1\r\nHost: localhost\r\n\r\n",
             "GET /k/b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
my ($out, $how, $after) = main::exchange_close(0, @heads);
Test::More::like($out, qr{\r\n\r\nk /k/a\n.*\r\n\r\nk /k/b\n\z}s, 'TEST 4: both answers');
Test::More::is($how, 'EOF', 'TEST 4: then EOF');
Test::More::is($after, 'RST', 'TEST 4: not lingering: what the client sends next is reset');
--- request
GET /t
--- response_body
t



=== TEST 5: the request and the client's FIN together: the answer, then EOF
--- config eval: $main::Conf
--- init
my $s = main::conn(0);
syswrite($s, "GET /k/5 HTTP/1.0\r\n\r\n");
shutdown($s, 1);
my ($out, $how) = main::read_end($s);
Test::More::like($out, qr{^HTTP/1\.1 200 .*\r\n\r\nk /k/5\n\z}s, 'TEST 5: the answer');
Test::More::is($how, 'EOF', 'TEST 5: then EOF');
--- request
GET /t
--- response_body
t
