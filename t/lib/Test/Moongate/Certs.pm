package Test::Moongate::Certs;

# Certificates for the TLS tests, made with the `openssl` command when a test file starts
# (once per directory: a later call finds them made):
#
#   ca.crt ca.key                  the test CA (RSA); ca-crl.pem its CRL (revoked.crt revoked)
#   NAME.crt NAME.key              RSA server certificates signed by the CA, for the names
#                                  localhost (also IP 127.0.0.1), a.test, b.test and
#                                  wild ("*.wild.test"); each file NAME.pem is crt then key
#   localhost-ec.crt/.key          ECDSA P-256 for localhost
#   localhost-enc.key              localhost.key encrypted with the password "secret";
#                                  passwords.txt holds "wrong" then "secret"
#   expired.crt/.key               localhost, valid in January 2020 only
#   client.crt/.key                a client certificate (CN=client) signed by the CA
#   revoked.crt/.key               a client certificate the CRL revokes
#   self.crt/.key                  a self-signed client certificate (no CA knows it)
#   dhparam.pem                    ffdhe2048 parameters
#   chain.crt                      localhost.crt followed by ca.crt
#
# Use: `use Test::Moongate::Certs; my $dir = Test::Moongate::Certs::make();` -- the
# directory (default: the server root's name with "-certs" added) is also in
# $ENV{TEST_MOONGATE_CERT_DIR} and $ENV{TEST_NGINX_CERT_DIR}, so configs say
# $TEST_MOONGATE_CERT_DIR/localhost.crt.
#
# For the certificates of a file's own (chains, OCSP URLs), on request:
#   use Test::Moongate::Certs qw(sh issue ocsp_response);
#   issue("$cd/inter", 'Some Intermediate', "$dir/ca", '0x6001', ext => "$cd/ca.ext");
# and $Test::Moongate::Certs::CaExt, the extensions of an intermediate CA.

use strict;
use warnings;
use File::Path ();
use Exporter 'import';

our @EXPORT_OK = qw(sh issue ocsp_response);

our $CaExt = "basicConstraints = critical,CA:true\nkeyUsage = keyCertSign,cRLSign\n";

# sh(@words): a shell command, its output dropped; dies when it fails
sub sh { system("@_ >/dev/null 2>&1") == 0 or die "failed: @_\n" }

