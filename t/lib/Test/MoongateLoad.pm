package Test::MoongateLoad;

# A small HTTP load checker for reload/upgrade tests: client processes send GET requests in a
# loop (keepalive ones reuse their connection until the server says "Connection: close";
# the others open one connection per request) and count every request that does not get a
# complete, valid response: connect errors, resets, EOF before or inside a response, a
# status >= 500, a short body, a timeout.  Loopback only, bounded by the caller.
#
#   my $load = Test::MoongateLoad->start(port => $port, keepalive => 4, close => 2,
#                                        path => '/', host => 'localhost');
#   ... reload, upgrade ...
#   my $r = $load->stop;   # { requests => N, failures => N, errors => ["...", ...],
#                          #   bodies => { "gen A\n" => n, ... } }
#
# t/bench/reload-load.pl drives it by hand against moongate or nginx.

use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);

sub start {
    my ($class, %o) = @_;
    die "port required" unless $o{port};
    my $self = bless {
        port      => $o{port},
        addr      => $o{addr} // '127.0.0.1',
        host      => $o{host} // 'localhost',
        path      => $o{path} // '/',
        keepalive => $o{keepalive} // 4,
        close     => $o{close} // 2,
        timeout   => $o{timeout} // 10,
        pause     => $o{pause} // 0,       # seconds between requests of one client
        dir       => tempdir(CLEANUP => 1),
        kids      => [],
    }, $class;
    my $n = 0;
    for my $ka ((1) x $self->{keepalive}, (0) x $self->{close}) {
        my $file = "$self->{dir}/client." . $n++;
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            $self->_client($ka, $file);
            POSIX::_exit(0);
        }
        push @{ $self->{kids} }, [$pid, $file];
    }
    return $self;
}

# Stop the clients (each finishes its current request) and sum their counts.
sub stop {
    my $self = shift;
    kill 'TERM', $_->[0] for @{ $self->{kids} };
    my %r = (requests => 0, failures => 0, errors => [], bodies => {});
    for my $k (@{ $self->{kids} }) {
        my ($pid, $file) = @$k;
        my $deadline = time + $self->{timeout} + 5;
        while (waitpid($pid, POSIX::WNOHANG()) == 0) {
            if (time > $deadline) { kill 'KILL', $pid; waitpid($pid, 0); last }
            sleep 0.02;
        }
        open my $fh, '<', $file or do {
            $r{failures}++;
            push @{ $r{errors} }, "client $pid left no result";
            next;
        };
        while (my $line = <$fh>) {
            chomp $line;
            if ($line =~ /^requests (\d+)$/) { $r{requests} += $1 }
            elsif ($line =~ /^failures (\d+)$/) { $r{failures} += $1 }
            elsif ($line =~ /^error (.*)$/) { push @{ $r{errors} }, $1 if @{ $r{errors} } < 20 }
            elsif ($line =~ /^body (\d+) (.*)$/) { $r{bodies}{ _unescape($2) } += $1 }
        }
    }
    $self->{kids} = [];
    return \%r;
}

sub _unescape { my $s = shift; $s =~ s/\\n/\n/g; $s =~ s/\\\\/\\/g; $s }
sub _escape { my $s = shift; $s =~ s/\\/\\\\/g; $s =~ s/\n/\\n/g; $s }

sub _client {
    my ($self, $keepalive, $file) = @_;
    my $stop = 0;
    $SIG{TERM} = sub { $stop = 1 };
    my ($requests, $failures, @errors, %bodies) = (0, 0);
    my $sock;
    while (!$stop) {
        if (!$sock) {
            $sock = IO::Socket::INET->new(PeerAddr => $self->{addr}, PeerPort => $self->{port},
                                          Proto => 'tcp', Timeout => $self->{timeout});
            if (!$sock) {
                $requests++;
                $failures++;
                push @errors, "connect: $!" if @errors < 20;
                sleep 0.01;
                next;
            }
        }
        my $req = "GET $self->{path} HTTP/1.1\r\nHost: $self->{host}\r\n"
                . ($keepalive ? '' : "Connection: close\r\n") . "\r\n";
        $requests++;
        my ($ok, $err, $close, $body) = $self->_exchange($sock, $req);
        if (!$ok) {
            $failures++;
            push @errors, ($keepalive ? 'keepalive' : 'close') . ": $err" if @errors < 20;
        } else {
            $bodies{$body}++;
        }
        if (!$ok || $close || !$keepalive) {
            close $sock;
            undef $sock;
        }
        sleep $self->{pause} if $self->{pause};
    }
    open my $fh, '>', "$file.tmp" or POSIX::_exit(1);
    print $fh "requests $requests\nfailures $failures\n";
    print $fh "error $_\n" for @errors;
    print $fh "body $bodies{$_} " . _escape($_) . "\n" for keys %bodies;
    close $fh;
    rename "$file.tmp", $file;
}

# One request/response; returns (ok, error, server_closes, body).
sub _exchange {
    my ($self, $sock, $req) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $req) {
        my $n = syswrite($sock, $req, length($req) - $off, $off);
        return (0, "write: $!") unless defined $n;
        $off += $n;
    }
    my $buf = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + $self->{timeout};
    my ($head_len, $status, $len, $close, $chunked);
    for (;;) {
        if (!defined $head_len && (my $i = index($buf, "\r\n\r\n")) >= 0) {
            $head_len = $i + 4;
            my $head = substr($buf, 0, $i);
            ($status) = $head =~ m{^HTTP/1\.[01] (\d{3})} or return (0, "bad status line");
            $len = $head =~ /^Content-Length:\s*(\d+)/mi ? $1 : undef;
            $chunked = $head =~ /^Transfer-Encoding:\s*chunked/mi;
            $close = $head =~ /^Connection:\s*close/mi || $head =~ m{^HTTP/1\.0};
            return (0, "status $status") if $status >= 500;
        }
        if (defined $head_len) {
            if (defined $len && length($buf) - $head_len >= $len) {
                return (1, undef, $close, substr($buf, $head_len, $len));
            }
            if ($chunked && substr($buf, $head_len) =~ /(?:^|\r\n)0\r\n\r\n\z/) {
                return (1, undef, $close, '(chunked)');
            }
        }
        my $left = $deadline - time;
        return (0, "timeout after " . length($buf) . " bytes") if $left <= 0;
        next unless $sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        return (0, "read: $!" . (length $buf ? ' inside a response' : ' before any response byte'))
            unless defined $n;
        if ($n == 0) {
            return (1, undef, 1, substr($buf, $head_len))
                if defined $head_len && !defined $len && !$chunked && $close;
            return (0, 'EOF ' . (length $buf ? 'inside a response' : 'before any response byte'));
        }
    }
}

1;
