# Active health checks (issue 14, item 3; nginx Plus's health_check and match) with a real master,
# two workers and real backends: a peer whose check fails gets no client request, one check per
# peer per interval runs for the whole server (not one per worker), the verdict survives a HUP
# and a USR2 (a failing peer stays out right after them, a healthy one serves at once: no 502),
# a peer that recovers is served again, "mandatory" keeps a new peer out until it passes, a match
# block's status/header/body tests decide, and a peer answering its check with garbage is logged
# as such while the rest goes on.  Each backend below is a tiny forked HTTP server whose answer
# to the check's URI is read from a file the test rewrites.
#
# moongate only: nginx open source has no health_check.
#
#   prove -I t/lib t/211-health-check.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::MoongateDNS;
use IO::Socket::INET;
use File::Temp ();
use Time::HiRes ();
use POSIX ();

if (is_nginx) {
    Test::More::plan(skip_all => 'health_check is nginx Plus only');
}

my $Dir = File::Temp::tempdir('hc-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my (%Port, @Kids);

my $OK = "HTTP/1.0 200 OK\r\nX-Health: good\r\nContent-Type: text/plain\r\n\r\nfine\n";

# the check's answer from NAME: the raw response (or garbage) given
sub health { my ($name, $raw) = @_; spew("$Dir/$name.hc.tmp", $raw); rename "$Dir/$name.hc.tmp", "$Dir/$name.hc" }

# a backend: /hc* answers what health() last wrote (each such request is a line in its log);
# anything else "NAME\n"; one request per connection
sub hc_backend {
    my $name = shift;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 128,
                                  ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
    $Port{$name} = $l->sockport;
    health($name, $OK);
    my $parent = $$;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{CHLD} = 'IGNORE';
        while (1) {
            POSIX::_exit(0) unless kill 0, $parent;
            my $c = $l->accept or next;
            my $k = fork;
            if (defined $k && $k == 0) {
                my $req = '';
                alarm 10;
                while ($req !~ /\r\n\r\n/) { sysread($c, $req, 4096, length $req) or last }
                my ($uri) = $req =~ m{^GET (\S+)};
                $uri //= '';
                if ($uri =~ m{^/hc}) {
                    open my $lf, '>>', "$Dir/$name.log"; print $lf Time::HiRes::time(), " $uri\n"; close $lf;
                    open my $rf, '>', "$Dir/$name.req.tmp"; print $rf $req; close $rf;
                    rename "$Dir/$name.req.tmp", "$Dir/$name.req";
                    print $c slurp("$Dir/$name.hc");
                } else {
                    print $c "HTTP/1.0 200 OK\r\nContent-Length: " . (length($name) + 1) . "\r\n\r\n$name\n";
                }
                close $c;
                POSIX::_exit(0);    # no END blocks in a child
            }
            close $c;
        }
    }
    close $l;
    push @Kids, $pid;
}
END { kill 'KILL', @Kids if @Kids }

sub checks { my @l = -e "$Dir/$_[0].log" ? split /\n/, slurp("$Dir/$_[0].log") : (); scalar @l }

hc_backend($_) for qw(a b c g h d);

my $Http = <<"EOF";
    upstream b {
        zone b 64k;
        server 127.0.0.1:$Port{a};
        server 127.0.0.1:$Port{b};
    }
    upstream g {
        zone g 64k;
        server 127.0.0.1:$Port{a};
        server 127.0.0.1:$Port{g};
    }
    upstream m {
        zone m 64k;
        server 127.0.0.1:$Port{a};
        server 127.0.0.1:$Port{c};
    }
    match good {
        status 200-299;
        header X-Health = good;
        header ! X-Broken;
        body ~ "^fine";
    }
EOF
my $Server = <<"EOF";
        location /b/ {
            proxy_pass http://b;
            health_check interval=500ms uri=/hcb;
        }
        location /g/ {
            proxy_pass http://g;
            health_check interval=500ms uri=/hcg;
        }
        location /m/ {
            proxy_pass http://m;
            health_check interval=500ms uri=/hcm match=good;
        }
EOF

my $s = Test::MoongateProc->new(name => 'hc', workers => 2, http => $Http, server => $Server);
my $m = $s->start;
ok($m, 'started') or stop_here();

