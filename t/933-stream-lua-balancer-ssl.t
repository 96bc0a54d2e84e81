# stream balancer_by_lua peers over TLS (issue 20): `proxy_ssl on; proxy_ssl_session_reuse on;`
# with an upstream whose peer balancer_by_lua names, over many sessions (one after another and
# several at once), a reload between them and the server's stop. Such a peer lives in the
# session's memory, so its TLS session must not be kept in the generation's cleanup
# (mg_upstream_peer_session()); an ASan build of this file reports nothing when that holds.
# A group of plain peers beside it still resumes its peer's session.
# moongate only: Debian has no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::MoongateTcp;
use Test::More;
use IO::Socket::SSL;
use Net::SSLeay ();
use POSIX ();

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my $c = Test::Moongate::Certs::make();

# a TLS backend that says which one it is and whether the session resumed, then echoes; its
# context is made before the fork, so that every child shares the ticket keys
sub tls_backend {
    my $tag = shift;
    my $ctx = IO::Socket::SSL::SSL_Context->new(
        SSL_server => 1, SSL_cert_file => "$c/localhost.crt", SSL_key_file => "$c/localhost.key")
        or die "context: $SSL_ERROR";
    return tcp_server(sub {
        my $s = shift;
        IO::Socket::SSL->start_SSL($s, SSL_server => 1, SSL_reuse_ctx => $ctx) or return;
        printf $s "%s reused=%d\n", $tag, Net::SSLeay::session_reused($s->_get_ssl_object);
        while (my $l = <$s>) { print $s $l }
    });
}

my @b = map { tls_backend("b$_") } 0 .. 1;
my @p = map { Test::Moongate::find_free_port() } 1 .. 2;
my $s = Test::MoongateProc->new(name => 'stream_lua_balancer_ssl', workers => 2,
                                error_level => 'info');
$s->write_conf(stream => <<"EOF");
    # the peer is the backend the session's counter names: both are used, in turns
    lua_shared_dict n 1m;
    upstream lb {
        server 0.0.0.1:1234;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local n = ngx.shared.n:incr("k", 1, 0)
            assert(b.set_current_peer("127.0.0.1", n % 2 == 0 and $b[0] or $b[1]))
        }
    }
    upstream plain { server 127.0.0.1:$b[0]; }
    server { listen 127.0.0.1:$p[0]; proxy_ssl on; proxy_ssl_session_reuse on; proxy_pass lb; }
    server { listen 127.0.0.1:$p[1]; proxy_ssl on; proxy_ssl_session_reuse on; proxy_pass plain; }
EOF
$s->start or stop_here('the server did not start');

# the backend's line and the echo of $line, or what came
sub report {
    my ($port, $line) = @_;
    my ($got) = exchange($port, "$line\n", undef, until => qr/\n\Q$line\E\n/, timeout => 10);
    return $got;
}

# $n sessions at once through $port: how many came back whole, and the backends seen
sub parallel {
    my ($port, $n, $tag) = @_;
    my @kids;
    for my $i (1 .. $n) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $r;
            print $w report($port, "$tag$i");
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @kids, [$pid, $r, "$tag$i"];
    }
    my ($ok, %seen) = (0);
    for my $k (@kids) {
        my ($pid, $r, $line) = @$k;
        my $got = do { local $/; <$r> } // '';
        waitpid($pid, 0);
        if ($got =~ /^(b\d) reused=\d\n\Q$line\E\n$/) {
            $ok++;
            $seen{$1}++;
        }
    }
    return ($ok, join(' ', sort keys %seen));
}

my $mark = $s->log_mark;
my ($ok, %seen) = (0);
for my $i (1 .. 8) {
    my $got = report($p[0], "one$i");
    if ($got =~ /^(b\d) reused=\d\none$i\n$/) { $ok++; $seen{$1}++ } else { diag("session $i: $got") }
}
is($ok, 8, 'balancer_by_lua peer with proxy_ssl_session_reuse: 8 sessions one after another, each whole');
is(join(' ', sort keys %seen), 'b0 b1', '... through both peers the code named');

my ($n, $peers) = parallel($p[0], 10, 'par');
is($n, 10, '10 sessions at once through the balancer_by_lua peers, each whole');

# two workers, each with its peer's last session: of 5 sessions one worker has at least 3
my @r = map { report($p[1], "plain$_") =~ /reused=(\d)/ ? $1 : 'x' } 1 .. 5;
ok((grep { $_ eq '1' } @r) && !grep({ $_ eq 'x' } @r),
   'a plain group\'s peer beside it still resumes its session') or diag("@r");

my ($code) = $s->reload;
is($code, 0, 'reload');
($n) = parallel($p[0], 6, 'after');
is($n, 6, 'after the reload: 6 sessions at once, each whole');
for my $i (1 .. 4) {
    $ok = 0 if $i == 1;
    $ok++ if report($p[0], "late$i") =~ /^b\d reused=\d\nlate$i\n$/;
}
is($ok, 4, '... and 4 more one after another');

unlike($s->log_since($mark), qr/\[(alert|crit|emerg)\]|AddressSanitizer/,
       'no alert (nor sanitizer report) in the error log');
ok($s->stop, 'the server stops on TERM');
done_testing();
