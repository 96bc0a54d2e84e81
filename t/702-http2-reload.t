# HTTP/2 across reloads and an upgrade: a draining worker sends a GOAWAY for all streams and a
# PING, then (once the PING's ACK shows the client saw it) the final GOAWAY naming the last
# stream it took; its open streams finish, then it closes. A load of h2 clients (t/lib/h2util.py,
# reconnecting after a GOAWAY and sending again what a GOAWAY says was not processed, as RFC 9113
# allows) runs while the master gets HUPs (cleartext and TLS) and a USR2 upgrade: 0 requests
# fail. Also: QUIT with an idle h2 connection ends at once, with a GOAWAY.
#
# moongate only: nginx 1.22 loses requests by design (it closes h2 connections at a reload with
# a GOAWAY naming the last stream it has seen, while the client may be sending the next); to
# see nginx's numbers: TEST_MOONGATE_FORCE=1 TEST_MOONGATE_BINARY=/usr/sbin/nginx prove ...

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::Moongate::Certs;
use Time::HiRes ();

if (is_nginx && !$ENV{TEST_MOONGATE_FORCE}) {
    Test::More::plan(skip_all => 'zero-loss h2 reloads: moongate only (nginx loses requests by'
                                 . ' design; TEST_MOONGATE_FORCE=1 runs it anyway)');
}

my $Certs = Test::Moongate::Certs::make();

my $Py = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
my $Lib = Test::Moongate::repo_root() . '/t/lib';

# t/lib/h2util.py's load() in the background until load_stop (at most $secs): its counts once
# it ended. (h2load is not used for the verdict: after a GOAWAY it neither retries the requests
# it could not start nor reconnects, and counts them failed, whatever the server does.)
sub load_bg {
    my ($port, $secs, $tls) = @_;
    my $out = Test::Moongate::servroot() . "/load.$$." . int(rand(1e9));
    unlink "$out.stop", "$out.ready";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out or die;
        open STDERR, '>&', \*STDOUT;
        exec $Py, '-c', "import sys; sys.path.insert(0, '$Lib')\nfrom h2util import *\n"
            . "r = load($port, $secs, conns=6, streams=8, tls=" . ($tls ? 'True' : 'False')
            . ", body_re='^ok', stop_file='$out.stop', ready_file='$out.ready')\n"
            . "print('ok=%(ok)d failed=%(failed)d retried=%(retried)d "
            . "goaways=%(goaways)d connections=%(connections)d' % r, r['samples'])";
        exit 127;
    }
    return { pid => $pid, out => $out };
}

# the load has had a first response: the signals that follow meet it running
sub load_ready { my $h = shift; return wait_for(sub { -e "$h->{out}.ready" }, 30) }

sub load_wait {
    my $h = shift;
    open my $fh, '>', "$h->{out}.stop" or die "$h->{out}.stop: $!";
    close $fh;
    waitpid $h->{pid}, 0;
    my $text = Test::Moongate::slurp($h->{out});
    chomp $text;
    return $text;
}

sub scenario {
    my ($label, %o) = @_;
    my $s = Test::MoongateProc->new(
        name => $o{name}, workers => 2, listen => $o{listen},
        server => ($o{server} // '') . "keepalive_requests 1000000;\n"
                  . qq{location / { return 200 "ok\\n"; }\n});
    $s->use_binary_copy if $o{upgrade};
    ok(my $m = $s->start, "$label: started") or return;
    # the connections the reloads end are opened before them: the load runs until load_wait,
    # and old workers are waited for, so GOAWAYs are seen however slow the machine is
    my $h = load_bg($s->port, 120, $o{listen} =~ /ssl/);
    ok(load_ready($h), "$label: the load runs");
    my @old = $s->worker_pids;
    # each HUP once the last one's workers took over (no fixed pause: 0.4 s each was 8 s of
    # the file), so that every reload is a whole one under the load
    my @cur = @old;
    for my $i (1 .. ($o{hups} // 0)) {
        my %was = map { $_ => 1 } @cur;
        kill 'HUP', $m;
        @cur = ();
        ok(wait_for(sub {
            my @w = $s->wait_workers(2, master => $m, all => 0, timeout => 0);
            @cur = @w if @w == 2 && !grep { $was{$_} } @w;
            scalar @cur;
        }, 30), "$label: HUP $i: new workers run");
    }
    if ($o{hups}) {
        ok(wait_gone(60, @old), "$label: the first workers drained and exited");
    }
    if ($o{upgrade}) {
        kill 'USR2', $m;
        my $new = wait_for(sub { my $p = $s->pid; $p && $p != $m ? $p : 0 }, 30);
        ok($new, "$label: the new master runs");
        ok(wait_for(sub { scalar $s->workers($new) >= 2 }, 30), "$label: its workers run");
        Time::HiRes::sleep(0.5); # the new workers take connections while the old ones go
        kill 'WINCH', $m;
        ok(wait_gone(60, @old), "$label: the old workers drained and exited");
        kill 'QUIT', $m;
        ok(wait_gone(30, $m), "$label: the old master exited");
    }
    my $line = load_wait($h);
    diag("$label: $line");
    like($line, qr/^ok=[1-9]\d* failed=0 /, "$label: no request failed");
    like($line, qr/ goaways=[1-9]/, "$label: connections were ended by GOAWAYs")
        if $o{hups} || $o{upgrade};
    $s->stop;
}

my $tls = "ssl http2;\n ssl_certificate $Certs/localhost.crt;\n"
        . " ssl_certificate_key $Certs/localhost.key";
scenario('h2c, 10 HUPs', name => 'h2c', listen => 'http2', hups => 10);
scenario('h2 over TLS, 10 HUPs', name => 'h2tls', listen => $tls, hups => 10);
scenario('h2c, USR2 upgrade', name => 'h2up', listen => 'http2', upgrade => 1);

# QUIT with an idle h2 connection: a GOAWAY at once, then the close; the master exits
{
    my $s = Test::MoongateProc->new(name => 'quit', workers => 1, listen => 'http2',
                                    server => qq{location / { return 200 "ok\\n"; }\n});
    ok(my $m = $s->start, 'quit: started');
    my $port = $s->port;
    open my $fh, '-|', $Py, '-c', <<"PY" or die;
import sys, os, signal, time
sys.path.insert(0, '$Lib')
from h2util import *
c = Client($port)
a = c.request('/')
c.wait(a)
os.kill($m, signal.SIGQUIT)
t = time.time()
c.run(timeout=5)
print(c.streams[a].status, c.goaway, c.closed, time.time() - t < 3)
PY
    my $out = join '', <$fh>;
    close $fh;
    is($out, "200 (1, 0) True True\n", 'quit: GOAWAY naming stream 1, then closed');
    ok(wait_gone(5, $m), 'quit: the master exited');
    $s->stop;
}

Test::More::done_testing();