# issue($out, $cn, $ca, $serial, key => '-newkey ...', ext => FILE): $out.key, $out.csr and
# $out.crt, a certificate for CN=$cn signed by the key pair $ca ($ca.crt, $ca.key) with that
# serial, for 3650 days; an RSA 2048 key unless key says; extensions from the file ext names
sub issue {
    my ($out, $cn, $ca, $serial, %o) = @_;
    sh("openssl req -new " . ($o{key} // '-newkey rsa:2048') . " -nodes -keyout $out.key"
       . " -out $out.csr -subj '/CN=$cn'");
    sh("openssl x509 -req -in $out.csr -CA $ca.crt -CAkey $ca.key -set_serial $serial -days 3650"
       . ($o{ext} ? " -extfile $o{ext}" : '') . " -out $out.crt");
}

# ocsp_response(issuer => CA, cert => FILE or serial => N, index => FILE, signer => KEY PAIR,
# req => FILE, out => FILE): `openssl ocsp`'s response for that certificate as the openssl ca
# index file says (valid 30 days), signed by signer ($signer.crt and .key; default: the
# issuer); written to out, and returned
sub ocsp_response {
    my %o = @_;
    my $signer = $o{signer} // $o{issuer};
    my $which = defined $o{cert} ? "-cert $o{cert}" : "-serial $o{serial}";
    sh("openssl ocsp -issuer $o{issuer}.crt $which -reqout $o{req} -no_nonce");
    sh("openssl ocsp -index $o{index} -rsigner $signer.crt -rkey $signer.key -CA $o{issuer}.crt"
       . " -reqin $o{req} -respout $o{out} -ndays 30");
    return Test::Moongate::slurp($o{out});
}

sub run {
    my @cmd = @_;
    my $out = `@cmd 2>&1`;
    die "Test::Moongate::Certs: @cmd failed:\n$out" if $?;
    return $out;
}

sub spew {
    my ($f, $t) = @_;
    open my $fh, '>', $f or die "$f: $!";
    print $fh $t;
    close $fh;
}

sub make {
    my $dir = shift // (($Test::Moongate::ServRoot // '/tmp/moongate-test') . '-certs');
    $ENV{TEST_MOONGATE_CERT_DIR} = $ENV{TEST_NGINX_CERT_DIR} = $dir;
    return $dir if -f "$dir/done";
    File::Path::remove_tree($dir);
    File::Path::make_path("$dir/db");
    spew("$dir/db/index.txt", '');
    spew("$dir/db/serial", "1000\n");
    spew("$dir/db/crlnumber", "1000\n");
    spew("$dir/ca.cnf", <<"CNF");
[ca]
default_ca = test_ca
[test_ca]
dir = $dir/db
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
default_md = sha256
default_days = 3650
default_crl_days = 3650
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Moongate Test CA
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = keyCertSign,cRLSign
CNF
    my $ossl = "openssl";
    run("$ossl req -x509 -newkey rsa:2048 -nodes -keyout $dir/ca.key -out $dir/ca.crt"
        . " -days 3650 -config $dir/ca.cnf -extensions v3_ca");
    my $sign = sub {
        my ($name, $cn, $san, $key_opt, $extra) = @_;
        run("$ossl req -new $key_opt -nodes -keyout $dir/$name.key -out $dir/$name.csr"
            . " -subj '/CN=$cn'" . ($san ? " -addext 'subjectAltName=$san'" : ''));
        run("$ossl ca -batch -config $dir/ca.cnf -cert $dir/ca.crt -keyfile $dir/ca.key"
            . " -in $dir/$name.csr -out $dir/$name.crt -notext " . ($extra // ''));
        unlink "$dir/$name.csr";
    };
    my $rsa = '-newkey rsa:2048';
    my $ec = '-newkey ec -pkeyopt ec_paramgen_curve:P-256';
    $sign->('localhost', 'localhost', 'DNS:localhost,IP:127.0.0.1', $rsa);
    $sign->('a.test', 'a.test', 'DNS:a.test', $rsa);
    $sign->('b.test', 'b.test', 'DNS:b.test', $rsa);
    $sign->('wild', '*.wild.test', 'DNS:*.wild.test', $rsa);
    $sign->('localhost-ec', 'localhost', 'DNS:localhost,IP:127.0.0.1', $ec);
    $sign->('expired', 'localhost', 'DNS:localhost', $rsa,
            '-startdate 20200101000000Z -enddate 20200131000000Z');
    $sign->('client', 'client', '', $rsa);
    $sign->('revoked', 'revoked', '', $rsa);
    run("$ossl ca -batch -config $dir/ca.cnf -cert $dir/ca.crt -keyfile $dir/ca.key"
        . " -revoke $dir/revoked.crt");
    run("$ossl ca -batch -config $dir/ca.cnf -cert $dir/ca.crt -keyfile $dir/ca.key"
        . " -gencrl -out $dir/ca-crl.pem");
    run("$ossl req -x509 -newkey rsa:2048 -nodes -keyout $dir/self.key -out $dir/self.crt"
        . " -days 3650 -subj '/CN=self'");
    run("$ossl pkey -in $dir/localhost.key -aes256 -passout pass:secret -out $dir/localhost-enc.key");
    spew("$dir/passwords.txt", "wrong\nsecret\n");
    run("$ossl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out $dir/dhparam.pem");
    for my $n (qw(localhost a.test b.test wild localhost-ec)) {
        spew("$dir/$n.pem", Test::Moongate::slurp("$dir/$n.crt") . Test::Moongate::slurp("$dir/$n.key"));
    }
    spew("$dir/chain.crt", Test::Moongate::slurp("$dir/localhost.crt") . Test::Moongate::slurp("$dir/ca.crt"));
    spew("$dir/done", '');
    return $dir;
}

1;
