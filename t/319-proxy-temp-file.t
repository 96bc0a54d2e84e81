# A proxied response buffered to a temporary file (ngx_http_proxy_module): with
# proxy_buffering on, a client slower than its upstream gets the rest of the response from a
# file under proxy_temp_path (levels), which the server holds open while it sends it (out of
# the directory already, as nginx) and closes after; the [warn] line; proxy_max_temp_file_size
# (0: never, else the file's bound: reading waits for the client), proxy_busy_buffers_size and
# proxy_temp_file_write_size with nginx's configuration checks; the upstream's
# X-Accel-Buffering switching buffering per response unless proxy_ignore_headers names it (and
# hidden from the client); aio_write (the file written by threads).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/319-proxy-temp-file.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF inet_aton pack_sockaddr_in);
use Digest::MD5 ();
use Time::HiRes ();

plan 'no_plan';

our $Size = 20_000_000;
backend(big => 'echo', size => $Size);
our $BigMd5 = Digest::MD5::md5_hex(pattern($Size));
our $Temp = "$Test::Moongate::ServRoot/ptemp";

# the server's descriptors open on files under the temp path: [[fd, target, size], ...]
sub temp_fds {
    my $pid = Test::Moongate::read_pid() or return ();
    opendir my $d, "/proc/$pid/fd" or return ();
    my @r;
    for my $fd (grep { /^\d+$/ } readdir $d) {
        my $t = readlink("/proc/$pid/fd/$fd") // next;
        push @r, [$fd, $t, -s "/proc/$pid/fd/$fd"] if index($t, "$Temp/") == 0;
    }
    return @r;
}

# the server's RSS; dies when it cannot be read: a 0 here would make every "memory bounded"
# check compare 0 with 0
sub rss_kb {
    my $pid = Test::Moongate::read_pid() or die "rss_kb: no pid in the pid file\n";
    open my $f, '<', "/proc/$pid/status" or die "rss_kb: /proc/$pid/status: $!\n";
    while (my $l = <$f>) { return $1 if $l =~ /^VmRSS:\s+(\d+)/ }
    die "rss_kb: no VmRSS for $pid\n";
}

sub files_under {
    my @f;
    my @dirs = ($Temp);
    while (my $d = shift @dirs) {
        opendir my $h, $d or next;
        for (grep { !/^\.\.?$/ } readdir $h) {
            -d "$d/$_" ? push(@dirs, "$d/$_") : push(@f, "$d/$_");
        }
    }
    return @f;
}

# A client with a small receive window that reads nothing until $pause seconds passed (none:
# only until the file expected is there), and what it saw meanwhile: (body md5, body length,
# temp descriptors seen, largest temp file seen, RSS growth in KB, response head).
sub slow_fetch {
    my (%o) = @_;
    my $base = rss_kb();
    socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096);
    connect($s, pack_sockaddr_in($Test::Moongate::ServerPort, inet_aton('127.0.0.1')))
        or die "connect: $!";
    my $req = "GET $o{uri} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            . join('', map { "$_\r\n" } @{$o{headers} || []}) . "\r\n";
    syswrite($s, $req);
    my (@seen, $max, $grow) = ();
    $max = 0;
    $grow = 0;
    # watch for $pause seconds (a temp file shows early: the upstream is fast), and when a file
    # is expected (file => 1), up to 20 s more until one was seen (a loaded machine),
    # and one of more than file_over bytes if given (the writes may lag; nothing is read yet)
    my $until = Time::HiRes::time() + ($o{pause} // 0);
    my $last = $until + 20;
    my $want = sub { !@seen || (defined $o{file_over} && $max <= $o{file_over}) };
    while (Time::HiRes::time() < $until
           || ($o{file} && $want->() && Time::HiRes::time() < $last)) {
        my @t = temp_fds();
        push @seen, @t;
        $max = $_->[2] > $max ? $_->[2] : $max for @t;
        my $g = rss_kb() - $base;
        $grow = $g if $g > $grow;
        Time::HiRes::sleep(0.05);
    }
    # then read it all, with room to read it fast (the window is small only while watching:
    # 4 KB at a time would be 5000 of the server's wake-ups)
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 1 << 20);
    my ($raw, $n) = ("", 0);
    while (($n = sysread($s, my $buf, 1 << 20)) > 0) { $raw .= $buf }
    close $s;
    my $h = index($raw, "\r\n\r\n");
    my $head = substr($raw, 0, $h + 4);
    my $body = substr($raw, $h + 4);
    return (Digest::MD5::md5_hex($body), length($body), \@seen, $max, $grow, $head);
}

