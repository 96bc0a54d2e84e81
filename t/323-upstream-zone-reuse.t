# An upstream zone gives back the records nobody reads any more: the records of the addresses a
# "server NAME resolve" name no longer has, and of peers (and their health checks) that a reload
# removed, are freed once no worker and no generation points at them, so a small zone survives
# many address changes and reloads without "could not allocate memory in upstream zone".
#
# A 32k zone holds about a hundred records; each round below brings 20 new peers with a health
# check each (40 records), so without the freeing the third round fills the zone.
#
# moongate only: "resolve" is nginx 1.27.3+, health_check nginx Plus.
#
#   prove -I t/lib t/323-upstream-zone-reuse.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDNS;
use Time::HiRes ();

plan 'no_plan';

backend(a => 'echo');
dns_start('pool.test' => { a => ['127.0.0.1'], ttl => 1 });
log_level('info');

sub errlog { Test::Moongate::slurp($Test::Moongate::ErrLogFile) }

# wait (20 s at most) until the log has a line matching $re
sub log_until {
    my $re = shift;
    for (1 .. 200) {
        return 1 if errlog() =~ $re;
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

sub get {
    my $path = shift;
    my $x = Test::Moongate::exchange(["GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
                                     0, ['GET'], 5);
    my ($r) = Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
    return $r ? "$r->{status} $r->{body}" : 'none';
}

# round N's answer: 127.0.0.1 (the backend, kept in its slot) and 19 addresses nothing listens
# on, checked (and refused) at once
sub round_addrs { my $n = shift; ('127.0.0.1', map { "127.0.$n.$_" } 1 .. 19) }

# the configuration of reload N: 20 peers on ports nothing listens on, a check for each; with
# $master workers, once the last generation's workers exited
sub reload_conf {
    my ($n, $master) = @_;
    my $conf = Test::Moongate::slurp($Test::Moongate::ConfFile);
    my $servers = join '', map { "        server 127.0.0.$n:" . (20000 + $n * 20 + $_) . ";\n" } 1 .. 20;
    $conf =~ s/(upstream u \{\n\s*zone z 32k;\n).*?(\s*\})/$1$servers$2/s or die "no upstream u";
    $conf =~ s/return 200 "gen \d+\\n"/return 200 "gen $n\\n"/ or die "no /gen";
    open my $f, '>', $Test::Moongate::ConfFile or die "$!";
    print $f $conf;
    close $f;
    kill 'HUP', Test::Moongate::read_pid();
    my $got = '';
    for (1 .. 200) {
        $got = get('/gen');
        last if $got eq "200 gen $n\n";
        Time::HiRes::sleep(0.1);
    }
    if ($got ne "200 gen $n\n") {
        Test::More::diag("reload $n: /gen answered $got");
        return 0;
    }
    # the last generation's workers gone (the records they read are still theirs till then)
    my $pid = Test::Moongate::read_pid();
    for (1 .. 200) {
        return 1 if !$master || Test::Moongate::child_pids($pid) <= $master;
        Time::HiRes::sleep(0.1);
    }
    Test::More::diag("reload $n: the last generation's workers did not exit");
    return 0;
}

run_tests();

__DATA__

=== TEST 1: a resolve name's addresses change six times, 20 at a time, each checked
--- http_config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    upstream u {
        zone z 32k;
        server pool.test:$TEST_NGINX_A_PORT resolve max_fails=0;
    }
--- config
    location /t {
        proxy_pass http://u;
        health_check interval=30s uri=/hc;
    }
--- init
for my $n (1 .. 6) {
    dns_set('pool.test' => { a => [main::round_addrs($n)], ttl => 1 });
    Test::More::ok(main::log_until(qr/peer 127\.0\.$n\.19:\d+ in upstream "u"/),
                   "TEST 1: round $n: its last address is checked");
}
Test::More::unlike(main::errlog(), qr/could not allocate memory/, 'TEST 1: the zone never filled');
--- request
GET /t
--- response_headers
X-Backend: a
--- moongate_only



=== TEST 2: six reloads, each with 20 new peers and their checks (a single process)
--- http_config
    upstream u {
        zone z 32k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t {
        proxy_pass http://u;
        health_check interval=30s uri=/hc;
    }
    location /gen { return 200 "gen 0\n"; }
--- init
for my $n (1 .. 6) {
    Test::More::ok(main::reload_conf($n), "TEST 2: reload $n serves its configuration");
}
Test::More::unlike(main::errlog(), qr/could not allocate memory/, 'TEST 2: the zone never filled');
--- request
GET /gen
--- response_body
gen 6
--- moongate_only



=== TEST 3: six reloads, each with 20 new peers and their checks (a master and two workers)
--- main_config
    master_process on;
    worker_processes 2;
--- http_config
    upstream u {
        zone z 32k;
        server 127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- config
    location /t {
        proxy_pass http://u;
        health_check interval=30s uri=/hc;
    }
    location /gen { return 200 "gen 0\n"; }
--- init
for my $n (1 .. 6) {
    Test::More::ok(main::reload_conf($n, 2), "TEST 3: reload $n serves its configuration");
}
Test::More::unlike(main::errlog(), qr/could not allocate memory/, 'TEST 3: the zone never filled');
--- request
GET /gen
--- response_body
gen 6
--- moongate_only
