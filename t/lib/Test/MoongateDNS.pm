package Test::MoongateDNS;

# A tiny DNS server for the resolver tests (t/32x): a forked Perl process
# answering UDP queries on a free 127.0.0.1 port, never the real network.
# Its records live in a file it reads again for every query, so a test can
# change them while the server under test runs.
#
#   use Test::MoongateDNS;
#   dns_start(                                  # $TEST_NGINX_DNS_PORT in configs
#       'a.test'   => { a => ['127.0.0.1'], ttl => 30 },
#       'six.test' => { aaaa => ['::1'] },
#       'bad.test' => { rcode => 2 },           # SERVFAIL
#       'slow.test' => { drop => 1 },           # no answer at all (a timeout)
#   );
#   dns_set('a.test' => { a => ['127.0.0.2'] }); # change or add a name
#   dns_queries()      # what it was asked so far: "name TYPE" (A, AAAA, ...)
#   dns_queries_clear()
#
# A name not listed gets NXDOMAIN (rcode 3); a listed name without records of
# the type asked gets an empty NOERROR answer. Names are matched without
# regard to case; the question is sent back as it came.

use strict;
use warnings;

use Socket qw(PF_INET SOCK_DGRAM inet_aton inet_pton AF_INET6 pack_sockaddr_in);
use IO::Select ();
use IO::Handle ();
use POSIX ();
use File::Temp ();
use Test::Moongate ();        # claim_port
use Exporter 'import';

our @EXPORT = qw(dns_start dns_set dns_queries dns_queries_clear dns_stop);

my $MainPid = $$;
my ($Dir, $Pid, $Port, %Zone);

sub _zone_file { "$Dir/zone" }
sub _log_file  { "$Dir/queries" }

sub _write_zone {
    my $tmp = _zone_file() . '.tmp';
    open my $fh, '>', $tmp or die "zone: $!";
    for my $name (sort keys %Zone) {
        my $r = $Zone{$name};
        printf $fh "%s %d %d %d %s %s\n", lc $name, $r->{ttl} // 30, $r->{rcode} // 0,
            $r->{drop} ? 1 : 0, join(',', @{ $r->{a} // [] }) || '-',
            join(',', @{ $r->{aaaa} // [] }) || '-';
    }
    close $fh;
    rename $tmp, _zone_file() or die "zone: $!";
}

sub dns_start {
    my %z = @_;
    die "Test::MoongateDNS: already started\n" if $Pid;
    $Dir = File::Temp::tempdir('moongate-dns-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    %Zone = %z;
    _write_zone();
    open my $fh, '>', _log_file() or die "log: $!";
    close $fh;
    my $sock;
    for my $try (1 .. 100) {
        my $port = 20000 + int(rand(12000));
        next if $Test::Moongate::PortTaken{$port};
        socket($sock, PF_INET, SOCK_DGRAM, 0) or die "socket: $!";
        if (bind($sock, pack_sockaddr_in($port, inet_aton('127.0.0.1')))
            && Test::Moongate::claim_port($port)) {
            $Port = $port;
            last;
        }
    }
    die "Test::MoongateDNS: no free udp port\n" unless $Port;
    $Pid = fork;
    die "fork: $!" unless defined $Pid;
    if ($Pid == 0) {
        eval { _serve($sock) };
        POSIX::_exit(0);
    }
    close $sock;
    $ENV{TEST_NGINX_DNS_PORT} = $Port;
    return $Port;
}

sub dns_set {
    my %z = @_;
    @Zone{ keys %z } = values %z;
    _write_zone();
}

sub dns_queries {
    open my $fh, '<', _log_file() or return ();
    return map { chomp; $_ } <$fh>;
}

sub dns_queries_clear {
    open my $fh, '>', _log_file() or die "log: $!";
    close $fh;
}

sub dns_stop {
    return unless $$ == $MainPid && $Pid;
    kill 'KILL', $Pid;
    waitpid($Pid, 0);
    $Pid = undef;
}

END { local $?; dns_stop() }

# ---------------------------------------------------------------------------
# the server process

my %Types = (1 => 'A', 28 => 'AAAA');

sub _read_zone {
    my %z;
    open my $fh, '<', _zone_file() or return {};
    while (<$fh>) {
        my ($name, $ttl, $rcode, $drop, $a, $aaaa) = split;
        $z{$name} = { ttl => $ttl, rcode => $rcode, drop => $drop,
                      a => [ $a eq '-' ? () : split /,/, $a ],
                      aaaa => [ $aaaa eq '-' ? () : split /,/, $aaaa ] };
    }
    return \%z;
}

sub _answer {
    my ($q) = @_;
    return undef if length $q < 12;
    my ($id, $flags, $qd) = unpack 'n n n', $q;
    return undef if $flags & 0x8000 || $qd != 1;
    # the question: labels, then type and class
    my ($pos, @labels) = (12);
    while (1) {
        return undef if $pos >= length $q;
        my $len = ord substr($q, $pos, 1);
        $pos++;
        last if $len == 0;
        return undef if $len > 63;
        push @labels, substr($q, $pos, $len);
        $pos += $len;
    }
    return undef if $pos + 4 > length $q;
    my ($type, $class) = unpack 'n n', substr($q, $pos, 4);
    my $question = substr($q, 12, $pos + 4 - 12);
    my $name = lc join '.', @labels;
    open my $log, '>>', _log_file();
    if ($log) {
        $log->autoflush(1);
        print $log "$name " . ($Types{$type} // $type) . "\n";
        close $log;
    }
    my $r = _read_zone()->{$name};
    return '' if $r && $r->{drop};
    my $rcode = $r ? $r->{rcode} : 3;
    my @rr;
    if ($r && $rcode == 0) {
        if ($type == 1) {
            push @rr, pack('n n n N n', 0xc00c, 1, 1, $r->{ttl}, 4) . inet_aton($_) for @{ $r->{a} };
        } elsif ($type == 28) {
            push @rr, pack('n n n N n', 0xc00c, 28, 1, $r->{ttl}, 16) . inet_pton(AF_INET6, $_)
                for @{ $r->{aaaa} };
        }
    }
    my $rflags = 0x8080 | ($flags & 0x0100) | $rcode;    # QR, RA, the query's RD
    return pack('n n n n n n', $id, $rflags, 1, scalar @rr, 0, 0) . $question . join('', @rr);
}

sub _serve {
    my $s = shift;
    $0 = 'moongate-test-dns';
    my $sel = IO::Select->new($s);
    while (1) {
        POSIX::_exit(0) if !kill(0, $MainPid) || getppid() != $MainPid;
        next unless $sel->can_read(0.5);
        my $peer = recv($s, my $d, 4096, 0);
        next unless defined $peer;
        my $a = _answer($d);
        send($s, $a, 0, $peer) if defined $a && length $a;
    }
}

1;
