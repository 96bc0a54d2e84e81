# ssl_early_data on: a request that comes in TLS 1.3 early data is answered before the
# handshake ends, as nginx does (the response goes out as 0.5-RTT data, before the client's
# Finished), with $ssl_early_data "1"; the connection's next request, after the handshake,
# sees "". A relay between openssl s_client and the server passes the ClientHello and the
# early data record, then holds the client's further records (its EndOfEarlyData and
# Finished) until the server sent more than the response's body, or 5 s: it says whether the
# response came while they were held.
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes ();
use POSIX ();

Test::Moongate::Certs::make();
log_level('info');

my $BODY = 20000; # bytes of /big: more than any handshake flight

# One relayed connection from a fresh listening socket to the server; the child writes
# "early N" to $file: N the bytes the server sent while the client's records were held.
sub relay {
    my ($file) = @_;
    my $l = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  ReuseAddr => 1) or die "listen: $!";
    my $pid = fork // die "fork: $!";
    if ($pid) {
        my $port = $l->sockport;
        close $l;
        return ($port, $pid);
    }
    local $SIG{ALRM} = sub { POSIX::_exit(1) };
    alarm 20;
    my $c = $l->accept or POSIX::_exit(1);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $Test::Moongate::ServerPort) or POSIX::_exit(1);
    my ($cbuf, $held, $from_server, $records, $released, $t0) = ('', '', 0, 0, 0, undef);
    my $sel = IO::Select->new($c, $s);
    my $early_seen = 0;
    while (1) {
        if (!$released && defined $t0
            && ($from_server > $BODY || Time::HiRes::time() - $t0 > 5)) {
            open my $f, '>', $file;
            print $f "early $from_server\n";
            close $f;
            $released = 1;
            syswrite $s, $held if length $held;
            $held = '';
        }
        my @r = $sel->can_read(0.05);
        for my $h (@r) {
            my $n = sysread $h, my $buf, 65536;
            POSIX::_exit(0) unless $n;
            if ($h == $s) {
                $from_server += $n;
                syswrite $c, $buf;
                next;
            }
            if ($released) {
                syswrite $s, $buf;
                next;
            }
            # whole records: the ClientHello, a ChangeCipherSpec, the first application data
            # record (the early data) pass; what follows waits
            $cbuf .= $buf;
            while (length $cbuf >= 5) {
                my ($type, $len) = unpack 'C x2 n', $cbuf;
                last if length $cbuf < 5 + $len;
                my $rec = substr $cbuf, 0, 5 + $len, '';
                if (!$early_seen && ($type == 22 || $type == 20 || $type == 23)) {
                    $early_seen = 1 if $type == 23;
                    syswrite $s, $rec;
                } else {
                    $t0 //= Time::HiRes::time();
                    $held .= $rec;
                }
            }
        }
    }
}

# a session, then a resumed connection through the relay whose first request goes as early
# data and whose second follows the handshake: s_client's output and the relay's verdict
sub early {
    my $port = $Test::Moongate::ServerPort;
    my $root = $Test::Moongate::ServRoot;
    my $cmd = "timeout 15 openssl s_client -tls1_3 -servername localhost";
    open my $f, '>', "$root/early.txt" or die $!;
    print $f "GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n";
    close $f;
    # the ticket comes after the handshake: wait for it, longer on a loaded machine
    unlink "$root/sess.pem";
    for my $wait (1, 2, 4) {
        `(sleep $wait) | $cmd -connect 127.0.0.1:$port -sess_out $root/sess.pem 2>&1`;
        last if -s "$root/sess.pem";
    }
    unlink "$root/relay.txt";
    my ($rport, $pid) = relay("$root/relay.txt");
    my $second = 'printf "GET /after HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"';
    my $out = `(sleep 2; $second; sleep 1) | $cmd -connect 127.0.0.1:$rport -sess_in $root/sess.pem -early_data $root/early.txt 2>&1`;
    kill "TERM", $pid;
    waitpid $pid, 0;
    my $verdict = Test::Moongate::slurp("$root/relay.txt") // 'no verdict';
    return ($out, $verdict);
}

run_tests();

__DATA__

=== TEST 1: the request in early data is answered before the client's Finished
--- ssl
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_early_data on;
    location /big {
        add_header X-Early "[$ssl_early_data]";
        root html;
        try_files /big.txt =404;
    }
    location /after { return 200 "after=[$ssl_early_data]\n"; }
--- user_files eval
">>> big.txt\n" . ('x' x 19999) . "\n"
--- init
my ($out, $verdict) = main::early();
Test::More::like($out, qr/^Early data was accepted/m, "accepted") or Test::More::diag($out);
Test::More::like($verdict, qr/^early (\d+)$/, "the relay held the client's Finished");
my ($n) = $verdict =~ /(\d+)/;
Test::More::cmp_ok($n // 0, '>', 20000, "the response came before it");
Test::More::like($out, qr/^X-Early: \[1\]\r?$/m, "\$ssl_early_data is 1 for it");
Test::More::like($out, qr/^after=\[\]$/m, "the request after the handshake sees \"\"");
--- request
GET /after
--- response_body
after=[]
