package Test::MoongateGrpc;

# The grpc tests' peers (t/604-t/608, t/621): Debian's python3-grpcio running
# t/lib/grpc_server.py as a Test::MoongateDaemon daemon, and $TEST_NGINX_GRPC_CLIENT, the
# command line of t/lib/grpc_client.py for a block's h2_cmd. Loading it skips the whole file
# when grpcio is missing.
#
#   use Test::MoongateGrpc;
#   grpc_daemon('grpc');                                  # $TEST_NGINX_GRPC_PORT
#   grpc_daemon(grpcs => "$certs/localhost.crt", "$certs/localhost.key");   # over TLS

use strict;
use warnings;
use Test::More ();
use Test::Moongate ();
use Test::MoongateDaemon ();
use Exporter 'import';

our @EXPORT = qw(grpc_daemon);

# Debian's python3 has python3-grpcio (a python3 earlier on PATH may not)
our $Py = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
my $Lib = "$Test::Moongate::RepoRoot/t/lib";

Test::More::plan(skip_all => 'python3-grpcio is not installed (configure --install-deps)')
    if system("$Py -c 'import grpc' 2>/dev/null") != 0;
$ENV{TEST_NGINX_GRPC_CLIENT} = "$Py $Lib/grpc_client.py";

# the test server of grpc_server.py as daemon NAME; @tls: its certificate and key files
sub grpc_daemon {
    my ($name, @tls) = @_;
    return Test::MoongateDaemon::daemon($name => sub { ($Py, "$Lib/grpc_server.py", $_[0], @tls) });
}

1;
