# error_log and access_log to syslog (RFC 3164 datagrams over UDP and a unix socket): the
# header nginx writes (PRI from the facility and the message's level or access_log's
# severity, the time, the host name unless nohostname, the tag), error_log at every level and
# several targets at once, the error_log message's length limit, what is logged when sending
# fails, access_log with if=, and nginx's -t messages for bad parameters.
#
# The test binds a UDP socket ($TEST_NGINX_SYSLOG_PORT) and a unix datagram socket
# ($TEST_NGINX_SYSLOG_SOCK) and reads them once the server has stopped (a local datagram is
# queued when send() returns, so nothing is waited for). A block may have
# "--- syslog eval": { udp => [qr//...], unix => [...] }, each pattern matching a datagram;
# "--- no_syslog eval": the same form, patterns no datagram may match.
# $TEST_NGINX_DEAD_PORT is a UDP port nothing listens on.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/152-syslog.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;
use IO::Socket::UNIX;
use File::Temp ();
use Socket qw(SOCK_DGRAM);
use Time::HiRes ();

plan 'no_plan';

my $udp = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
    or die "udp socket: $!";
$udp->blocking(0);
$ENV{TEST_NGINX_SYSLOG_PORT} = $udp->sockport;

my $dead = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'udp')
    or die "udp socket: $!";
$ENV{TEST_NGINX_DEAD_PORT} = $dead->sockport;
close $dead;

my $dir = File::Temp::tempdir(CLEANUP => 1);
my $sock_path = "$dir/syslog.sock";
my $unix = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $sock_path)
    or die "unix socket: $!";
$unix->blocking(0);
chmod 0777, $dir, $sock_path; # workers may run as another user
$ENV{TEST_NGINX_SYSLOG_SOCK} = $sock_path;

sub drain {
    my $s = shift;
    my @got;
    while (defined(my $from = $s->recv(my $d, 70000))) {
        last unless length $d;
        push @got, $d;
    }
    return @got;
}

# the header both servers write: "<PRI>Mmm dd hh:mm:ss HOST TAG: "
sub hdr {
    my ($pri, $tag, $nohost) = @_;
    my $host = $nohost ? '' : '\S+ ';
    return "^<$pri>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d $host$tag: ";
}
# the error log's own prefix inside the message
our $E = '\d{4}/\d\d/\d\d \d\d:\d\d:\d\d';

sub check_syslog {
    my $block = shift;
    my %got = (udp => [drain($udp)], unix => [drain($unix)]);
    my $name = $block->name;
    if (my $want = $block->syslog) {
        for my $k (sort keys %$want) {
            for my $re (@{ $want->{$k} }) {
                ok((grep { $_ =~ $re } @{ $got{$k} }), "$name - $k datagram matches $re")
                    or diag("$k got:\n" . join("\n", @{ $got{$k} }));
            }
        }
    }
    if (my $not = $block->no_syslog) {
        for my $k (sort keys %$not) {
            for my $re (@{ $not->{$k} }) {
                ok(!(grep { $_ =~ $re } @{ $got{$k} }), "$name - no $k datagram matches $re")
                    or diag("$k got:\n" . join("\n", @{ $got{$k} }));
            }
        }
    }
}

# USR1, and wait (bounded) for the server to say it reopened its logs
sub reopen {
    kill 'USR1', Test::Moongate::read_pid();
    my $deadline = Time::HiRes::time() + 5;
    while (Time::HiRes::time() < $deadline) {
        open my $fh, '<', $ErrLogFile or last;
        return pass("USR1 handled") if grep { /reopening logs/ } <$fh>;
        Time::HiRes::sleep(0.01);
    }
    fail("USR1 handled");
}

add_known_sections(qw(syslog no_syslog));
Test::Moongate::stop_stale_server();
for my $block (blocks()) {
    drain($udp);
    drain($unix);
    local $Test::Moongate::NoClean = 1;
    my $ok = run_test($block);
    Test::Moongate::stop_server();
    check_syslog($block) if $ok && !defined $block->must_die;
}

__DATA__

=== TEST 1: a main-level error_log to syslog: local7, the message's level, "nginx", no newline
--- main_config
    error_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT;
