# What an idle HTTPS keepalive connection costs the worker (t/630 has the first word on it, with
# the harness's RSA certificate; this one takes ECDSA P-256, TLS 1.2 and 1.3, and a response
# larger than a record): the worker's settled VmRSS growth for N connections, each after one
# request, divided by N. Such a connection holds OpenSSL's SSL object (7.4 KiB in OpenSSL 3.0),
# its session, its two cipher contexts and the handshake's hash, and moongate's connection in
# its pool's first block (832 bytes); not OpenSSL's record buffers (SSL_MODE_RELEASE_BUFFERS
# frees them once a read or a write leaves nothing in them: the read-ahead buffer as well), nor
# a gathering buffer (the server's), nor the head buffer (the worker's spare ones), nor a copy
# of an empty certificate chain or an ex_data stack (core/ssl.h's mg_ssl_conn_of). Measured
# here (OpenSSL 3.0.22, 400 connections): TLS 1.2 14.1 KiB (14.3 with those two; nginx 1.22
# 14.2), TLS 1.3 15.1 (15.3; nginx 15.1), after a 64 KiB response the same. The bounds catch
# a record buffer kept while idle (16 KiB and more), a gathering buffer (16) or a head buffer
# (1), not a few dozen bytes: the worker's RSS before moves by ~100 KiB from run to run (0.25
# KiB a connection of 400). Every held connection then serves a second request.
#
#   prove -I t/lib t/471-ssl-idle-memory.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/471-ssl-idle-memory.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::Moongate::Certs;
use Test::More;
use IO::Socket::SSL;
use IO::Select ();
use Time::HiRes ();

# under a sanitizer (its quarantine keeps freed blocks) RSS says nothing: the connections are
# made, held and asked again, memory is not checked
my $Asan = $ENV{ASAN_OPTIONS};

my $N = 400;
my %MaxKiB = (tls12 => 15.5, tls13 => 16.5, 'tls13-big' => 16.5);
my $Big = 65536;

my $certs = Test::Moongate::Certs::make();

sub asleep { my $w = shift; (slurp("/proc/$w/stat") =~ /\)\s+(\S)/)[0] eq 'S' }
# dies when unread: undef on both sides would make the cost 0 KiB, under any bound
sub rss {
    my $w = shift;
    my ($kb) = slurp("/proc/$w/status") =~ /^VmRSS:\s+(\d+)/m;
    return $kb // die "rss: no VmRSS for pid '$w'\n";
}

# the worker's VmRSS once it sleeps and has not changed for 1 s (bounded: the last reading
# after 30 s)
sub settled_rss {
    my $w = shift;
    my $deadline = Time::HiRes::time() + 30;
    my ($last, $since) = (rss($w), Time::HiRes::time());
    while (Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.1);
        my $now = rss($w);
        if ($now != $last || !asleep($w)) {
            ($last, $since) = ($now, Time::HiRes::time());
        } elsif (Time::HiRes::time() - $since >= 1) {
            last;
        }
    }
    return $last;
}

# one request on $c (a connection, or undef for a new one of TLS $proto): the connection when
# answered 200 with the body the path gives
sub ask {
    my ($port, $proto, $path, $c) = @_;
    $c //= IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                SSL_verify_mode => SSL_VERIFY_NONE, Timeout => 30)
        or return;
    return if $c->get_sslversion ne $proto;
    print $c "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my $want = $path eq '/big' ? $Big : 3;
    my $got = '';
    my $sel = IO::Select->new($c);
    while (1) {
        if ($got =~ /\r\n\r\n/ && length($got) - $+[0] >= $want) {
            last;
        }
        last unless $c->pending || $sel->can_read(30);
        my $n = sysread($c, $got, 65536, length $got);
        last unless $n;
    }
    return $got =~ /\AHTTP\/1\.1 200/ && $got =~ /\r\n\r\n(.*)\z/s && length($1) == $want
        ? $c : undef;
}

sub case {
    my ($name, $proto, $path, $extra) = @_;
    my $s = Test::MoongateProc->new(name => $name, workers => 1, listen => 'ssl',
        http => "    keepalive_requests 10000;\n    keepalive_timeout 300s;\n",
        server => "        ssl_certificate $certs/localhost-ec.crt;\n"
                . "        ssl_certificate_key $certs/localhost-ec.key;\n"
                . ($extra // '')
                . qq{        location / { return 200 "ok\\n"; }\n}
                . qq{        location = /big { root html; try_files /big.txt =404; }\n});
    $s->write_conf(text => $s->conf_text =~ s/worker_connections 512;/worker_connections 1024;/r);
    spew($s->html . '/big.txt', 'x' x $Big);
    ok($s->start, "$name: the server starts") or stop_here();
    my ($w) = $s->wait_workers(1);
    ok($w, "$name: one worker") or stop_here();
    my $port = $s->port;
    ok(ask($port, $proto, $path), "$name: a first connection (the worker's first-use memory)");
    ok(wait_for(sub { asleep($w) }, 30), "$name: the worker waits before");
    my $before = settled_rss($w);
    my @held;
    for (1 .. $N) {
        my $c = ask($port, $proto, $path) or last;
        push @held, $c;
    }
    is(scalar @held, $N, "$name: $N idle connections answered");
    ok(wait_for(sub { asleep($w) }, 30), "$name: the worker waits with them");
    my $per = (settled_rss($w) - $before) / $N;
    diag(sprintf "%s: %s: %.2f KiB of VmRSS per idle connection", proc_name(), $name, $per);
    cmp_ok($per, '<', $MaxKiB{$name},
           "$name: an idle connection costs the worker under $MaxKiB{$name} KiB")
        unless $Asan;
    my $again = grep { ask($port, $proto, '/', $_) } @held;
    is($again, scalar @held, "$name: each idle connection serves its next request");
    close $_ for @held;
    $s->stop;
}

# nginx 1.22's ssl_protocols (TLSv1 TLSv1.1 TLSv1.2) has no TLSv1.3
my $tls13 = "        ssl_protocols TLSv1.2 TLSv1.3;\n";
case('tls12', 'TLSv1_2', '/');
case('tls13', 'TLSv1_3', '/', $tls13);
case('tls13-big', 'TLSv1_3', '/big', $tls13);

done_testing();