# the descriptor closed and nothing left in the directory, within 5 s
sub temp_gone {
    for (1 .. 100) {
        return 1 if !temp_fds() && !files_under();
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

add_block_preprocessor(sub {
    my $b = shift;
    return if $b->must_die;
    $b->set_value('config', "    proxy_temp_path $Temp 1 2;\n" . $b->config);
});

run_tests();

__DATA__

=== TEST 1: a slow client: the rest of a 20 MB response goes to a temporary file with levels,
held open while it is sent, closed after; the body intact; memory bounded
--- config
    location /t {
        proxy_buffers 4 8k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- init
my ($md5, $len, $seen, $max, $grow) = main::slow_fetch(uri => '/t', file => 1, pause => 1.5,
    file_over => 1_000_000);
Test::More::is("$md5 $len", "$main::BigMd5 $main::Size", 'the body, byte for byte');
Test::More::ok(scalar(@$seen), 'a descriptor on a file under proxy_temp_path while served');
Test::More::like($seen->[0][1] // '', qr{/ptemp/\d/\d\d/\d{10}(?: \(deleted\))?\z},
    'named PATH/L1/L2/NUMBER (' . ($seen->[0][1] // 'none') . ')');
Test::More::ok($max > 1_000_000, "the file took the response's bulk ($max bytes)");
Test::More::ok($grow < 8192, "memory bounded: RSS grew $grow KB for a 20 MB response");
Test::More::ok(main::temp_gone(), 'closed after, nothing left in the directory');
--- request
GET /t
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 20000000
--- error_log eval
qr{\[warn\] .*an upstream response is buffered to a temporary file \S+/ptemp/\d/\d\d/\d{10} while reading upstream, client: 127\.0\.0\.1, server: \S*, request: "GET /t HTTP/1\.1", upstream: "http://127\.0\.0\.1:\d+/"}
--- timeout: 20



=== TEST 2: proxy_max_temp_file_size 0: no temporary file; the upstream is read as the client
drains (memory bounded), the body intact
--- config
    location /t {
        proxy_buffers 4 8k;
        proxy_max_temp_file_size 0;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- init
my ($md5, $len, $seen, $max, $grow) = main::slow_fetch(uri => '/t', pause => 1);
Test::More::is("$md5 $len", "$main::BigMd5 $main::Size", 'the body, byte for byte');
Test::More::is(scalar(@$seen), 0, 'no temporary file');
Test::More::ok($grow < 8192, "memory bounded: RSS grew $grow KB");
--- request
GET /t
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 20000000
--- no_error_log
buffered to a temporary file
--- timeout: 20



=== TEST 3: proxy_max_temp_file_size 64k bounds the file; then reading waits for the client
--- config
    location /t {
        proxy_buffers 4 8k;
        proxy_max_temp_file_size 64k;
        proxy_temp_file_write_size 16k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- init
my ($md5, $len, $seen, $max) = main::slow_fetch(uri => '/t', file => 1, pause => 1);
Test::More::is("$md5 $len", "$main::BigMd5 $main::Size", 'the body, byte for byte');
Test::More::ok(scalar(@$seen), 'a temporary file');
Test::More::ok($max > 0 && $max <= 65536, "at most 64k in it ($max)");
Test::More::ok(main::temp_gone(), 'closed after, nothing left in the directory');
--- request
GET /t
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 20000000
--- timeout: 20



=== TEST 4: proxy_buffering off: no temporary file for a slow client
--- config
    location /t {
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- init
my ($md5, $len, $seen, $max, $grow) = main::slow_fetch(uri => '/t', pause => 1);
Test::More::is("$md5 $len", "$main::BigMd5 $main::Size", 'the body, byte for byte');
Test::More::is(scalar(@$seen), 0, 'no temporary file');
Test::More::ok($grow < 8192, "memory bounded: RSS grew $grow KB");
--- request
GET /t
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 20000000
--- no_error_log
buffered to a temporary file
--- timeout: 20



=== TEST 5: the upstream's "X-Accel-Buffering: no" turns buffering off for its response (no
temporary file), and the client does not see the header
--- config
    location /t {
        proxy_buffers 4 8k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- init
my ($md5, $len, $seen, $max, $grow, $head) = main::slow_fetch(uri => '/t', pause => 1,
    headers => ['X-Echo-Header: X-Accel-Buffering: no']);
Test::More::is("$md5 $len", "$main::BigMd5 $main::Size", 'the body, byte for byte');
Test::More::is(scalar(@$seen), 0, 'no temporary file');
Test::More::unlike($head, qr/X-Accel/i, 'X-Accel-Buffering hidden');
--- request
GET /t
--- more_headers
X-Echo-Header: X-Accel-Buffering: no
--- response_headers
!X-Accel-Buffering
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 20000000
--- no_error_log
buffered to a temporary file
--- timeout: 20



=== TEST 6: "X-Accel-Buffering: yes" (any case) turns buffering on under proxy_buffering off
--- config
    location /t {
        proxy_buffering off;
        proxy_buffers 4 8k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- init
my ($md5, $len, $seen) = main::slow_fetch(uri => '/t', file => 1,
    headers => ['X-Echo-Header: X-Accel-Buffering: YES']);
Test::More::is("$md5 $len", "$main::BigMd5 $main::Size", 'the body, byte for byte');
Test::More::ok(scalar(@$seen), 'a temporary file');
Test::More::ok(main::temp_gone(), 'closed after, nothing left in the directory');
--- request
GET /t
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 20000000
--- error_log
an upstream response is buffered to a temporary file
--- timeout: 20



=== TEST 6a: proxy_ignore_headers X-Accel-Buffering: the upstream's "no" is not acted on
(buffered: the temporary file), and still hidden from the client
--- config
    location /t {
        proxy_buffers 4 8k;
        proxy_ignore_headers X-Accel-Buffering;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- init
my ($md5, $len, $seen, $max, $grow, $head) = main::slow_fetch(uri => '/t', file => 1,
    headers => ['X-Echo-Header: X-Accel-Buffering: no']);
Test::More::is("$md5 $len", "$main::BigMd5 $main::Size", 'the body, byte for byte');
Test::More::ok(scalar(@$seen), 'a temporary file');
Test::More::unlike($head, qr/X-Accel/i, 'X-Accel-Buffering hidden');
Test::More::ok(main::temp_gone(), 'closed after, nothing left in the directory');
--- request
GET /t
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 20000000
--- error_log
an upstream response is buffered to a temporary file
--- timeout: 20



=== TEST 7: a fast client of a small response: no temporary file
--- config
    location /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- request
GET /t
--- more_headers
X-Echo-Size: 30000
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 30000
--- no_error_log
buffered to a temporary file



=== TEST 8: proxy_busy_buffers_size below a buffer
--- config
    location / { proxy_pass http://127.0.0.1:1; proxy_busy_buffers_size 1k; }
--- must_die
--- error_log eval
qr/"proxy_busy_buffers_size" must be equal to or greater than the maximum of the value of "proxy_buffer_size" and one of the "proxy_buffers" in \S+:\d+/



=== TEST 9: proxy_busy_buffers_size above all buffers but one
--- config
    location / { proxy_pass http://127.0.0.1:1; proxy_buffers 4 8k; proxy_busy_buffers_size 32k; }
--- must_die
--- error_log eval
qr/"proxy_busy_buffers_size" must be less than the size of all "proxy_buffers" minus one buffer in \S+:\d+/



=== TEST 10: proxy_busy_buffers_size of all buffers but one is accepted
--- config
    location /t { proxy_buffers 4 8k; proxy_busy_buffers_size 24k; proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/; }
--- request
GET /t
--- more_headers
X-Echo-Size: 100
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 100



=== TEST 11: proxy_temp_file_write_size below a buffer
--- config
    location / { proxy_pass http://127.0.0.1:1; proxy_temp_file_write_size 1k; }
--- must_die
--- error_log eval
qr/"proxy_temp_file_write_size" must be equal to or greater than the maximum of the value of "proxy_buffer_size" and one of the "proxy_buffers" in \S+:\d+/



=== TEST 12: proxy_max_temp_file_size neither 0 nor a buffer
--- config
    location / { proxy_pass http://127.0.0.1:1; proxy_max_temp_file_size 1k; }
--- must_die
--- error_log eval
qr/"proxy_max_temp_file_size" must be equal to zero to disable temporary files usage or must be equal to or greater than the maximum of the value of "proxy_buffer_size" and one of the "proxy_buffers" in \S+:\d+/



=== TEST 13: one proxy buffer
--- config
    location / { proxy_pass http://127.0.0.1:1; proxy_buffers 1 8k; }
--- must_die
--- error_log eval
qr/there must be at least 2 "proxy_buffers" in \S+:\d+/



=== TEST 14: bad sizes and argument counts
--- config
    location / { proxy_pass http://127.0.0.1:1; proxy_max_temp_file_size abc; }
--- must_die
--- error_log eval
qr/"proxy_max_temp_file_size" directive invalid value in \S+:\d+/



=== TEST 15: proxy_busy_buffers_size takes one size
--- config
    location / { proxy_pass http://127.0.0.1:1; proxy_busy_buffers_size 8k 16k; }
--- must_die
--- error_log eval
qr/invalid number of arguments in "proxy_busy_buffers_size" directive in \S+:\d+/



=== TEST 16: aio threads with aio_write on: the temporary file written in threads, the body intact
--- config
    location /t {
        aio threads;
        aio_write on;
        proxy_buffers 4 8k;
        proxy_temp_file_write_size 32k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT/;
    }
--- init
my ($md5, $len, $seen, $max, $grow) = main::slow_fetch(uri => '/t', file => 1,
    file_over => 1_000_000);
Test::More::is("$md5 $len", "$main::BigMd5 $main::Size", 'the body, byte for byte');
Test::More::ok($max > 1_000_000, "the file took the response's bulk ($max bytes)");
Test::More::ok(main::temp_gone(), 'closed after, nothing left in the directory');
--- request
GET /t
--- response_body_filters eval
sub { length $_[0] }
--- response_body: 20000000
--- error_log
an upstream response is buffered to a temporary file
--- timeout: 20



=== TEST 17: aio_write is on or off
--- config
    location / { aio_write yes; }
--- must_die
--- error_log eval
qr/invalid value "yes" in "aio_write" directive, it must be "on" or "off" in \S+:\d+/
