# Certificates are read again on a reload: new connections get the new certificate while a
# connection made before keeps its own; a reload whose certificate is missing, not PEM, does not
# match its key, or whose key's password is wrong is refused (nginx's words; moongate adds
# FILE:LINE) and the running generation keeps serving; -t reports the same.
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::Moongate::Certs;
use Test::More;
use IO::Socket::SSL;

my $dir = Test::Moongate::Certs::make();
my $s = Test::MoongateProc->new(name => 'ssl-reload', workers => 1, listen => 'ssl');

sub server_part {
    my ($crt, $key, $extra) = @_;
    return "        ssl_certificate $dir/$crt;\n        ssl_certificate_key $dir/$key;\n"
         . ($extra // '') . "        location / { return 200 \"ok\\n\"; }\n";
}

# the subject CN of the certificate a new connection gets ('' when none)
sub served_cn {
    my $c = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, SSL_verify_mode => 0,
                                 SSL_hostname => 'localhost', Timeout => 5) or return '';
    my $cn = $c->peer_certificate('commonName') // '';
    close $c;
    return $cn;
}

sub get_on {
    my $c = shift;
    print $c "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my $buf = '';
    while ($buf !~ /\r\n\r\nok\n/) {
        my $n = sysread($c, $buf, 4096, length $buf);
        last unless $n;
    }
    return $buf;
}

$s->write_conf(server => server_part('localhost.crt', 'localhost.key'));
ok($s->start, 'started') or BAIL_OUT('no server');
is(served_cn(), 'localhost', 'the first certificate');

# a connection made now keeps its session over the reload
my $old = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, SSL_verify_mode => 0,
                               SSL_hostname => 'localhost', Timeout => 5);
like(get_on($old), qr/^HTTP\/1\.1 200/, 'a keepalive connection before the reload');

$s->write_conf(server => server_part('b.test.crt', 'b.test.key'));
my $mark = $s->log_mark;
$s->signal('HUP');
ok(wait_for(sub { served_cn() eq 'b.test' }, 10), 'after a reload new connections get the new certificate');
# nginx closes an idle keepalive connection when its generation ends; moongate's old
# generation answers it once more ("Connection: close")
like(get_on($old), qr/^HTTP\/1\.1 200/, 'the old connection is still served') unless is_nginx();
is($old->peer_certificate('commonName'), 'localhost', 'on its old certificate');
close $old;

my @bad = (
    [ 'a missing certificate', server_part('missing.crt', 'b.test.key'),
      qr/cannot load certificate "\S+missing\.crt": BIO_new_file\(\) failed/ ],
    [ 'a file that is not PEM', server_part('passwords.txt', 'b.test.key'),
      qr/cannot load certificate "\S+passwords\.txt": PEM_read_bio_X509_AUX\(\) failed/ ],
    [ 'a key that does not match', server_part('b.test.crt', 'a.test.key'),
      qr/SSL_CTX_use_PrivateKey\("\S+a\.test\.key"\) failed .*key values mismatch/ ],
    [ 'a wrong password', server_part('localhost.crt', 'localhost-enc.key',
                                      "        ssl_password_file $dir/wrong.txt;\n"),
      qr/cannot load certificate key "\S+localhost-enc\.key": PEM_read_bio_PrivateKey\(\) failed/ ],
);
Test::Moongate::spew("$dir/wrong.txt", "nope\n");
for my $b (@bad) {
    my ($what, $part, $re) = @$b;
    $s->write_conf(server => $part);
    my ($code, $out, $err) = $s->cmd('-t');
    isnt($code, 0, "$what: -t fails");
    like("$out$err", $re, "$what: -t says why");
    like("$out$err", qr/ in \S+\.conf:\d+/, "$what: -t says where") unless is_nginx();
    my $mark = $s->log_mark;
    $s->signal('HUP');
    ok($s->wait_log(qr/\[emerg\].*$re/, $mark), "$what: the reload is refused");
    is(served_cn(), 'b.test', "$what: the running generation still serves its certificate");
}

$s->stop;
done_testing;
