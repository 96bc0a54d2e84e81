# stream server_name (issue 20; ngx_stream_core_module's since nginx 1.25.5): several servers
# on one address, the session's server chosen by the TLS SNI of a "listen ... ssl" handshake
# (its certificate too) or by ssl_preread's server name: exact names, leading and trailing
# wildcards, regexes, the default server (default_server, else the first); $server_name; the
# chosen server's ssl_reject_handshake; configuration errors with FILE:LINE.
# moongate only: nginx 1.22 has no server_name in stream (the whole file is skipped there).
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::MoongateTcp;
use Test::More;
use IO::Socket::SSL;

plan skip_all => 'stream server_name: nginx >= 1.25.5 (Debian\'s 1.22 lacks it)' if is_nginx();

my $c = Test::Moongate::Certs::make();
my @p = map { Test::Moongate::find_free_port() } 1 .. 3;
my $s = Test::MoongateProc->new(name => 'stream_server_name', workers => 1, error_level => 'info');

sub certs { "ssl_certificate $c/$_[0].crt; ssl_certificate_key $c/$_[0].key;" }
$s->write_conf(stream => <<"EOF");
    # TLS terminated here: SNI picks the server and its certificate
    server { listen 127.0.0.1:$p[0] ssl; server_name a.test exact.wild.test; @{[certs('a.test')]}
             return "s1 \$server_name \$ssl_server_name\\n"; }
    server { listen 127.0.0.1:$p[0] ssl default_server; server_name default.test; @{[certs('localhost')]}
             return "s2 \$server_name \$ssl_server_name\\n"; }
    server { listen 127.0.0.1:$p[0] ssl; server_name *.wild.test; @{[certs('wild')]}
             return "s3 \$server_name \$ssl_server_name\\n"; }
    server { listen 127.0.0.1:$p[0] ssl; server_name "~^re(\\d+)\\.test\$"; @{[certs('localhost')]}
             return "s4 \$server_name \$ssl_server_name\\n"; }
    server { listen 127.0.0.1:$p[0] ssl; server_name .dot.test b.*; @{[certs('b.test')]}
             return "s5 \$server_name \$ssl_server_name\\n"; }
    server { listen 127.0.0.1:$p[0] ssl; server_name reject.test; ssl_reject_handshake on;
             return "s6\\n"; }

    # TLS passed through: ssl_preread's server name picks the server
    server { listen 127.0.0.1:$p[1]; server_name first.test; ssl_preread on;
             return "p1 \$server_name \$ssl_preread_server_name\\n"; }
    server { listen 127.0.0.1:$p[1]; server_name a.test; ssl_preread on;
             return "p2 \$server_name \$ssl_preread_server_name\\n"; }

    # one server alone: its name in \$server_name, no server_name: ""
    server { listen 127.0.0.1:$p[2]; return "alone [\$server_name]\\n"; }
EOF
$s->start or stop_here('the server did not start');

# a handshake with $sni: the certificate's CN and the server's line, or "failed"
sub tls {
    my ($sni) = @_;
    my $t = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $p[0], SSL_verify_mode => 0,
                                 defined $sni ? (SSL_hostname => $sni) : (), Timeout => 5)
        or return 'failed';
    my $cn = $t->peer_certificate('cn') // '-';
    my $line = <$t> // '';
    chomp $line;
    close $t;
    return "$cn $line";
}

is(tls('a.test'), 'a.test s1 a.test a.test', 'SNI a.test: its server and certificate');
is(tls('A.Test'), 'a.test s1 a.test A.Test', 'names are matched without case');
is(tls('x.wild.test'), '*.wild.test s3 *.wild.test x.wild.test', 'a leading wildcard');
is(tls('exact.wild.test'), 'a.test s1 a.test exact.wild.test', 'an exact name before a wildcard');
is(tls('re42.test'), 'localhost s4 ~^re(\d+)\.test$ re42.test', 'a regex');
is(tls('dot.test'), 'b.test s5 dot.test dot.test', '".dot.test" matches dot.test (\$server_name without the dot, as nginx)');
is(tls('x.dot.test'), 'b.test s5 dot.test x.dot.test', '... and its subdomains');
is(tls('b.example'), 'b.test s5 dot.test b.example', 'a trailing wildcard');
is(tls('unknown.test'), 'localhost s2 default.test unknown.test', 'another name: the default_server');
is(tls(undef), 'localhost s2 default.test ', 'no SNI: the default_server');
my $mark = $s->log_mark;
is(tls('reject.test'), 'failed', 'the chosen server\'s ssl_reject_handshake refuses');
ok($s->wait_log(qr/\[info\] .*handshake rejected/, $mark), '... logged as http\'s');

