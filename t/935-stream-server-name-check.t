# stream{}'s choice of a server by name (the TLS SNI, ssl_preread's server name) checks the
# client's name as nginx >= 1.25.5 does (its validate_host, http's Host check): a name with
# ".." (or "/", a space...) chooses no server, the address's default one serves; the name is
# lowercased and loses its port and a trailing dot. A regex name whose match fails with an
# error (PCRE2's JIT stack, not a no-match) ends the session: ssl_preread's with status 500, the
# TLS handshake's with an internal_error alert, as nginx's find_virtual_server.
# moongate only: nginx 1.22 has no server_name in stream (the whole file is skipped there).
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateTcp;
use Test::Moongate::Certs;
use Test::More;
use IO::Socket::SSL;

plan skip_all => 'stream server_name: nginx >= 1.25.5 (Debian\'s 1.22 lacks it)' if is_nginx();

my @p = map { Test::Moongate::find_free_port() } 1 .. 3;
my $c = Test::Moongate::Certs::make();
my $s = Test::MoongateProc->new(name => 'stream_server_name_check', workers => 1,
                                error_level => 'info');
my $d = $s->dir;
my $tls = "ssl_certificate $c/localhost.crt; ssl_certificate_key $c/localhost.key;";
$s->write_conf(main => 'pcre_jit on;', stream => <<"EOF");
    log_format st "\$server_name \$status";
    access_log $d/logs/stream.log st;
    server { listen 127.0.0.1:$p[0]; ssl_preread on; server_name default.test;
             return "default\\n"; }
    server { listen 127.0.0.1:$p[0]; ssl_preread on; server_name "~^a.*\\.test\$";
             return "regex\\n"; }
    server { listen 127.0.0.1:$p[0]; ssl_preread on; server_name "~^(x|y)*\\.jit\\.test\$";
             return "jit\\n"; }
    server { listen 127.0.0.1:$p[1] ssl; $tls server_name default.test; return "default\\n"; }
    server { listen 127.0.0.1:$p[1] ssl; $tls server_name "~^a.*\\.test\$";
             return "regex\\n"; }
    server { listen 127.0.0.1:$p[1] ssl; $tls server_name "~^(x|y)*\\.jit\\.test\$";
             return "jit\\n"; }
EOF
$s->start or stop_here('the server did not start');

sub preread {
    my ($sni) = @_;
    my ($got) = exchange($p[0], client_hello(sni => $sni), undef, timeout => 5);
    return $got;
}
sub tls {
    my ($sni) = @_;
    my $t = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $p[1], SSL_verify_mode => 0,
                                 SSL_hostname => $sni, Timeout => 5);
    return "failed: $SSL_ERROR" unless $t;
    my $line = <$t> // '';
    return $line;
}

# ssl_preread
is(preread('ab.test'), "regex\n", 'ssl_preread: a valid name matches the regex server');
is(preread('AB.test.'), "regex\n", '... capitals and a trailing dot: the same name');
is(preread('a..b.test'), "default\n", '"a..b.test": no server by name (nginx refuses ".."), the default');
is(preread('ab.test:443'), "regex\n", 'a port after the name is not part of it');
is(preread('a/b.test'), "default\n", '"a/b.test": refused too');

# the TLS SNI
is(tls('ab.test'), "regex\n", 'TLS SNI: a valid name matches the regex server');
is(tls('a..b.test'), "default\n", '"a..b.test": the default server');

# a regex that fails with an error (a group repeated past PCRE2's JIT stack)
my $long = ('x' x 3000) . '.jit.test';
is(preread('xy.jit.test'), "jit\n", 'the JIT regex matches a short name');
my $mark = $s->log_mark;
is(preread($long), '', 'ssl_preread: a failed regex ends the session, no server answers');
$s->wait_log(qr/pcre2_match\(\) failed: -46/, $mark, 5);
like($s->log_since($mark), qr/\[alert\] .*pcre2_match\(\) failed: -46 on "xxx/, '... with the alert');
ok(Test::MoongateProc::wait_for(sub { Test::Moongate::slurp("$d/logs/stream.log") =~ /^default\.test 500$/m }, 5),
   '... logged with status 500 (the default server\'s)');

unlike($s->log_since(0), qr/\[(crit|emerg)\]|signal \d+/, 'no crash, no crit');
$s->stop;
done_testing();
