# server NAME resolve across a reload (HUP) with a real master and two workers: the addresses
# one worker found are kept in the upstream's zone, so the new generation serves them from its
# first request, even when the DNS no longer answers (nginx 1.27.3+ keeps them in the zone
# too; moongate_only here: Debian's nginx 1.22 has no `resolve`).
#
#   prove -I t/lib t/322-upstream-resolve-reload.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::MoongateBackend;
use Test::MoongateDNS;

Test::More::plan skip_all => 'moongate only: nginx 1.22 has no "server ... resolve"' if is_nginx();

backend(a => 'echo');
dns_start('pool.test' => { a => ['127.0.0.1'], ttl => 1 });
my $dns = $ENV{TEST_NGINX_DNS_PORT} // die "no DNS port";

my $s = Test::MoongateProc->new(
    name => 'resolvereload', workers => 2,
    http => <<"EOT",
    resolver 127.0.0.1:$dns ipv6=off;
    resolver_timeout 30s;
    upstream u {
        zone dyn 64k;
        server pool.test:$Port{a} resolve;
    }
EOT
    server => <<'EOT');
        location /t {
            add_header X-Up $upstream_addr always;
            proxy_pass http://u;
        }
EOT
ok($s->start, 'started') or stop_here();

sub backend_of {
    my $r = http_get($s->port, '/t');
    return $r->{headers}{'x-backend'} // $r->{status} // 'none';
}

my $got = '';
ok(wait_for(sub { ($got = backend_of()) eq 'a' }, 20), 'the name resolved and serves') or diag($got);

# the DNS goes silent: the new generation cannot ask, but finds the answer in the zone
dns_set('pool.test' => { drop => 1 });
my @old = $s->worker_pids;
$s->signal('HUP');
ok(wait_gone(10, @old), 'the old workers are gone after HUP');
is(scalar($s->wait_workers(2)), 2, 'two new workers');
my @seen = map { backend_of() } 1 .. 10;
is("@seen", join(' ', ('a') x 10), 'the new generation serves the address at once');

$s->stop;
Test::More::done_testing();
