# Found by sending the same raw bytes to Debian's nginx 1.22 and moongate: after a 413 the client
# may still be sending its body. nginx goes on reading and dropping it as long as bytes keep
# coming within lingering_timeout of each other (up to lingering_time); moongate closed
# lingering_timeout after the response whatever came meanwhile, so a client still sending
# got a reset (and could lose the 413 it had not read yet).
#
#   prove -I t/lib t/972-diff-raw-lingering.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/972-diff-raw-lingering.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();

plan 'no_plan';

# A head announcing a large body, then `pieces` pieces `gap` seconds apart: (all sent, answer)
sub slow_body {
    my ($head, $pieces, $gap) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort,
                                  Proto => 'tcp', Timeout => 3) or return (0, "connect: $!");
    syswrite($s, $head) or return (0, "head: $!");
    for (1 .. $pieces) {
        Time::HiRes::sleep($gap);
        defined syswrite($s, 'x' x 1000) or return (0, "piece $_: $!");
    }
    my $sel = IO::Select->new($s);
    my $out = '';
    while ($sel->can_read(5)) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $out .= $buf;
    }
    return (1, $out);
}

run_tests();

__DATA__

=== TEST 1: 413, the body still coming for longer than lingering_timeout: read and dropped, no reset
--- config
    lingering_timeout 1s;
    location /t { client_max_body_size 1k; return 200 "ok\n"; }
--- init
my ($sent, $out) = main::slow_body(
    "POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n", 20, 0.1);
Test::More::ok($sent, "all the body went out: the server kept reading") or Test::More::diag($out);
Test::More::like($out, qr{\AHTTP/1\.1 413 }, "the 413 was there to read");
--- request
GET /t
--- response_body
ok
--- error_log
client intended to send too large body: 100000 bytes