# who answers $n requests to $path: "a:N b:M ..." (status codes other than 200 as "502:N")
sub who {
    my ($path, $n) = @_;
    my %c;
    for (1 .. $n) {
        my $r = http_get($s->port, $path);
        my $k = ($r->{status} // 0) == 200 ? ($r->{body} =~ s/\n//r) : ($r->{status} // 'none');
        $c{$k}++;
    }
    return join ' ', map { "$_:$c{$_}" } sort keys %c;
}

# ---------------------------------------------------------------------------
# both healthy: round robin over both

ok(wait_for(sub { checks('b') >= 1 }, 10), 'the check reaches b');
is(who('/b/', 10), 'a:5 b:5', 'two healthy peers share the requests');

# ---------------------------------------------------------------------------
# b fails its check: out

my $mark = $s->log_mark;
health('b', "HTTP/1.0 503 Service Unavailable\r\n\r\ndown\n");
ok($s->wait_log(qr/\[warn\] \d+#\d+: peer is unhealthy while checking status code, health check "" of peer 127\.0\.0\.1:$Port{b} in upstream "b"/, $mark),
   'b answers 503: logged unhealthy');
is(who('/b/', 20), 'a:20', 'then every request goes to a');

# one check per interval for the whole server, not per worker: the most in a fixed 2.1 s (a
# stalled server checks less: an overdue check runs once, not once per interval missed); then
# the least, waited for: 4 within 6 s of the start (about 2 s; at 5 s, the default interval,
# it would take 20)
my $n0 = checks('b');
my $t0 = Time::HiRes::time();
Time::HiRes::sleep(2.1);
my $n = checks('b') - $n0;
ok($n <= 6, "one check per 0.5 s interval with two workers: $n in 2.1 s (per worker it would be 8 or more)");
ok(wait_for(sub { checks('b') - $n0 >= 4 }, $t0 + 6 - Time::HiRes::time()),
   sprintf('and they go on: %d in %.1f s', checks('b') - $n0, Time::HiRes::time() - $t0));

# ---------------------------------------------------------------------------
# HUP: the failing peer stays out at once, the healthy one serves at once

my @w = $s->worker_pids($m);
my ($code, $out, $err) = $s->reload;
is($code, 0, 'reload') or diag($err);
is(who('/b/', 20), 'a:20', 'right after the HUP: no request to the failing peer, none fails');

# USR2 and QUIT of the old master: the same
$m = $s->upgrade(2, sub { is(who('/b/', 10), 'a:10', 'while both binaries run: still only a') });
ok($m, 'USR2: the new binary serves') or stop_here();
is(who('/b/', 20), 'a:20', 'right after the upgrade: no request to the failing peer, none fails');

# ---------------------------------------------------------------------------
# b recovers

$mark = $s->log_mark;
health('b', $OK);
ok($s->wait_log(qr/\[notice\] \d+#\d+: peer is healthy, health check "" of peer 127\.0\.0\.1:$Port{b} in upstream "b"/, $mark),
   'b passes again: logged');
is(who('/b/', 10), 'a:5 b:5', 'and is served again');

# ---------------------------------------------------------------------------
# a peer answering garbage: logged, it is out, nothing else is disturbed

$mark = $s->log_mark;
my @before = sort { $a <=> $b } $s->worker_pids($m);
health('g', "garbage\r\n\r\n");
ok($s->wait_log(qr/\[error\] \d+#\d+: upstream sent invalid status line while reading response header from upstream, health check "" of peer 127\.0\.0\.1:$Port{g} in upstream "g"/, $mark),
   'garbage from g: logged');
# (30 s bounds where each try is several requests through forked backends: under load 30 a try
# took seconds, and 10 s allowed two)
ok(wait_for(sub { who('/g/', 6) eq 'a:6' }, 30), 'g gets no request');
is(who('/b/', 10), 'a:5 b:5', 'the other group is untouched');
health('g', "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc");   # cut short: closes early
ok(wait_for(sub { who('/g/', 6) eq 'a:3 g:3' }, 30), 'g back with a short body: its status is what counts');
is_deeply([sort { $a <=> $b } $s->worker_pids($m)], \@before, 'the same workers serve');
unlike($s->log_since($mark), qr/\[(alert|crit|emerg)\]/, 'no alert');

# ---------------------------------------------------------------------------
# match: status, header and body

is(who('/m/', 10), 'a:5 c:5', 'match good: both pass');
$mark = $s->log_mark;
health('c', "HTTP/1.0 200 OK\r\nX-Health: good\r\nX-Broken: 1\r\n\r\nfine\n");
ok($s->wait_log(qr/peer is unhealthy while checking headers, health check "good" of peer 127\.0\.0\.1:$Port{c} in upstream "m"/, $mark),
   'a header the match forbids: unhealthy');
is(who('/m/', 10), 'a:10', 'c is out');
$mark = $s->log_mark;
health('c', $OK);
ok($s->wait_log(qr/peer is healthy, health check "good" of peer 127\.0\.0\.1:$Port{c}/, $mark), 'c passes again');
$mark = $s->log_mark;
health('c', "HTTP/1.0 200 OK\r\nX-Health: good\r\n\r\nnot fine\n");
ok($s->wait_log(qr/peer is unhealthy while checking body, health check "good" of peer 127\.0\.0\.1:$Port{c}/, $mark),
   'a body the match does not find: unhealthy');
$mark = $s->log_mark;
health('c', "HTTP/1.0 204 No Content\r\nX-Health: good\r\n\r\nfine\n");
ok($s->wait_log(qr/peer is healthy, health check "good"/, $mark), 'a 204 is in 200-299: c passes again');

# ---------------------------------------------------------------------------
# mandatory: a peer added by a reload is out until its first check passes; fails=/passes=

health('c', "HTTP/1.0 500 Oops\r\n\r\n");
$s->write_conf(http => $Http . <<"EOF", server => $Server . <<"EOF2");
    upstream n {
        zone n 64k;
        server 127.0.0.1:$Port{a};
        server 127.0.0.1:$Port{c};
    }
EOF
        location /n/ {
            proxy_pass http://n;
            health_check interval=30s uri=/hcn mandatory;
        }
EOF2
($code, $out, $err) = $s->reload;
is($code, 0, 'reload with a mandatory check') or diag($err);
unlike(who('/n/', 10), qr/c:/, 'right after it: the new failing peer gets no request (502 while a too is checking)');
ok(wait_for(sub { who('/n/', 1) eq 'a:1' }, 10), 'a passes its first check');
is(who('/n/', 10), 'a:10', 'c never gets a request');

# mandatory persistent: a peer healthy before a reload serves right after it
$mark = $s->log_mark;
health('c', $OK);
$s->write_conf(server => $Server . <<"EOF2");
        location /n/ {
            proxy_pass http://n;
            health_check interval=500ms uri=/hcn mandatory;
        }
EOF2
($code, $out, $err) = $s->reload;
ok($s->wait_log(qr/peer is healthy, health check "" of peer 127\.0\.0\.1:$Port{c} in upstream "n"/, $mark),
   'c passes') or diag($err);
$s->write_conf(server => $Server . <<"EOF2");
        location /n/ {
            proxy_pass http://n;
            health_check interval=30s uri=/hcn mandatory persistent;
        }
EOF2
($code, $out, $err) = $s->reload;
is($code, 0, 'reload with mandatory persistent') or diag($err);
is(who('/n/', 10), 'a:5 c:5', 'right after it both serve: no 502 while they would be checked again');

# the check carries the location's proxy_set_header lines, as nginx Plus's (its checks use the
# location's proxy settings); variables are empty there (no request), and an empty value is
# not sent, as the proxy does
$s->write_conf(http => $Http . <<"EOF2", server => $Server . <<"EOF3");
    upstream hh {
        zone hh 64k;
        server 127.0.0.1:$Port{h};
    }
EOF2
        location /hh/ {
            proxy_pass http://hh;
            proxy_set_header Host checks.example;
            proxy_set_header X-Check-Token "secret 1";
            proxy_set_header X-Client \$remote_addr;
            proxy_set_header X-Mixed "id-\$request_id";
            health_check interval=500ms uri=/hch;
        }
EOF3
($code, $out, $err) = $s->reload;
is($code, 0, 'reload with proxy_set_header in a checked location') or diag($err);
ok(wait_for(sub { -e "$Dir/h.req" }, 10), 'h got a check');
my $req = slurp("$Dir/h.req");
like($req, qr{\AGET /hch HTTP/1\.0\r\n}, 'the check request line');
like($req, qr{\r\nHost: checks\.example\r\n}, 'proxy_set_header Host: the check\'s Host');
unlike($req, qr{\r\nHost: hh\r\n}, 'no second Host line');
like($req, qr{\r\nX-Check-Token: secret 1\r\n}, 'a constant proxy_set_header goes along');
unlike($req, qr{X-Client}, 'a header whose variable is empty is not sent');
like($req, qr{\r\nX-Mixed: id-\r\n}, 'the literal part of a value with a variable');
like($req, qr{\r\nConnection: close\r\n\r\n\z}, 'Connection: close last');

# a peer added at run time by "server NAME resolve" is checked as a configured one: its
# failing check keeps it out, its passing one brings it back
my $dns = dns_start('hc.test' => { a => ['127.0.0.1'], ttl => 30 });
health('d', "HTTP/1.0 500 Broken\r\n\r\n");
$mark = $s->log_mark;
$s->write_conf(http => $Http . <<"EOF2", server => $Server . <<"EOF3");
    upstream rr {
        zone rr 64k;
        resolver 127.0.0.1:$dns;
        server 127.0.0.1:$Port{a};
        server hc.test:$Port{d} resolve;
    }
EOF2
        location /rr/ {
            proxy_pass http://rr;
            health_check interval=500ms uri=/hcd;
        }
EOF3
($code, $out, $err) = $s->reload;
is($code, 0, 'reload with a resolve peer in a checked group') or diag($err);
ok(wait_for(sub { checks('d') >= 1 }, 10), 'the resolved peer is checked');
ok($s->wait_log(qr/peer is unhealthy while checking status code, health check "" of peer 127\.0\.0\.1:$Port{d} in upstream "rr"/, $mark),
   'its failing check is logged');
is(who('/rr/', 10), 'a:10', 'the resolved peer failing its check gets no request');
health('d', $OK);
ok($s->wait_log(qr/peer is healthy, health check "" of peer 127\.0\.0\.1:$Port{d} in upstream "rr"/, $mark),
   'it passes again');
ok(wait_for(sub { who('/rr/', 4) =~ /d:/ }, 30), 'and gets requests again');
$n = checks('d');
Time::HiRes::sleep(1.75);
cmp_ok(checks('d') - $n, '<=', 5, 'one check per interval for the server, not one per worker');
dns_stop();

$s->stop;
Test::More::done_testing();
