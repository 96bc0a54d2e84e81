# stream server_name with http's table (core/server_names.c; nginx >= 1.25.5's stream has
# what http has): the directive's checks and words, ".." refused and "conflicting server name"
# warned on an address, server_names_hash_max_size/_bucket_size in stream{} with nginx's
# verdicts, regex names with capitals matched without case, and the captures of a server_name
# regex (named ones and $1) as variables, also for a server alone on its address whose last
# regex name captures.
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

my @p = map { Test::Moongate::find_free_port() } 1 .. 4;
my $c = Test::Moongate::Certs::make();
my $s = Test::MoongateProc->new(name => 'stream_server_names', workers => 1, error_level => 'info');
my $conf = $s->conf_file;

# -t of a configuration whose stream{} is this: (exit code, stderr)
sub t_stream {
    my ($stream) = @_;
    $s->write_conf(stream => $stream);
    my ($code, $out, $err) = $s->cmd('-t');
    return ($code, $err);
}
sub two { "server { listen 127.0.0.1:$p[0]; server_name one.test; return x; }\n"
        . "server { listen 127.0.0.1:$p[0]; server_name $_[0]; return y; }\n" }

my ($code, $err) = t_stream(two('a..b.test'));
isnt($code, 0, '"a..b.test" on a shared address: refused');
like($err, qr/\[emerg\] invalid server name or wildcard "a\.\.b\.test" on 127\.0\.0\.1:$p[0]\n/,
     '... with nginx\'s words and the address');
($code, $err) = t_stream(two('"*.a..b"'));
like($err, qr/invalid server name or wildcard "\*\.a\.\.b" on 127\.0\.0\.1:$p[0]\n/, '... "*.a..b" too');

($code, $err) = t_stream(two('one.test two.test two.test'));
is($code, 0, 'names given twice: accepted');
like($err, qr/\[warn\] conflicting server name "one\.test" on 127\.0\.0\.1:$p[0], ignored/,
     '... "conflicting server name" for another server\'s');
like($err, qr/\[warn\] conflicting server name "two\.test" on 127\.0\.0\.1:$p[0], ignored/,
     '... and for its own');
($code, $err) = t_stream("server { listen 127.0.0.1:$p[0]; return x; }\n"
                       . "server { listen 127.0.0.1:$p[0]; return y; }\n");
like($err, qr/\[warn\] conflicting server name "" on 127\.0\.0\.1:$p[0], ignored/,
     'two servers without server_name: both named "", as nginx');

($code, $err) = t_stream(two('*x.test'));
like($err, qr/\[emerg\] server name "\*x\.test" is invalid in \Q$conf\E:\d+/, '"*x.test": invalid, FILE:LINE');
($code, $err) = t_stream(two('"~"'));
like($err, qr/\[emerg\] empty regex in server name "~" in \Q$conf\E:\d+/, '"~": an empty regex');
($code, $err) = t_stream(two('"a/b.test"'));
is($code, 0, 'a name with "/": accepted');
like($err, qr/\[warn\] server name "a\/b\.test" has suspicious symbols in \Q$conf\E:\d+/, '... with a warning');

# the hash sizes: http's verdicts
my $long = 'averyveryverylongservernameaveryveryverylongservername.example.com';
($code, $err) = t_stream("server_names_hash_bucket_size 32;\n" . two($long));
isnt($code, 0, 'a name longer than a bucket: refused');
like($err, qr/\[emerg\] could not build server_names_hash, you should increase server_names_hash_bucket_size: 64/,
     '... with nginx\'s words (the bucket rounded up to 64)');
($code, $err) = t_stream("server_names_hash_bucket_size 128;\n" . two($long));
is($code, 0, 'server_names_hash_bucket_size 128: accepted') or diag($err);
($code, $err) = t_stream("server_names_hash_max_size 1;\n" . two('a b c d e f g h i j k l *.a.com *.b.com www.x.*'));
is($code, 0, 'names no size up to server_names_hash_max_size spreads: accepted') or diag($err);
like($err, qr/\[warn\] could not build optimal server_names_hash, you should increase either server_names_hash_max_size: 1 or server_names_hash_bucket_size: 64; ignoring server_names_hash_bucket_size/,
     '... with nginx\'s warning');
($code, $err) = t_stream("server { server_names_hash_max_size 1; listen 127.0.0.1:$p[0]; return x; }");
like($err, qr/"server_names_hash_max_size" directive is not allowed here in \Q$conf\E:\d+/,
     'server_names_hash_max_size in a server{}: not allowed');

# serving: ssl_preread's server name picks the server and its captures are variables
$s->write_conf(stream => <<"EOF");
    server { listen 127.0.0.1:$p[0]; ssl_preread on; server_name first.test;
             return "first [\$server_name]\\n"; }
    server { listen 127.0.0.1:$p[0]; ssl_preread on;
             server_name "~^(?<tenant>[a-z]+)\\.(\\d+)\\.cap\\.test\$" second.test;
             return "cap \$tenant \$1 \$2\\n"; }
    server { listen 127.0.0.1:$p[0]; ssl_preread on; server_name "~^UP\\d+\\.test\$";
             return "up [\$server_name]\\n"; }
    server { listen 127.0.0.1:$p[1]; ssl_preread on; server_name "~^(?<who>[a-z]+)\\.alone\\.test\$";
             return "alone [\$who]\\n"; }
    server { listen 127.0.0.1:$p[2]; ssl_preread on;
             server_name "~^(?<who>[a-z]+)\\.alone\\.test\$" "~^plain\\.test\$";
             return "last [\$who]\\n"; }
    server { listen 127.0.0.1:$p[3] ssl; ssl_certificate $c/localhost.crt; ssl_certificate_key $c/localhost.key;
             server_name "~^(?<who>[a-z]+)\\.tls\\.test\$";
             return "tls [\$who] [\$1]\\n"; }
EOF
my $start = $s->log_mark; # the -t runs above logged their emerg lines
$s->start or stop_here('the server did not start');

sub preread {
    my ($port, $sni) = @_;
    my ($got) = exchange($port, client_hello(sni => $sni), undef, timeout => 5);
    return $got;
}
is(preread($p[0], 'acme.42.cap.test'), "cap acme acme 42\n", 'a regex name: named and numbered captures');
is(preread($p[0], 'up7.test'), "up [~^UP\\d+\\.test\$]\n", 'a regex with capitals matches without case');
is(preread($p[0], 'other.test'), "first [first.test]\n", 'another name: the first server');
is(preread($p[1], 'bob.alone.test'), "alone [bob]\n", 'a server alone whose regex captures: its capture');
is(preread($p[2], 'bob.alone.test'), "last []\n", 'alone, its last regex without captures: none (as nginx)');
is(preread($p[0], 'Second.Test.'), "cap   \n", 'ssl_preread: a trailing dot, capitals: the same name (as the TLS SNI\'s)');

# TLS terminated here, one server alone: the SNI's captures
my $t = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $p[3], SSL_verify_mode => 0,
                             SSL_hostname => 'eve.tls.test', Timeout => 5);
my $line = $t ? <$t> // '' : "failed: $SSL_ERROR";
is($line, "tls [eve] [eve]\n", 'a server alone whose regex captures: the SNI\'s captures');

unlike($s->log_since($start), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
$s->stop;
done_testing();
