# The TLS records a server sends, for the tests of their sizes (ssl_buffer_size): records(PATH,
# PROTO) runs t/lib/tls_records.py against the test server (TLS 1.2, AES-128-GCM: a record
# carries 24 bytes more than its data) and returns the response's bytes and the records' data
# lengths in order; PROTO: h1 (HTTP/1.0), h11 (HTTP/1.1) or h2. Also max(LIST) and
# runs(LIST), the lengths as "16384x12 8445" (equal neighbours counted), for messages.
package Test::Moongate::TlsRecords;
use strict;
use warnings;
use Test::Moongate;
use Exporter 'import';

our @EXPORT_OK = qw(records max runs);

my $Client = Test::Moongate::repo_root() . '/t/lib/tls_records.py';

sub records {
    my ($path, $proto) = @_;
    # Debian's python3 has python3-h2 (a python3 earlier on PATH may not)
    my $py3 = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    my $port = Test::Moongate::server_port();
    my $out = `timeout 30 $py3 $Client $port '$path' $proto 2>&1`;
    $out =~ /^bytes (\d+) records ([\d ]*)$/m or die "tls_records.py: $out";
    return ($1, map { $_ - 24 } split ' ', $2);
}

sub max { my $m = 0; $_ > $m and $m = $_ for @_; $m }

sub runs {
    my @r;
    for (@_) {
        if (@r && $r[-1][0] == $_) { $r[-1][1]++ } else { push @r, [$_, 1] }
    }
    join ' ', map { $_->[1] > 1 ? "$_->[0]x$_->[1]" : $_->[0] } @r;
}

1;
