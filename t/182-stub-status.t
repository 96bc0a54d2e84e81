# stub_status (ngx_http_stub_status_module): nginx's exact text, the counters (accepted,
# handled, requests; active, reading, writing and waiting connections) as connections come,
# send heads, wait in requests and idle, the $connections_* variables, GET/HEAD only, the
# optional argument, and the contexts. Counts other clients affect are awaited with a bound
# (the server may see a test's connections in any order).
#
#   prove -I t/lib t/182-stub-status.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/182-stub-status.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();

plan 'no_plan';

our $Status = qr/\AActive connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+) \nReading: (\d+) Writing: (\d+) Waiting: (\d+) \n\z/;

sub connect_one {
    my $s = IO::Socket::INET->new(PeerAddr => $Test::Moongate::ServerAddr,
                                  PeerPort => $Test::Moongate::ServerPort, Timeout => 3);
    return $s || die "connect: $!\n";
}

# One response of Content-Length bytes from a kept-alive connection: the body ('' after 10 s:
# a loaded machine can leave the worker unscheduled for more than a second).
sub request {
    my ($s, $path) = @_;
    syswrite($s, "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my $sel = IO::Select->new($s);
    my $got = '';
    my $deadline = Time::HiRes::time() + 10;
    while ((my $left = $deadline - Time::HiRes::time()) > 0) {
        if ($got =~ /\r\n\r\n/ && $got =~ /Content-Length: (\d+)/i) {
            my $len = $1;
            my $i = index($got, "\r\n\r\n") + 4;
            return substr($got, $i) if length($got) - $i >= $len;
        }
        last unless $sel->can_read($left);
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        $got .= $buf;
    }
    return '';
}

# The numbers of /st on a new connection: (active, accepts, handled, requests, reading,
# writing, waiting).
sub numbers {
    my $s = connect_one();
    my @n = request($s, '/st') =~ $Status;
    close $s;
    return @n;
}

# Wait (10 s at most) until active, reading, writing and waiting read as wanted.
sub await {
    my ($want) = @_;
    my $deadline = Time::HiRes::time() + 10;
    my $got;
    while (Time::HiRes::time() < $deadline) {
        my @n = numbers();
        $got = join ' ', @n[0, 4, 5, 6];
        return $got if $got eq $want;
        Time::HiRes::sleep(0.02);
    }
    return $got;
}

run_tests();

__DATA__

=== TEST 1: nginx's exact text: a single client is active and writing
--- config
    location /st { stub_status; }
--- init
Test::More::is(main::await("1 0 1 0"), "1 0 1 0", "active 1, reading 0, writing 1, waiting 0");
--- request
GET /st
--- response_headers
Content-Type: text/plain
--- response_body_like eval
qr/\AActive connections: \d+ \nserver accepts handled requests\n \d+ \d+ \d+ \nReading: 0 Writing: 1 Waiting: 0 \n\z/



=== TEST 2: on a kept-alive connection each request counts once, the connection once
--- config
    location /st { stub_status; }
--- init
my $s = main::connect_one();
my @a = main::request($s, '/st') =~ $main::Status;
my @b = main::request($s, '/st') =~ $main::Status;
my @c = main::request($s, '/st') =~ $main::Status;
Test::More::is(scalar(@a), 7, "the text is nginx's");
Test::More::is("$b[1] $b[2]", "$a[1] $a[2]", "accepts and handled stay");
Test::More::is($b[3] - $a[3], 1, "requests went up by one");
Test::More::is($c[3] - $b[3], 1, "and by one again");
Test::More::is($a[1], $a[2], "every accepted connection was handled");
my $t = main::connect_one();
my @d = main::request($t, '/st') =~ $main::Status;
Test::More::is($d[1] - $c[1], 1, "a new connection is accepted");
Test::More::is($d[2] - $c[2], 1, "and handled");
close $s;
close $t;
--- request
GET /st
--- response_body_like eval
$main::Status



=== TEST 3: a head being read counts as reading; an idle connection as waiting; one in a request, or closing after it, as writing
--- config
    location /st { stub_status; }
    location /hold { proxy_pass http://127.0.0.1:9; }
--- init
my $partial = main::connect_one();
syswrite($partial, "GET /st HTTP/1.1\r\nHost: loc");
Test::More::is(main::await("2 1 1 0"), "2 1 1 0", "a partial head: reading");
syswrite($partial, "alhost\r\n\r\n");
my $idle = main::connect_one();
Test::More::is(main::await("3 0 1 2"), "3 0 1 2", "its request answered (kept alive) and a silent one: both waiting");
close $partial;
close $idle;
Test::More::is(main::await("1 0 1 0"), "1 0 1 0", "both gone");
my $held = main::connect_one();
syswrite($held, "POST /hold HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n");
Test::More::is(main::await("2 0 2 0"), "2 0 2 0", "a request waiting for its body: writing");
close $held;
Test::More::is(main::await("1 0 1 0"), "1 0 1 0", "gone");
my $lingering = main::connect_one();
syswrite($lingering, "POST /st HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n"
                     . "Connection: close\r\n\r\n" . ("x" x 1000));
Test::More::is(main::await("2 0 2 0"), "2 0 2 0", "answered (405), closing lingering: still writing");
close $lingering;
Test::More::is(main::await("1 0 1 0"), "1 0 1 0", "gone");
--- request
GET /st
--- response_body_like eval
$main::Status



=== TEST 4: the $connections_* variables
--- config
    location /v {
        return 200 "$connections_active $connections_reading $connections_writing $connections_waiting\n";
    }
    location /st { stub_status; }
--- init
main::await("1 0 1 0");
--- request
GET /v
--- response_body
1 0 1 0



=== TEST 5: GET and HEAD only; an argument is accepted (nginx's old "stub_status on")
--- config
    location /st { stub_status on; }
--- request eval
["POST /st\nx=1", "HEAD /st", "DELETE /st"]
--- error_code eval
[405, 200, 405]
--- response_body_like eval
[qr/405 Not Allowed/, qr/\A\z/, qr/405 Not Allowed/]



=== TEST 6: not in http{}
--- http_config
    stub_status;
--- must_die
--- error_log eval
qr/"stub_status" directive is not allowed here in .*:\d+/



=== TEST 7: not inside "if"
--- config
    location /st { if ($arg_x) { stub_status; } }
--- must_die
--- error_log eval
qr/"stub_status" directive is not allowed here in .*:\d+/



=== TEST 8: at most one argument
--- config
    location /st { stub_status on off; }
--- must_die
--- error_log eval
qr/invalid number of arguments in "stub_status" directive in .*:\d+/
