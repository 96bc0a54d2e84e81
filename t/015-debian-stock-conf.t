# Debian's stock configuration (nginx-common's /etc/nginx: nginx.conf, its
# modules-enabled/*.conf, mime.types, sites-enabled/default) passes `-t` as it is, and serves:
# only what a copy must change is changed (the absolute paths into the copy, the pid and log
# files, the site's port and root). Of modules-enabled, the lines for modules moongate has built
# in (ndk, lua) stay; those out of scope (geoip, image_filter, xslt, perl, mail, stream) are left
# out, and one of them kept in shows the error naming the module.
#
#   prove -I t/lib t/015-debian-stock-conf.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/015-debian-stock-conf.t

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::More;
use File::Path ();
use File::Copy ();
use IO::Socket::INET;

my $etc = '/etc/nginx';
plan skip_all => "no $etc/nginx.conf (apt-get install nginx-common)" unless -f "$etc/nginx.conf";

my $dir = "$ServRoot/debian";
File::Path::remove_tree($dir);
File::Path::make_path("$dir/logs", "$dir/html");
my $port = Test::Moongate::find_free_port();
my $is_nginx = $Binary =~ /nginx/;

# a copy of /etc/nginx, symlinks followed (sites-enabled/default points into sites-available)
sub copy_tree {
    my ($from, $to) = @_;
    File::Path::make_path($to);
    opendir my $dh, $from or die "$from: $!";
    for my $e (grep { !/^\.\.?$/ } readdir $dh) {
        my $src = "$from/$e";
        if (-d $src) {
            copy_tree($src, "$to/$e");
        } elsif (-f $src) {
            File::Copy::copy($src, "$to/$e") or die "copy $src: $!";
        }
    }
}
copy_tree($etc, "$dir/etc");

# the dynamic modules moongate has not (outside libraries, or mail); stream is built in
my %out_of_scope = map { $_ => 1 } qw(geoip image-filter xslt-filter perl mail stream-geoip);
my @dropped;
for my $f (glob "$dir/etc/modules-enabled/*.conf") {
    my ($name) = $f =~ /\d+-mod-(?:http-)?([a-z-]+)\.conf$/ or next;
    next unless $out_of_scope{$name};
    push @dropped, $f;
}
# one such module enabled as Debian's libnginx-mod-http-geoip would, whatever this machine has
# installed, so the check below always runs
unless ($is_nginx) {
    my $f = "$dir/etc/modules-enabled/50-mod-http-geoip.conf";
    unless (-e $f) {
        open my $o, '>', $f or die "$f: $!";
        print $o "load_module modules/ngx_http_geoip_module.so;\n";
        close $o;
        push @dropped, $f;
    }
}

sub rewrite {
    my ($file, @subs) = @_;
    local $/;
    open my $in, '<', $file or die "$file: $!";
    my $text = <$in>;
    close $in;
    while (my ($re, $to) = splice @subs, 0, 2) {
        $text =~ s/$re/$to/g;
    }
    open my $o, '>', $file or die "$file: $!";
    print $o $text;
    close $o;
}

# the module lines name Debian's .so files relative to the prefix: nginx (to compare) loads
# them, moongate reads only the module's name
symlink '/usr/lib/nginx/modules', "$dir/modules" if -d '/usr/lib/nginx/modules';
for my $f (glob("$dir/etc/nginx.conf"), glob("$dir/etc/modules-enabled/*.conf"),
           glob("$dir/etc/sites-enabled/*"), glob("$dir/etc/conf.d/*.conf")) {
    rewrite($f, qr{/etc/nginx/} => "$dir/etc/", qr{^pid\s+\S+;}m => "pid $dir/logs/nginx.pid;",
            qr{/var/log/nginx/} => "$dir/logs/",
            qr{listen\s+(?:\[::\]:)?80\s+default_server;\s*\n\s*listen\s+\[::\]:80\s+default_server;}
                => "listen 127.0.0.1:$port default_server;",
            qr{root\s+/var/www/html;} => "root $dir/html;");
}
open my $idx, '>', "$dir/html/index.nginx-debian.html" or die $!;
print $idx "<p>Welcome (stock site)</p>\n";
close $idx;

my @cmd = ($Binary, '-p', "$dir/", '-c', "$dir/etc/nginx.conf");

# one out-of-scope module kept: the error names it (nginx has the .so and loads it)
if (@dropped && !$is_nginx) {
    my ($rc, $out, $err) = run_cmd(@cmd, '-t');
    isnt($rc, 0, 'with an out-of-scope module enabled, -t fails');
    like("$out$err", qr{\[emerg\] module "ngx_[a-z_]+_module" is not built into moongate \(load_module "[^"]+"\) in \Q$dir\E/etc/modules-enabled/\S+\.conf:\d+},
         'and names the module, file and line');
}
unlink @dropped;

my ($rc, $out, $err) = run_cmd(@cmd, '-t');
is($rc, 0, 'the stock nginx.conf passes -t') or diag("$out$err");
like("$out$err", qr{test is successful}, '-t says so');

# and serves the default site (in the foreground, stopped at the end)
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    open STDOUT, '>', "$dir/logs/stdout";
    open STDERR, '>&', \*STDOUT;
    exec @cmd, '-g', 'daemon off; master_process off;';
    exit 127;
}
my $sock;
for (1 .. 200) {
    last if $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
    select undef, undef, undef, 0.05;
}
ok($sock, 'the stock site listens');
if ($sock) {
    print $sock "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $resp = do { local $/; <$sock> } // '';
    like($resp, qr{^HTTP/1\.1 200 OK\r\n}, 'GET / answers 200');
    like($resp, qr{\r\nContent-Type: text/html\r\n}i, 'as text/html (the stock mime.types)');
    like($resp, qr{Welcome \(stock site\)}, 'the index the stock site names');
    $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
    print $sock "GET /missing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    $resp = do { local $/; <$sock> } // '';
    like($resp, qr{^HTTP/1\.1 404 }, 'try_files ... =404 for a missing file');
}
kill 'TERM', $pid;
waitpid $pid, 0;
ok(-s "$dir/logs/access.log", 'the access log the stock config names was written');

done_testing();
