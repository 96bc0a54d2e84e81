# ssl_session_ticket_key: tickets sealed with the keys of the files (48 bytes: AES-128, 80 bytes:
# AES-256), the first key encrypting, the others still accepted; a file of another size is
# refused.
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::Moongate::Certs;
use Test::More;

my $dir = Test::Moongate::Certs::make();

my $root = "$Test::Moongate::ServRoot-tickets";
File::Path::make_path($root);
open my $r, '<:raw', '/dev/urandom' or die;
for my $n (48, 80) {
    read($r, my $key, $n) == $n or die;
    Test::Moongate::spew("$root/key$n", $key);
}
Test::Moongate::spew("$root/key10", '0123456789');

sub s_client {
    my ($port, $args) = @_;
    return scalar `timeout 10 openssl s_client -connect 127.0.0.1:$port -servername localhost -tls1_2 $args < /dev/null 2>&1`;
}

sub server {
    my ($name, $binary, @keys) = @_;
    my $s = Test::MoongateProc->new(name => $name, binary => $binary, workers => 1, listen => 'ssl',
        server => "        ssl_certificate $dir/localhost.crt;\n"
                . "        ssl_certificate_key $dir/localhost.key;\n"
                . join('', map { "        ssl_session_ticket_key $root/$_;\n" } @keys)
                . "        location / { return 200 \"ok\\n\"; }\n");
    return $s;
}

# a ticket resumes on another server (another process: OpenSSL's own keys would differ) that
# reads the same key file, and not on one with another key
for my $size (48, 80) {
    my $one = server("tk-one-$size", $Test::Moongate::Binary, "key$size");
    ok($one->start, "$size-byte key: first server") or next;
    my $sess = "$root/sess$size";
    like(s_client($one->port, "-sess_out $sess"), qr/^New, TLSv1\.2/m, "$size: a ticket");
    $one->stop;
    my $two = server("tk-two-$size", $Test::Moongate::Binary, "key$size");
    ok($two->start, "$size-byte key: second server, same key") or next;
    like(s_client($two->port, "-sess_in $sess"), qr/^Reused, TLSv1\.2/m, "$size: it resumes there");
    $two->stop;
    my $other = server("tk-other-$size", $Test::Moongate::Binary, $size == 48 ? 'key80' : 'key48');
    ok($other->start, "$size-byte key: a server with the other key") or next;
    like(s_client($other->port, "-sess_in $sess"), qr/^New, TLSv1\.2/m, "$size: not there");
    $other->stop;
}

# a second key decrypts: a ticket of key48 resumes on a server whose first key is key80
my $a = server('tk-a', $Test::Moongate::Binary, 'key48');
ok($a->start, 'one key');
my $sess = "$root/sess-rot";
s_client($a->port, "-sess_out $sess");
$a->stop;
my $b = server('tk-b', $Test::Moongate::Binary, 'key80', 'key48');
ok($b->start, 'the new key first, the old one second');
like(s_client($b->port, "-sess_in $sess"), qr/^Reused, TLSv1\.2/m, "the old key's ticket resumes");
$b->stop;

my $bad = server('tk-bad', $Test::Moongate::Binary, 'key10');
my ($code, $out, $err) = $bad->cmd('-t');
isnt($code, 0, 'a 10-byte key fails -t');
like("$out$err", qr/"\S+key10" must be 48 or 80 bytes in \S+:\d+/, 'and says so');

done_testing;
