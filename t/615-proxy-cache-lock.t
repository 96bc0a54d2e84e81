# proxy_cache_lock against a real master with two workers: requests for one new entry, sent
# at once to whichever worker accepts them, make one request upstream (the lock lives in the
# keys zone's shared memory) and the others are answered from the entry it stored; without
# the lock each goes upstream; after proxy_cache_lock_timeout the waiting ones go upstream
# and what they get is not stored; after proxy_cache_lock_age another one goes.  The
# upstream is a server block of the same master that answers after `d` seconds and counts the
# requests per URI (GET /hits?u=URI tells).
#
#   prove -I t/lib t/615-proxy-cache-lock.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/615-proxy-cache-lock.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Time::HiRes ();
use POSIX ();

my $port2 = Test::Moongate::find_free_port();

my $s = Test::MoongateProc->new(name => 'lock', workers => 2);
my $dir = $s->dir;
$s->write_conf(
    main => is_nginx() ? "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n"
                       . "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n" : '',
    http => qq{
    lua_shared_dict hits 1m;
    proxy_cache_path $dir/cache keys_zone=pc:1m;
    server {
        listen 127.0.0.1:$port2;
        location = /hits {
            content_by_lua_block { ngx.say(ngx.shared.hits:get(ngx.var.arg_u) or 0) }
        }
        location / {
            content_by_lua_block {
                local n = ngx.shared.hits:incr(ngx.var.uri, 1, 0)
                ngx.sleep(tonumber(ngx.var.arg_d or 0))
                local body = ngx.var.uri .. " n=" .. n .. "\\n"
                ngx.header["Content-Length"] = #body
                ngx.print(body)
            }
        }
    }
},
    server => qq{
        proxy_cache pc;
        proxy_cache_key \$uri;
        proxy_cache_valid 10m;
        add_header X-Cache \$upstream_cache_status;
        add_header X-Pid \$pid;
        location /lock/ {
            proxy_pass http://127.0.0.1:$port2;
            proxy_cache_lock on;
        }
        location /nolock/ {
            proxy_pass http://127.0.0.1:$port2;
        }
        location /timeout/ {
            proxy_pass http://127.0.0.1:$port2;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 300ms;
        }
        location /age/ {
            proxy_pass http://127.0.0.1:$port2;
            proxy_cache_lock on;
            proxy_cache_lock_age 500ms;
            proxy_cache_lock_timeout 20s;
        }
});
ok($s->start, 'started') or stop_here();

# n requests for uri at once (forked clients): [status, x-cache, body, pid] each
sub at_once {
    my ($uri, $n) = @_;
    my @kids;
    my $tmp = "$dir/res";
    for my $i (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $r = http_get($s->port, $uri, timeout => 15);
            spew("$tmp.$i", join "\t", $r->{status} // 0, $r->{headers}{'x-cache'} // '-',
                 $r->{body} // '', $r->{headers}{'x-pid'} // '-');
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    waitpid $_, 0 for @kids;
    return map { [split /\t/, slurp("$tmp.$_") // ''] } 1 .. $n;
}

sub hits {
    my $r = http_get($port2, "/hits?u=$_[0]", timeout => 5);
    return ($r->{body} // '') =~ /(\d+)/ ? $1 + 0 : -1;
}

sub tally {
    my %c;
    $c{$_->[1]}++ for @_;
    return join ' ', map { "$_=$c{$_}" } sort keys %c;
}

{
    my @r = at_once('/lock/a?d=1', 8);
    is(scalar(grep { $_->[0] == 200 && $_->[2] eq "/lock/a n=1\n" } @r), 8,
       'lock: all 8 answers are the one fetch\'s body');
    is(hits('/lock/a'), 1, 'lock: one request went upstream');
    is(tally(@r), 'HIT=7 MISS=1', 'lock: one MISS, the waiting ones HIT');
    my %w = map { $_->[3] => 1 } @r;
    diag('answered by ' . scalar(keys %w) . ' worker(s)');
}
{
    my @r = at_once('/nolock/a?d=1', 4);
    is(hits('/nolock/a'), 4, 'no lock: every request went upstream');
    is(tally(@r), 'MISS=4', 'no lock: all MISS');
}
{
    my $t0 = Time::HiRes::time();
    my @r = at_once('/timeout/a?d=2', 4);
    is(hits('/timeout/a'), 4, 'lock_timeout: the waiting requests went upstream once it passed');
    is(tally(@r), 'MISS=4', 'lock_timeout: all MISS');
    my $r = http_get($s->port, '/timeout/a', timeout => 5);
    is(($r->{headers}{'x-cache'} // '-') . ' ' . ($r->{body} // ''), "HIT /timeout/a n=1\n",
       'lock_timeout: only the lock holder\'s answer was stored');
}
{
    my @r = at_once('/age/a?d=2', 2);
    is(hits('/age/a'), 2, 'lock_age: a second request went upstream once the lock was old');
    is(tally(@r), 'MISS=2', 'lock_age: both MISS');
}

$s->stop;
Test::More::done_testing();
