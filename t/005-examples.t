# Every configuration under examples/ passes `moongate -t` (with a scratch prefix so relative
# paths such as logs/ resolve).
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use Test::More;
use Test::Moongate ();

my $root = $Test::Moongate::RepoRoot;
my $bin = $Test::Moongate::Binary;
plan skip_all => 'examples use moongate-only paths' if $bin =~ /nginx/;

my $prefix = "$root/t/servroot/005-examples";
remove_tree($prefix);
make_path("$prefix/logs", "$prefix/html");

my @confs = sort glob "$root/examples/*/moongate.conf";
ok(@confs >= 1, 'there are example configurations');
for my $conf (@confs) {
    my $text = Test::Moongate::slurp($conf);
    if ($text =~ m{\bcert/site\.crt\b|\binclude\s+(?:mime\.types|fastcgi_params);}) {
        # an example meant to sit beside moongate's conf/ files, or with a certificate the user
        # makes (its README says how): in a copy with those files and a pair made here
        (my $name = $conf) =~ s{.*/examples/([^/]+)/moongate\.conf$}{$1};
        my $copy = "$prefix/$name";
        make_path("$copy/cert");
        system('cp', $conf, "$root/conf/mime.types", "$root/conf/fastcgi_params", $copy) == 0
            or die "cp: $?";
        if ($text =~ m{\bcert/site\.crt\b}) {
            system("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout $copy/cert/site.key"
                   . " -out $copy/cert/site.crt -subj /CN=localhost >/dev/null 2>&1") == 0
                or die "openssl req: $?";
        }
        $conf = "$copy/moongate.conf";
    }
    my ($code, $out, $err) = Test::Moongate::run_cmd($bin, '-p', "$prefix/", '-c', $conf, '-t');
    is($code, 0, "$conf: -t exits 0") or diag($err);
    like($err, qr/configuration file \Q$conf\E test is successful/, "$conf: test is successful");
}

done_testing();
