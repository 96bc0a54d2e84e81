# Atomic switch on reload (issue 14, item 1): a reload's new workers come up ready but accept
# only once the old generation has stopped accepting (connections wait in the shared listen
# queue meanwhile, none refused), so the generation that fresh connections see never goes back,
# and `-s reload` returns when the new generation serves.  A tight sequential client (a new
# connection per request, the body naming the generation) runs through 20 reloads: 0 failed
# requests, 0 inversions (a response of an older generation after one of a newer), and right
# after each `-s reload` a new connection gets the new generation.  Prints the reload latency
# (median/max of `-s reload`'s wall time) and how long after the start of `-s reload` the client
# first saw each new generation.
#
# TEST_MOONGATE_LOCATIONS=N adds N prefix locations to the config (t/bench/reload-time.sh: 10000).
# moongate only: nginx's old and new workers accept side by side for a while (inversions) and its
# -s reload does not wait.  To see nginx's numbers:
# TEST_MOONGATE_FORCE=1 TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -v -I t/lib t/209-atomic-switch.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();

if (is_nginx && !$ENV{TEST_MOONGATE_FORCE}) {
    Test::More::plan(skip_all => 'atomic switch: moongate only (nginx inverts by design;'
                                 . ' TEST_MOONGATE_FORCE=1 runs it anyway)');
}
my $Force = is_nginx;    # nginx: print the numbers, check nothing nginx cannot do
my $Reloads = $ENV{TEST_MOONGATE_RELOADS} || 20;
my $Locations = $ENV{TEST_MOONGATE_LOCATIONS} || 0;

my $extra = join('', map { "        location /l$_/ { return 204; }\n" } 1 .. $Locations);
sub server_g { my $g = shift; qq{location = / { return 200 "g$g\\n"; }\n} . $extra }

my $s = Test::MoongateProc->new(name => 'atomic', workers => 2, error_level => 'notice');
$s->write_conf(server => server_g(1));
my $m = $s->start(timeout => 30);
ok($m, 'started') or stop_here();

# the client: one connection per request, as fast as it goes; writes "time gen" per response
# (gen 0: a failed request, with the reason) until the stop file appears and it has seen the
# generation the file names (at most 5 s more: its last request may have gone out before the
# last reload)
my $out = $s->dir . '/client.txt';
my $stop = $s->dir . '/client.stop';
unlink $out, $stop;
my $port = $s->port;
my $client = fork // die "fork: $!";
if ($client == 0) {
    open my $fh, '>', $out or POSIX::_exit(1);
    my ($seen, $want, $deadline) = (0);
    while (1) {
        if (-e $stop) {
            $want //= ((slurp($stop) // '') =~ /^(\d+)/)[0];    # none yet: still being written
            $deadline //= Time::HiRes::time() + 5;
            last if (defined $want && $seen >= $want) || Time::HiRes::time() > $deadline;
        }
        my $t = Time::HiRes::time();
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5);
        my $res = '';
        if ($c) {
            $c->autoflush(1);
            print $c "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
            local $/;
            $c->timeout(5);
            $res = <$c> // '';
            close $c;
        }
        if ($res =~ m{\AHTTP/1\.1 200 .*\r\n\r\ng(\d+)\n\z}s) {
            print $fh "$t $1\n";
            $seen = $1 if $1 > $seen;
        } else {
            my $why = $c ? 'bad response: ' . substr($res, 0, 40) : "connect: $!";
            $why =~ s/\s+/ /g;
            print $fh "$t 0 $why\n";
        }
    }
    close $fh;
    POSIX::_exit(0);
}

wait_for(sub { -s $out }, 5);
my (@lat, @sent, @after);
my $acked = 0;
for my $g (2 .. $Reloads + 1) {
    $s->write_conf(server => server_g($g));
    my $t0 = Time::HiRes::time();
    push @sent, $t0;
    my ($code, $o, $e) = $s->reload(timeout => 30);
    push @lat, Time::HiRes::time() - $t0;
    unless ($code == 0) { diag("reload $g: exit $code: $o$e"); next }
    my $r = http_get($port, '/', timeout => 3);
    $acked++ if ($r->{body} // '') eq "g$g\n";
}
spew($stop, $Reloads + 1);
waitpid($client, 0);

my (@resp, $failed, @fails);
for (split /\n/, slurp($out)) {
    my ($t, $g, $why) = split / /, $_, 3;
    if ($g == 0) { $failed++; push @fails, $why if @fails < 5; next }
    push @resp, [$t, $g];
}
my ($inv, $max) = (0, 0);
my %first;
for (@resp) {
    my ($t, $g) = @$_;
    $inv++ if $g < $max;
    $max = $g if $g > $max;
    $first{$g} //= $t;
}
my @seen = map { defined $first{$_} ? $first{$_} - $sent[$_ - 2] : () } 2 .. $Reloads + 1;

sub ms { sprintf '%.1f', 1000 * $_[0] }
sub med { my @v = sort { $a <=> $b } @_; @v ? $v[$#v / 2] : 0 }
sub mx { my @v = sort { $a <=> $b } @_; @v ? $v[-1] : 0 }
diag(sprintf '%s: %d reloads, %d locations: -s reload median %s ms, max %s ms; '
             . 'new generation first seen by the client after median %s ms, max %s ms; '
             . '%d requests, %d failed, %d inversions',
     proc_name(), $Reloads, $Locations, ms(med(@lat)), ms(mx(@lat)), ms(med(@seen)),
     ms(mx(@seen)), scalar(@resp) + ($failed // 0), $failed // 0, $inv);

ok(@resp > 2 * $Reloads, 'the client made requests through the reloads');
is($max, $Reloads + 1, 'the client saw the last generation');
SKIP: {
    skip 'nginx: numbers only', 3 if $Force;
    is($failed // 0, 0, 'no failed request') or diag(join "\n", @fails);
    is($inv, 0, 'no inversion: the generation seen by fresh connections never goes back');
    is($acked, $Reloads, 'right after -s reload, a new connection gets the new generation');
}
ok($s->stop, 'stopped');
Test::More::done_testing();