# ssl_preread: the ClientHello is read, not answered; the chosen server's return answers
sub preread {
    my ($sni) = @_;
    my ($got) = exchange($p[1], client_hello(sni => $sni), undef, timeout => 5);
    return $got;
}
is(preread('a.test'), "p2 a.test a.test\n", 'ssl_preread\'s server name picks the server');
is(preread('none.test'), "p1 first.test none.test\n", 'another name: the first server (no default_server)');
is((exchange($p[2], '', undef))[0], "alone []\n", 'no server_name: $server_name is empty');

unlike($s->log_since(0), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');

# the socket's options on the second server's listen: that listen makes the socket, the
# first server stays the default
{
    my $conf = $s->conf_file;
    my $good = Test::MoongateProc::slurp($conf);
    (my $t = $good) =~ s/listen 127\.0\.0\.1:$p[1]; server_name a\.test;/listen 127.0.0.1:$p[1] backlog=10; server_name a.test;/
        or die 'no match';
    Test::MoongateProc::spew($conf, $t);
    is(($s->reload)[0], 0, 'reload: backlog= on the second server\'s listen');
    is(preread('a.test'), "p2 a.test a.test\n", '... a.test still its server');
    is(preread('none.test'), "p1 first.test none.test\n", '... another name the first server');
    Test::MoongateProc::spew($conf, $good);
}

# configuration errors
{
    my $conf = $s->conf_file;
    my $good = Test::MoongateProc::slurp($conf);
    my @bad = (
        [qr/server_name default\.test;/, 'server_name default.test; listen 127.0.0.1:' . $p[0] . ';',
         qr/duplicate "127\.0\.0\.1:$p[0]" address and port pair in \Q$conf\E:\d+/, 'an address twice in a server'],
        [qr/ssl; server_name \*\.wild\.test;/, 'ssl default_server; server_name *.wild.test;',
         qr/a duplicate default server for 127\.0\.0\.1:$p[0] in \Q$conf\E:\d+/, 'two default servers'],
        [qr/listen 127\.0\.0\.1:$p[1]; server_name a\.test;/, "listen 127.0.0.1:$p[1] backlog=10; server_name a.test;",
         undef, 'options on one of the listens: accepted'],
        [qr/server_name first\.test;/, "server_name first.test; listen 127.0.0.1:$p[2] backlog=5;",
         undef, 'options on one listen each of two addresses: accepted'],
        [qr/server_name reject\.test;/, 'server_name re*ject.test;',
         qr/\[emerg\] invalid server name or wildcard "re\*ject\.test" on 127\.0\.0\.1:$p[0]\n/, 'a star in the middle'],
    );
    for my $b (@bad) {
        my ($re, $with, $err, $what) = @$b;
        (my $t = $good) =~ s/$re/$with/ or die "no match for $re";
        Test::MoongateProc::spew($conf, $t);
        my ($code, $out, $e) = $s->cmd('-t');
        if ($err) {
            isnt($code, 0, "$what: refused");
            like($e, $err, "... with nginx's words (FILE:LINE, or the address for a name)");
        } else {
            is($code, 0, $what) or diag($e);
        }
    }
    my $t = $good;
    $t =~ s/(listen 127\.0\.0\.1:$p[1];) (server_name first)/listen 127.0.0.1:$p[1] backlog=10; $2/;
    $t =~ s/(listen 127\.0\.0\.1:$p[1];) (server_name a\.test)/listen 127.0.0.1:$p[1] rcvbuf=64k; $2/;
    Test::MoongateProc::spew($conf, $t);
    my ($code, $out, $e) = $s->cmd('-t');
    like($e, qr/duplicate listen options for 127\.0\.0\.1:$p[1] in \Q$conf\E:\d+/, 'options on two listens of an address: refused');
    Test::MoongateProc::spew($conf, $good);
}

$s->stop;
done_testing();
