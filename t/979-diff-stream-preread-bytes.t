# stream {}: $bytes_received counts what the content (proxy_pass) reads from the client, as
# Debian's nginx 1.22 does: the bytes a preread handler waited for (ssl_preread's ClientHello,
# or the first bytes it found not to be TLS) are not in it, though they reach the upstream
# ($upstream_bytes_sent). Bytes that came with a PROXY protocol header count when no preread
# handler took them (nginx reads only the header and leaves them for proxy_pass).
# preread_by_lua's sock:peek takes its bytes the same way: t/910 (moongate only).
#
#   prove -I t/lib t/979-diff-stream-preread-bytes.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/979-diff-stream-preread-bytes.t
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateTcp;
use Test::More;
use IO::Socket::INET;
use IO::Select;

my $echo = tcp_server(\&echo_serve);
my @p = map { Test::Moongate::find_free_port() } 1 .. 4;
my $s = Test::MoongateProc->new(name => 'spreread', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/s.log';
$s->write_conf(stream => <<"EOF");
    log_format s '\$server_port br=\$bytes_received ubs=\$upstream_bytes_sent bs=\$bytes_sent';
    access_log $alog s;
    server { listen 127.0.0.1:$p[0]; ssl_preread on; proxy_pass 127.0.0.1:$echo; }
    server { listen 127.0.0.1:$p[1]; ssl_preread on; proxy_pass 127.0.0.1:$echo; }
    server { listen 127.0.0.1:$p[2] proxy_protocol; ssl_preread on; proxy_pass 127.0.0.1:$echo; }
    server { listen 127.0.0.1:$p[3] proxy_protocol; proxy_pass 127.0.0.1:$echo; }
EOF
$s->start or stop_here('the server did not start');

# Each piece is written once the echo of the one before came back (so the first is all the
# preread phase had), then the connection is closed; returns what came back.
sub steps {
    my ($port, @pieces) = @_;
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or return "connect: $!";
    my $sel = IO::Select->new($c);
    my $all = '';
    for my $piece (@pieces) {
        syswrite($c, $piece);
        (my $back = $piece) =~ s/^PROXY [^\n]*\n//; # the header is not passed on
        my $want = length($all) + length($back);
        while (length($all) < $want && $sel->can_read(5)) {
            sysread($c, my $b, 65536) or last;
            $all .= $b;
        }
    }
    close $c;
    return $all;
}

my $pp = "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n";
my $hello = client_hello(sni => 'a.test');
my $n = length $hello;
is(steps($p[0], $hello, "more"), "${hello}more", 'ssl_preread: a ClientHello, then 4 bytes');
is(steps($p[1], "hello12", "more"), "hello12more", 'ssl_preread: not TLS, then 4 bytes');
is(steps($p[2], "${pp}hello12", "more"), "hello12more", 'PROXY header, ssl_preread');
is(steps($p[3], "${pp}hello12", "more"), "hello12more", 'PROXY header, no preread');

my %want = (
    $p[0] => "br=4 ubs=" . ($n + 4) . " bs=" . ($n + 4),
    $p[1] => "br=4 ubs=11 bs=11",
    $p[2] => "br=4 ubs=11 bs=11",
    $p[3] => "br=11 ubs=11 bs=11",
);
Test::MoongateProc::wait_for(sub { -f $alog && (() = slurp($alog) =~ /\n/g) >= 4 }, 10);
my %got = map { /^(\d+) (.*)$/ ? ($1 => $2) : () } split /\n/, slurp($alog) // '';
is($got{$p[0]}, $want{$p[0]}, 'ssl_preread: the ClientHello is not in $bytes_received, it went upstream');
is($got{$p[1]}, $want{$p[1]}, 'ssl_preread: bytes found not TLS are not in $bytes_received either');
is($got{$p[2]}, $want{$p[2]}, 'bytes after a PROXY header that ssl_preread took are not counted');
is($got{$p[3]}, $want{$p[3]}, 'bytes after a PROXY header with no preread handler are');

$s->stop;
done_testing();
