# proxy_cache and the process model: the master runs a cache manager and a cache loader
# process (nginx's titles), the cache on disk outlives a HUP, a USR2 and a restart (a HIT right
# after each, the body the first fetch stored), the manager removes entries unused for
# `inactive` and the least recently used ones beyond max_size.  Real processes and signals;
# every wait is for a condition, bounded.
#
#   prove -I t/lib t/612-proxy-cache-process.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/612-proxy-cache-process.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use File::Find ();

my $N = proc_name;
my $port2;
do { $port2 = Test::Moongate::find_free_port() } while 0;

sub conf_parts {
    my ($dir, $params) = @_;
    return (
        main => is_nginx() ? "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n"
                           . "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n" : '',
        http => qq{
    lua_shared_dict hits 1m;
    proxy_cache_path $dir/cache levels=1:2 keys_zone=pc:1m $params;
    server {
        listen 127.0.0.1:$port2;
        location / {
            content_by_lua_block {
                local n = ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                local size = tonumber(ngx.var.arg_size)
                local body = size and string.rep("x", size) or (ngx.var.uri .. " n=" .. n .. "\\n")
                ngx.header["Content-Length"] = #body
                ngx.print(body)
            }
        }
    }
},
        server => qq{
        location / {
            proxy_pass http://127.0.0.1:$port2;
            proxy_cache pc;
            proxy_cache_valid 10m;
            add_header X-Cache \$upstream_cache_status;
        }
});
}

sub get {
    my ($s, $uri) = @_;
    my $r = http_get($s->port, $uri, timeout => 5);
    return ($r->{status} // 0) . ' ' . ($r->{headers}{'x-cache'} // '-') . ' ' . ($r->{body} // '');
}

sub titles {
    my $m = shift;
    return join ',', sort map { $_->[1] =~ /cache (manager|loader) process/ ? $1 : () } children_of($m);
}

sub cache_files {
    my $dir = shift;
    my @f;
    File::Find::find(sub { push @f, $File::Find::name if -f && /^[0-9a-f]{32}$/ }, $dir)
        if -d $dir;
    return @f;
}

# ---- titles, HUP, USR2, restart ----
{
    my $s = Test::MoongateProc->new(name => 'cache', workers => 2, error_level => 'notice');
    $s->write_conf(conf_parts($s->dir, ''));
    $s->use_binary_copy;
    my $m0 = $s->start;
    ok($m0, 'started') or stop_here();
    ok(wait_for(sub { titles($m0) eq 'loader,manager' }, 5),
       "\"$N: cache manager process\" and \"$N: cache loader process\" beside the workers")
        or diag(join "\n", map { "@$_" } children_of($m0));

    is(get($s, '/a'), "200 MISS /a n=1\n", 'first fetch: MISS');
    is(get($s, '/a'), "200 HIT /a n=1\n", 'then HIT');

    my ($code, $out, $err) = $s->reload;
    is($code, 0, 'reload') or diag("$out$err");
    is(get($s, '/a'), "200 HIT /a n=1\n", 'HIT right after HUP');
    ok(wait_for(sub { titles($m0) =~ /manager/ }, 5), 'a cache manager after the reload');

    my $old = $s->pid;
    my $new = $s->usr2($old, 10);
    ok($new && $s->wait_workers(2, master => $new), 'USR2: a new binary with its workers');
    $s->signal('QUIT', $old);
    ok(wait_gone(10, $old), 'the old master quit');
    is(get($s, '/a'), "200 HIT /a n=1\n", 'HIT right after USR2');
    ok(wait_for(sub { titles($new) =~ /manager/ }, 5), 'the new binary has a cache manager');

    # TERM (the harness's stop): the cache processes exit at once as the workers do (they kept
    # TERM blocked: the master killed them 2 s later)
    my $at_stop = $s->log_mark;
    ok($s->stop, 'stopped');
    my $log = $s->log_since($at_stop);
    unlike($log, qr/did not exit in time/, 'TERM: no process had to be killed');
    like($log, qr/cache manager process \d+ exited with code 0/, 'TERM: the cache manager exits');
    my $m1 = $s->start;
    ok($m1, 'started again') or stop_here();
    is(get($s, '/a'), "200 HIT /a n=1\n", 'HIT right after a restart: the cache is on disk');
    is(get($s, '/b'), "200 MISS /b n=1\n", 'another key: MISS');
    $s->stop;
}

# ---- the manager: inactive ----
{
    my $s = Test::MoongateProc->new(name => 'cache-inactive', workers => 1, error_level => 'notice');
    $s->write_conf(conf_parts($s->dir, 'inactive=2s'));
    my $m = $s->start;
    ok($m, 'started with inactive=2s') or stop_here();
    is(get($s, '/i'), "200 MISS /i n=1\n", 'stored');
    ok(scalar(cache_files($s->dir . '/cache')) >= 1, 'on disk');
    ok(wait_for(sub { !cache_files($s->dir . '/cache') }, 20),
       'the entry unused for 2 s is gone from the disk');
    is(get($s, '/i'), "200 MISS /i n=2\n", 'and from the index: MISS');
    $s->stop;
}

# ---- the manager: max_size ----
{
    my $s = Test::MoongateProc->new(name => 'cache-max', workers => 1, error_level => 'notice');
    $s->write_conf(conf_parts($s->dir, 'max_size=100k'));
    my $m = $s->start;
    ok($m, 'started with max_size=100k') or stop_here();
    like(get($s, "/s$_?size=40000"), qr/^200 MISS /, "40000 bytes stored ($_)") for 1 .. 4;
    ok(wait_for(sub {
        my $total = 0;
        $total += -s $_ for cache_files($s->dir . '/cache');
        $total <= 100 * 1024;
    }, 20), 'the files are brought under max_size');
    like(get($s, '/s4?size=40000'), qr/^200 HIT /, 'the most recently used one stays');
    like(get($s, '/s1?size=40000'), qr/^200 MISS /, 'the least recently used one went');
    $s->stop;
}

Test::More::done_testing();
