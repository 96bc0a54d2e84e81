# The cache loader's pass with real processes: a server started over cache directories it
# filled before (a GET's entry, the header-only answer to a HEAD) runs its "cache loader
# process" a minute after the start, as nginx's, which logs the files' size in 4 KiB blocks
# ("http file cache: PATH N.NNNM, bsize: 4096"); nothing is asked before (but the start's
# probe, GET /), so the index learns the files from the loader alone.  Then the entries are
# HITs without a request to the upstream; in a zone whose max_size is below its two files the
# manager evicts one, and in one of 8 small files (a block each) max_size=16k keeps 4.
# Moongate only (its own file format): files the loader finds broken (truncated, under
# another key's name, an older version's) are removed with a lookup's log lines and their
# keys fetched anew.  The pass itself, file by file, is t/unit/test_cache_loader.c's.
#
# The loader's minute is nginx's and kept: the file waits ~65 s (bounded at 120 s), one
# server, so prove -j2 runs other files meanwhile.
#
#   prove -I t/lib t/478-proxy-cache-loader.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/478-proxy-cache-loader.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Compress::Zlib ();

my $port2 = Test::Moongate::find_free_port();

sub conf_parts {
    my ($dir, $max, $small) = @_;
    return (
        main => is_nginx() ? "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n"
                           . "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n" : '',
        http => qq{
    lua_shared_dict hits 1m;
    proxy_cache_path $dir/pc levels=1:2 keys_zone=pc:1m;
    proxy_cache_path $dir/pm keys_zone=pm:1m$max;
    proxy_cache_path $dir/ps keys_zone=ps:1m$small;
    server {
        listen 127.0.0.1:$port2;
        location /s/ {
            return 200 "small\\n";
        }
        location = /count {
            content_by_lua_block { ngx.print(ngx.shared.hits:get("all") or 0) }
        }
        location / {
            content_by_lua_block {
                ngx.shared.hits:incr("all", 1, 0)
                local n = ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                ngx.header["X-N"] = n
                local t = {}
                for i = 1, 2500 do t[i] = string.format("%07d\\n", i) end
                ngx.print(table.concat(t))
            }
        }
    }
},
        server => qq{
        location / {
            proxy_pass http://127.0.0.1:$port2;
            proxy_cache pc;
            proxy_cache_valid 10m;
            proxy_cache_convert_head off;
            proxy_cache_key \$request_method\$proxy_host\$request_uri;
            add_header X-Cache \$upstream_cache_status;
        }
        location /s/ {
            proxy_pass http://127.0.0.1:$port2;
            proxy_cache ps;
            proxy_cache_valid 10m;
        }
        location /m/ {
            proxy_pass http://127.0.0.1:$port2;
            proxy_cache pm;
            proxy_cache_valid 10m;
            add_header X-Cache \$upstream_cache_status;
        }
});
}

