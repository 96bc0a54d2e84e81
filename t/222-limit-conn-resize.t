# limit_conn across a HUP, and a USR2, that resize its zone (issue 14, item 2): the requests
# the old generation (or binary) still serves keep counting for the new one (nginx starts the
# resized zone empty, so a client at its limit gets one more), and they are given back when
# they end: the key passes again, nothing is left counted.  The held request waits for a file,
# not for a time.  moongate only.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use IO::Socket::INET;
use IO::Select;

if (is_nginx) {
    Test::More::plan(skip_all => 'limit_conn zones across resizing HUPs: moongate only');
}

my $s = Test::MoongateProc->new(name => 'lcresize', workers => 2, error_level => 'notice');
my $flag = $s->dir . '/release';

sub conf_parts {
    my ($size) = @_;
    return (
        http => "    limit_conn_zone \$arg_k zone=c:$size;\n",
        server => qq{
        location = /held { limit_conn c 1; content_by_lua_block {
            if ngx.var.arg_wait then
                for _ = 1, 600 do
                    local f = io.open("$flag")
                    if f then f:close() break end
                    ngx.sleep(0.05)
                end
            end
            ngx.say("done ", ngx.worker.pid())
        } }
        });
}

sub get { my $r = http_get($s->port, $_[0]); return ($r->{status} // 'none') . ' ' . ($r->{body} // '') }

unlink $flag;
$s->write_conf(conf_parts('1m'));
$s->use_binary_copy;
my $m = $s->start;
ok($m, 'started') or stop_here();

# A request of key a held until the flag file exists, once a second one of that key is refused.
# A request that ended a moment ago may still count in its worker (the count is given back
# after the answer is sent, as in nginx): a held request refused so is sent again.
sub hold {
    my $sock;
    my $ok = wait_for(sub {
        close $sock if $sock;
        $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, Timeout => 5)
            or return 0;
        print $sock "GET /held?k=a&wait=1 HTTP/1.0\r\nHost: localhost\r\n\r\n";
        return wait_for(sub {
            return 0 if IO::Select->new($sock)->can_read(0);    # answered: refused
            return get('/held?k=a') =~ /^503 / ? 1 : 0;
        }, 3) && !IO::Select->new($sock)->can_read(0);
    }, 20);
    return $ok ? $sock : undef;
}

like(get('/held?k=a'), qr/^200 done /, 'a request alone passes');
my $held = hold();
ok($held, 'beside one in flight, a second is refused') or stop_here();

my $mark = $s->log_mark;
$s->write_conf(conf_parts('2m'));
my ($code, $out, $err) = $s->reload;
is($code, 0, 'reload with limit_conn_zone c:2m accepted') or diag("$out$err");
like(get('/held?k=a'), qr/^503 /,
     'after the resize the old generation\'s request in flight still counts');
like(get('/held?k=b'), qr/^200 done /, 'another key passes');

spew($flag, "go\n");
my $r = '';
$r .= $_ while <$held>;
like($r, qr/^HTTP\/1\.\d 200 .*done \d+/s, 'the held request ends');
close $held;
ok(wait_for(sub { get('/held?k=a') =~ /^200 / }, 10),
   'once it ended, its key passes again (it was given back, nothing left counted)');
like(get('/held?k=a'), qr/^200 done /, 'and again');
unlike($s->log_since($mark), qr/\[(emerg|alert|crit)\]/, 'no error logged');

# a USR2 whose configuration resizes the zone: the old binary's request in flight counts in
# the new binary's workers (the old binary's zone stays mapped for them)
unlink $flag;
$held = hold();
ok($held, 'usr2: one in flight, a second is refused') or stop_here();
$mark = $s->log_mark;
$s->write_conf(conf_parts('3m'));
my $new = $s->usr2($m, 10);
ok($new && $s->wait_workers(2, master => $new), 'usr2: the new binary serves');
my @ow = $s->worker_pids($m);
$s->signal('QUIT', $m);
ok(wait_for(sub { my $l = $s->log_since($mark); !grep { $l !~ /\[notice\] $_#\d+: gracefully shutting down$/m } @ow }, 10),
   'usr2: the old workers stopped accepting (one still serves the held request)');
like(get('/held?k=a'), qr/^503 /, 'usr2: the new binary counts the old binary\'s request in flight');
like(get('/held?k=b'), qr/^200 done /, 'usr2: another key passes');
spew($flag, "go\n");
$r = '';
$r .= $_ while <$held>;
like($r, qr/^HTTP\/1\.\d 200 .*done \d+/s, 'usr2: the held request ends');
close $held;
ok(wait_gone(10, $m, @ow), 'usr2: the old binary is gone');
like(get('/held?k=a'), qr/^200 done /, 'usr2: its key passes again');
unlike($s->log_since($mark), qr/\[(emerg|alert|crit)\]/, 'usr2: no error logged');

ok($s->stop, 'stopped');
Test::More::done_testing();