--- request
GET /nofile
--- error_code: 404
--- syslog eval
{ udp => [qr{${\ ::hdr(187, 'nginx')}$::E \[error\] \d+#\d+: \*\d+ open\(\) "[^"]+/html/nofile" failed \(2: No such file or directory\), client: 127\.0\.0\.1, server: localhost, request: "GET /nofile HTTP/1\.1", host: "localhost"\z}] }
--- error_log
open()



=== TEST 2: a location's: facility, tag, nohostname; the server's file does not get its lines
--- config
    error_log logs/srv.log;
    location /a/ {
        error_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT,facility=user,tag=app_1,nohostname;
    }
--- request
GET /a/nofile
--- error_code: 404
--- syslog eval
{ udp => [qr{${\ ::hdr(11, 'app_1', 1)}$::E \[error\] \d+#\d+: \*\d+ open\(\) "[^"]+/html/a/nofile" failed}] }
--- no_error_log
open()



=== TEST 3: several targets at one level: UDP, a unix socket and a file all get the line
--- config
    error_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT,facility=local0;
    error_log syslog:server=unix:$TEST_NGINX_SYSLOG_SOCK,tag=web;
    error_log logs/srv.log;
--- request
GET /nofile
--- error_code: 404
--- syslog eval
{ udp => [qr{${\ ::hdr(131, 'nginx')}.*"GET /nofile HTTP/1\.1"}],
  unix => [qr{${\ ::hdr(187, 'web')}.*"GET /nofile HTTP/1\.1"}] }



=== TEST 4: the http level's, at info: PRI follows each message's level
--- http_config
    error_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT,facility=daemon info;
--- config
    location /a/ { }
--- request
GET /a/nofile
--- more_headers
X_Y: 1
--- error_code: 404
--- syslog eval
{ udp => [qr{${\ ::hdr(30, 'nginx')}$::E \[info\] .*client sent invalid header line: "X_Y: 1"},
          qr{${\ ::hdr(27, 'nginx')}$::E \[error\] .*"GET /a/nofile HTTP/1\.1"}] }



=== TEST 5: a level's threshold: warn drops info and keeps error
--- config
    error_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT warn;
--- request
GET /nofile
--- more_headers
X_Y: 1
--- error_code: 404
--- syslog eval
{ udp => [qr{\[error\] .*"GET /nofile HTTP/1\.1"}] }
--- no_syslog eval
{ udp => [qr{\[info\]}] }



=== TEST 6: a long message is cut at nginx's 2047 bytes after the header
--- config
    error_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT;
--- request eval
"GET /" . ("a" x 3000)
--- error_code: 404
--- syslog eval
{ udp => [qr{${\ ::hdr(187, 'nginx')}(?=.{2047}\z)$::E \[error\] .*open\(\) "[^"]+/html/aaaa}s] }



=== TEST 7: sending fails: a UDP port nobody listens on refuses the next send, logged to the main log
--- config
    location /a/ {
        error_log syslog:server=127.0.0.1:$TEST_NGINX_DEAD_PORT;
    }
--- request eval
["GET /a/1", "GET /a/2", "GET /a/3"]
--- error_code eval
[404, 404, 404]
--- error_log eval
qr/\[error\] \d+#\d+: send\(\) failed \(111: Connection refused\)/



=== TEST 8: a unix socket that does not exist: connect() fails, an alert in the main log
--- config
    location /a/ {
        error_log syslog:server=unix:/nonexistent/syslog.sock;
    }
--- request
GET /a/1
--- error_code: 404
--- error_log eval
qr/\[alert\] \d+#\d+: connect\(\) failed \(2: No such file or directory\)/



=== TEST 9: a server name is resolved at load; the default port is 514 (not listened to here)
--- config
    location /a/ {
        error_log syslog:server=localhost;
    }
--- request
GET /
--- error_code: 200
--- user_files
>>> index.html
hi



=== TEST 10: no server
--- config
    error_log syslog:facility=user;
--- must_die
--- error_log eval
qr/\[emerg\] .*no syslog server specified in \S+:\d+/



=== TEST 11: an unknown parameter
--- config
    error_log syslog:server=127.0.0.1,foo=bar;
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown syslog parameter "foo=bar" in \S+:\d+/



=== TEST 12: an empty parameter (a trailing comma)
--- config
    error_log syslog:server=127.0.0.1,;
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown syslog parameter "" in \S+:\d+/



=== TEST 13: an unknown facility (names are lower case)
--- config
    error_log syslog:server=127.0.0.1,facility=LOCAL7;
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown syslog facility "LOCAL7" in \S+:\d+/



=== TEST 14: an unknown severity
--- config
    error_log syslog:server=127.0.0.1,severity=loud;
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown syslog severity "loud" in \S+:\d+/



=== TEST 15: a tag with other characters than letters, digits and "_"
--- config
    error_log syslog:server=127.0.0.1,tag=a-b;
--- must_die
--- error_log eval
qr/\[emerg\] .*syslog "tag" only allows alphanumeric characters and underscore in \S+:\d+/



=== TEST 16: a tag longer than 32
--- config
    error_log syslog:server=127.0.0.1,tag=abcdefghijabcdefghijabcdefghijabc;
--- must_die
--- error_log eval
qr/\[emerg\] .*syslog tag length exceeds 32 in \S+:\d+/



=== TEST 17: a parameter twice
--- config
    error_log syslog:server=127.0.0.1,facility=user,facility=kern;
--- must_die
--- error_log eval
qr/\[emerg\] .*duplicate syslog "facility" in \S+:\d+/



=== TEST 18: bad server addresses
--- config
    error_log syslog:server=127.0.0.1:0;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid port in syslog server "127\.0\.0\.1:0" in \S+:\d+/



=== TEST 19: an empty server
--- config
    error_log syslog:server=;
--- must_die
--- error_log eval
qr/\[emerg\] .*no host in syslog server "" in \S+:\d+/



=== TEST 20: a unix server without a path
--- config
    error_log syslog:server=unix:;
--- must_die
--- error_log eval
qr/\[emerg\] .*no path in the unix domain socket in syslog server "unix:" in \S+:\d+/



=== TEST 21: a level after a syslog target is checked as for a file
--- config
    error_log syslog:server=127.0.0.1 loud;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid log level "loud" in \S+:\d+/



=== TEST 22: access_log to syslog: local7.info by default, the line without its newline
--- config
    access_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT;
--- request
GET /nofile?a=1
--- error_code: 404
--- syslog eval
{ udp => [qr{${\ ::hdr(190, 'nginx')}127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /nofile\?a=1 HTTP/1\.1" 404 \d+ "-" "-"\z}] }



=== TEST 23: a format, facility, severity, tag, nohostname, over the unix socket, beside a file
--- http_config
    log_format short '$request_method $uri $status';
--- config
    access_log syslog:server=unix:$TEST_NGINX_SYSLOG_SOCK,facility=local3,severity=notice,tag=acc,nohostname short;
    access_log logs/acc.log short;
--- request
GET /nofile
--- error_code: 404
--- syslog eval
{ unix => [qr{${\ ::hdr(157, 'acc', 1)}GET /nofile 404\z}] }



=== TEST 24: if= picks the lines that are sent
--- http_config
    log_format short '$uri';
--- config
    access_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT short if=$arg_log;
--- request eval
["GET /nofile?log=1", "GET /skipped", "GET /zero?log=0"]
--- error_code eval
[404, 404, 404]
--- syslog eval
{ udp => [qr{: /nofile\z}] }
--- no_syslog eval
{ udp => [qr{skipped}, qr{zero}] }



=== TEST 25: a failed send is a warn naming the request, besides the peer's own line
--- config
    access_log syslog:server=unix:/nonexistent/syslog.sock;
--- request
GET /nofile
--- error_code: 404
--- error_log eval
[qr/\[alert\] \d+#\d+: connect\(\) failed \(2: No such file or directory\)/,
 qr/\[warn\] \d+#\d+: \*\d+ send\(\) to syslog failed while logging request, client: 127\.0\.0\.1, server: localhost, request: "GET \/nofile HTTP\/1\.1", host: "localhost"/]



=== TEST 26: error_log and access_log to the same server, in one location
--- config
    location /a/ {
        access_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT,tag=acc;
        error_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT,tag=err;
    }
--- request
GET /a/nofile
--- error_code: 404
--- syslog eval
{ udp => [qr{${\ ::hdr(190, 'acc')}.*"GET /a/nofile HTTP/1\.1" 404}, qr{${\ ::hdr(187, 'err')}.*open\(\)}] }



=== TEST 27: a long line is not cut
--- http_config
    log_format long '$arg_x';
--- config
    access_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT long;
--- request eval
"GET /nofile?x=" . ("b" x 5000)
--- error_code: 404
--- syslog eval
{ udp => [qr{: b{5000}\z}] }



=== TEST 28: syslog logs cannot be buffered
--- config
    access_log syslog:server=127.0.0.1 combined buffer=4k;
--- must_die
--- error_log eval
qr/\[emerg\] .*logs to syslog cannot be buffered in \S+:\d+/



=== TEST 29: flush= needs a buffer
--- config
    access_log syslog:server=127.0.0.1 combined flush=1s;
--- must_die
--- error_log eval
qr/\[emerg\] .*no buffer is defined for access_log "syslog:server=127\.0\.0\.1" in \S+:\d+/



=== TEST 30: the syslog parameters are checked before the format
--- config
    access_log syslog:server=127.0.0.1,severity=loud nosuchformat;
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown syslog severity "loud" in \S+:\d+/



=== TEST 31: USR1 leaves syslog targets working
--- config
    access_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT;
    error_log syslog:server=127.0.0.1:$TEST_NGINX_SYSLOG_PORT;
--- init
::reopen();
--- request eval
["GET /", "GET /nofile"]
--- error_code eval
[200, 404]
--- user_files
>>> index.html
hi
--- syslog eval
{ udp => [qr{"GET / HTTP/1\.1" 200}, qr{"GET /nofile HTTP/1\.1" 404}, qr{\[error\] .*open\(\)}] }