# "STATUS CACHE N BODYLENGTH" of one request
sub ask {
    my ($s, $method, $uri) = @_;
    my $r = http_request($s->port, "$method $uri HTTP/1.1\r\nHost: localhost\r\n"
                                   . "Connection: close\r\n\r\n", timeout => 5);
    my $h = $r->{headers} // {};
    return join ' ', $r->{status} // 0, map({ $h->{$_} // '-' } qw(x-cache x-n)),
                     length($r->{body} // '');
}

sub upstream_count {
    my $r = http_request($port2, "GET /count HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                         timeout => 5);
    return $r->{body} // '?';
}

sub files_under {
    my $dir = shift;
    my @out;
    opendir(my $d, $dir) or return ();
    for my $e (grep { !/^\./ } readdir $d) {
        push @out, -d "$dir/$e" ? files_under("$dir/$e") : ("$dir/$e");
    }
    return @out;
}

# the file whose key names uri (both formats hold the key as it is)
sub file_of {
    my ($dir, $method, $uri) = @_;
    my $key = ($method // '') . "127.0.0.1:$port2$uri";
    my ($f) = grep { index(Test::Moongate::slurp($_), $key) >= 0 } files_under($dir);
    return $f;
}

my $s = Test::MoongateProc->new(name => 'loader', workers => 1, error_level => 'info');
my $dir = $s->dir;
$s->write_conf(conf_parts($dir, '', ''));
ok($s->start, 'started') or stop_here();
my @uris = ('/a', '/t', '/w', '/v');
is(ask($s, 'GET', $_), "200 MISS 1 20000", "GET $_: MISS, stored") for @uris;
is(ask($s, 'HEAD', '/h'), '200 MISS 1 0', 'HEAD /h: MISS, stored head only');
is(ask($s, 'GET', $_), '200 MISS 1 20000', "GET $_ (the max_size zone): MISS") for '/m/1', '/m/2';
is(ask($s, 'GET', "/s/$_"), '200 - - 6', "GET /s/$_ (small files)") for 1 .. 8;
is(ask($s, 'GET', '/a'), '200 HIT 1 20000', 'GET /a again: HIT');
# the files are complete once renamed into place: pc's 5 and the start's probe (GET /), pm's 2
ok(wait_for(sub { files_under("$dir/pc") == 6 && files_under("$dir/pm") == 2
                  && files_under("$dir/ps") == 8 }, 10), 'sixteen files');
ok($s->stop, 'stopped');

my $good = file_of("$dir/pc", 'GET', '/a');
my $head = file_of("$dir/pc", 'HEAD', '/h');
ok($good && $head, 'the files of GET /a and HEAD /h') or stop_here();
my @bad;
if (!is_nginx()) {
    # /t cut short; /w's file under another key's name; /v as version 1 wrote it (a 112-byte
    # header without the flags, its checksum right)
    my $t = file_of("$dir/pc", 'GET', '/t');
    truncate($t, (-s $t) - 100);
    # (levels=1:2: PATH/<the name's last digit>/<the two before>/NAME; moved into the
    # directory of /a's file, which the worker's user may write)
    my $w = file_of("$dir/pc", 'GET', '/w');
    my ($a1, $a2) = $good =~ m{/(.)/(..)/[0-9a-f]{32}$};
    (my $w2 = $w) =~ s{/./../([0-9a-f]{29})...$}{/$a1/$a2/$1$a2$a1} or die "name $w";
    rename $w, $w2;
    my $v = file_of("$dir/pc", 'GET', '/v');
    my $f = Test::Moongate::slurp($v);
    my ($keyl, $etagl, $varyl, $headl) = unpack('V4', substr($f, 76, 16));
    my $parts = substr($f, 120, $keyl + $etagl + $varyl + $headl);
    my $h = substr($f, 0, 112);
    substr($h, 8, 8) = pack('VV', 1, 112);
    substr($h, 104, 4) = pack('V', 0);
    substr($h, 104, 4) = pack('V', Compress::Zlib::crc32($parts, Compress::Zlib::crc32($h)));
    Test::Moongate::spew($v, $h . substr($f, 120));
    @bad = ([$t, 'crit', 'is truncated'], [$w2, 'crit', 'has md5 collision'],
            [$v, 'info', 'version mismatch']);
}

# (in 4 KiB blocks, as nginx counts them)
my $size = 0;
$size += int(((-s $_) + 4095) / 4096) * 4096
    for grep { my $f = $_; !grep { $_->[0] eq $f } @bad } files_under("$dir/pc");

# max_size below the two files of pm (20 KB each, 24 KB counted in 4 KB blocks); ps's 8
# files of a few hundred bytes count a block each, so max_size=16k keeps 4 (their bytes fit)
$s->write_conf(conf_parts($dir, ' max_size=30k', ' max_size=16k'));
my $mark = $s->log_mark;
my $t0 = time;
ok($s->start, 'started again over the files') or stop_here();
ok(wait_for(sub { my $l = $s->log_since($mark);
                  3 == grep { $l =~ m{http file cache: \Q$dir\E/$_ } } qw(pc pm ps) },
            120), 'the loader went through the three zones') or diag($s->log_since($mark));
my $log = $s->log_since($mark);
cmp_ok(time - $t0, '>=', 58, 'a minute after the start, as nginx\'s');
my ($m) = $log =~ m{\[notice\] .*http file cache: \Q$dir\E/pc ([0-9.]+)M, bsize: 4096};
if (is_nginx()) {
    cmp_ok($m, '>', 0, "pc's files counted: ${m}M");
} else {
    is($m, sprintf('%.3f', $size / 1048576), "pc's files counted: their blocks (${m}M)");
    for my $b (@bad) {
        my ($f, $level, $what) = @$b;
        ok(!-e $f, "removed by the loader: $what");
        like($log, qr/\[$level\] .*cache file "\Q$f\E" \Q$what\E/, "... logged at $level");
    }
}
ok(wait_for(sub { files_under("$dir/pm") == 1 }, 10),
   'pm over max_size: the manager evicted one of its two files');
ok(wait_for(sub { files_under("$dir/ps") == 4 }, 10),
   'ps: 8 small files are 8 blocks, max_size=16k keeps 4') or diag(scalar files_under("$dir/ps"));

# no request for them before the loader's line: the index knew them from it
is(ask($s, 'GET', '/a'), '200 HIT 1 20000', 'GET /a: HIT');
is(ask($s, 'HEAD', '/h'), '200 HIT 1 0', 'HEAD /h: HIT, the header-only entry');
my ($kept) = map { m{^/m/} ? $_ : () } grep { file_of("$dir/pm", '', $_) } '/m/1', '/m/2';
ok($kept, 'the file kept in pm') and
    is(ask($s, 'GET', $kept), '200 HIT 1 20000', "GET $kept: HIT");
is(upstream_count(), 0, 'the upstream was not asked');
if (!is_nginx()) {
    is(ask($s, 'GET', $_), '200 MISS 1 20000', "GET $_: its broken file gone, MISS") for '/t', '/w', '/v';
    is(ask($s, 'GET', $_), '200 HIT 1 20000', "GET $_ again: HIT") for '/t', '/w', '/v';
}
$s->stop;

Test::More::done_testing();
