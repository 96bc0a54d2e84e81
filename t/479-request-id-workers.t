# $request_id: 32 hex digits, never the same twice, whichever worker answers. moongate takes
# the bytes from a per-process pool filled by getrandom() 512 bytes at a time (32 ids), which
# a fork's child drops; nginx takes them from OpenSSL's RAND_bytes. Two workers behind a
# reuseport listener answer pipelined requests on many connections: each gives more ids than
# one pool fill, and no id repeats within a worker nor between them.
#
#   prove -I t/lib t/479-request-id-workers.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/479-request-id-workers.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;

plan 'no_plan';

my $s = Test::MoongateProc->new(name => 'rid', workers => 2, listen => 'reuseport',
    server => 'location /id { return 200 "$pid $request_id\n"; }');
ok($s->start, 'a master with 2 workers on a reuseport listener starts') or exit;
$s->wait_workers(2);

# 50 pipelined requests a connection, until both workers have answered 100 or more each (the
# kernel spreads reuseport connections by their ports), at most 100 connections
my (%by_pid, @bad, $answers);
for my $conn (1 .. 100) {
    my $req = "GET /id HTTP/1.1\r\nHost: x\r\n\r\n" x 49
        . "GET /id HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    my $r = http_request($s->port, $req, timeout => 10);
    while ($r->{raw} =~ m{\r\n\r\n(\d+) ([^\n]*)\n}g) {
        my ($pid, $id) = ($1, $2);
        $answers++;
        if ($id =~ /^[0-9a-f]{32}\z/) {
            push @{ $by_pid{$pid} }, $id;
        } else {
            push @bad, $id;
        }
    }
    last if keys %by_pid >= 2 && !grep { @{ $by_pid{$_} } < 100 } keys %by_pid;
}
ok($answers >= 200, "$answers answers") or diag(slurp($s->error_log));
is(scalar(@bad), 0, 'every id is 32 hex digits') or diag("@bad[0 .. 4]");
is(scalar(keys %by_pid), 2, 'both workers answered')
    or diag(join ' ', map { "$_: " . @{ $by_pid{$_} } } keys %by_pid);
my %seen;
my @all = map { @$_ } values %by_pid;
$seen{$_}++ for @all;
is(scalar(grep { $seen{$_} > 1 } keys %seen), 0, scalar(@all) . ' ids, none twice');
my ($a, $b) = map { { map { $_ => 1 } @$_ } } values %by_pid;
is(scalar(grep { $b->{$_} } keys %$a), 0, "no id of one worker is the other's");
$s->stop;
