# proxy_cache's header-only entries (the answer to a HEAD gone upstream as HEAD with
# proxy_cache_convert_head off) outlive a restart: the first HEAD after it is a HIT from the
# file on disk, the GET has its own entry.  Then (moongate's own file format) a file of the
# previous format version, as an older moongate wrote it, is a miss logged at info ("version
# mismatch", nginx's words), fetched and stored anew, never served.  Real processes; every
# wait is for a condition, bounded.
#
#   prove -I t/lib t/462-proxy-cache-head-restart.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/462-proxy-cache-head-restart.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Compress::Zlib ();

my $port2 = Test::Moongate::find_free_port();

sub conf_parts {
    my ($dir) = @_;
    return (
        main => is_nginx() ? "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n"
                           . "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n" : '',
        http => qq{
    lua_shared_dict hits 1m;
    proxy_cache_path $dir/cache keys_zone=pc:1m;
    server {
        listen 127.0.0.1:$port2;
        location / {
            content_by_lua_block {
                local n = ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                ngx.header["X-Method"] = ngx.req.get_method()
                ngx.header["X-N"] = n
                ngx.print(ngx.var.uri .. " n=" .. n .. "\\n")
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
});
}

# "STATUS CACHE METHOD N BODY" of one request
sub ask {
    my ($s, $method, $uri) = @_;
    my $r = http_request($s->port, "$method $uri HTTP/1.1\r\nHost: localhost\r\n"
                                   . "Connection: close\r\n\r\n", timeout => 5);
    my $h = $r->{headers} // {};
    return join ' ', $r->{status} // 0, map({ $h->{$_} // '-' } qw(x-cache x-method x-n)),
                     $r->{body} // '';
}

sub cache_files {
    my $dir = shift;
    opendir(my $d, $dir) or return ();
    return map { "$dir/$_" } grep { /^[0-9a-f]{32}$/ } readdir $d;
}

my $s = Test::MoongateProc->new(name => 'headonly', workers => 1, error_level => 'info');
$s->write_conf(conf_parts($s->dir));
ok($s->start, 'started') or stop_here();
is(ask($s, 'HEAD', '/h'), '200 MISS HEAD 1 ', 'HEAD: MISS');
is(ask($s, 'HEAD', '/h'), '200 HIT HEAD 1 ', 'HEAD again: HIT from the header-only entry');
ok($s->stop, 'stopped');
ok($s->start, 'started again') or stop_here();
is(ask($s, 'HEAD', '/h'), '200 HIT HEAD 1 ', 'HEAD after the restart: HIT from the file on disk');
# (the upstream's counts start again with the restart)
is(ask($s, 'GET', '/h'), "200 MISS GET 1 /h n=1\n", 'GET: its own entry, MISS');
is(ask($s, 'GET', '/h'), "200 HIT GET 1 /h n=1\n", 'GET again: HIT');
ok($s->stop, 'stopped');

SKIP: {
    skip 'moongate\'s own cache file format', 7 if is_nginx();
    # the GET's file turned into version 1's: a 112-byte header (no flags), its checksum right
    # (by its key: the start's probe, GET /, has an entry too)
    my ($get) = grep { substr(Test::Moongate::slurp($_), 120) =~ /^GET127\.0\.0\.1:$port2\/h/ }
                     cache_files($s->dir . '/cache');
    ok($get, 'the GET\'s file') or last;
    my $f = Test::Moongate::slurp($get);
    my ($keyl, $etagl, $varyl, $headl) = unpack('V4', substr($f, 76, 16));
    my $parts = substr($f, 120, $keyl + $etagl + $varyl + $headl);
    my $h = substr($f, 0, 112);
    substr($h, 8, 8) = pack('VV', 1, 112);
    substr($h, 104, 4) = pack('V', 0);
    substr($h, 104, 4) = pack('V', Compress::Zlib::crc32($parts, Compress::Zlib::crc32($h)));
    Test::Moongate::spew($get, $h . substr($f, 120));
    is(-s $get, length($f) - 8, 'written as version 1');
    my $mark = $s->log_mark;
    ok($s->start, 'started with it') or stop_here();
    is(ask($s, 'GET', '/h'), "200 MISS GET 1 /h n=1\n", 'the old file: MISS, fetched');
    like($s->log_since($mark), qr/\[info\] .*cache file "\Q$get\E" version mismatch/,
         'logged at info, nginx\'s words');
    is(ask($s, 'GET', '/h'), "200 HIT GET 1 /h n=1\n", 'stored anew: HIT');
    is(ask($s, 'GET', '/h'), "200 HIT GET 1 /h n=1\n", 'the upstream asked once');
    $s->stop;
}

Test::More::done_testing();
