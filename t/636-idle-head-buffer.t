# An idle HTTP/1.1 keepalive connection holds no head buffer: when it waits for its next request
# with nothing buffered, the buffer and the field list go back to the worker (nginx frees its
# header buffer then), and the next read takes one again. What must still hold across that:
# keepalive after the connection was idle ($connection_requests, $request_length), pipelined
# requests (bytes of the next request in the buffer keep it, also half a head), a head larger than
# client_header_buffer_size after an idle period (a large buffer, then back to a small one), a
# head of more lines than the field list first holds, the too-large answer; and what an idle connection costs: the worker's VmRSS growth for 500 idle
# keepalive connections, each after one request, stays under 0.81 KiB a connection (moongate was
# at 3.9 KiB with its head buffer, 1.7 with mg_connection_t's 1136 bytes, 1.39 with its 824,
# 1.28 with its 712, 1.06 with its 568 in its pool's first block, the client's address there
# too, 1.05-1.10 with mg_http_conn_t's 272 bytes there (280 before), 0.93 with mg_connection_t's
# 552, mg_http_conn_t's 224 and the block sized for an IPv4 port without h2, 912 bytes, 0.88
# with mg_http_conn_t's 176 (the writer's hold and the head's end in the request, the lingering
# times in the chunked parser's room, the port not kept), an 864-byte block, 0.85 with
# mg_connection_t's 536 (its log's copy 80 bytes, an h2 stream's two hooks in one pointer) and
# mg_http_conn_t's 160 (the writer's queue in the request), an 832-byte block, 0.82 with the
# client's IPv4 address and text in 32 bytes and mg_http_conn_t's 144 (the SNI name in the
# TLS state), an 800-byte block (0.85 before), 0.80 with its cleanup, the block's last
# allocation, counted as its 24 bytes, not 32: a 792-byte block, an 800-byte malloc chunk, not
# 816 (0.816 before, 500 connections: 408 KiB, 400 since); nginx 0.5, its
# connection structs allocated at start). t/880 does it after file responses, t/630
# does HTTPS and h2c. "Idle" is observed, not waited for: the one worker has
# gone to sleep (its /proc state S) after the response was read.
#
#   prove -I t/lib t/636-idle-head-buffer.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/636-idle-head-buffer.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::MoongateRaw qw(tcp_connect send_all read_responses);

my $Idle = 500;
my $MaxKiB = 0.81;

my $s = Test::MoongateProc->new(name => 'idle', workers => 1,
    http => "    client_header_buffer_size 1k;\n    large_client_header_buffers 4 8k;\n"
          . "    keepalive_requests 10000;\n",
    server => qq{        location / { return 200 "\$connection_requests \$request_length \$http_x_big\\n"; }\n});
# room for the idle connections: 1024 worker_connections (the helper writes 512)
$s->write_conf(text => $s->conf_text =~ s/worker_connections 512;/worker_connections 1024;/r);
ok($s->start, 'the server starts') or stop_here();
my ($w) = $s->wait_workers(1);
ok($w, 'one worker') or stop_here();

sub asleep { (slurp("/proc/$w/stat") =~ /\)\s+(\S)/)[0] eq 'S' }
sub idle { ok(wait_for(\&asleep, 5), "the worker waits ($_[0])") }

sub conn { tcp_connect($s->port) }

sub req {
    my ($path, $extra) = @_;
    return "GET $path HTTP/1.1\r\nHost: localhost\r\n" . ($extra // '') . "\r\n";
}

# 1. keepalive after idle: the second request on the connection, after the worker waited
{
    my $c = conn();
    my $r1 = req('/a');
    send_all($c, $r1);
    my @r = read_responses($c, 1);
    is_deeply(\@r, [[200, "1 " . length($r1) . " \n"]], 'first request');
    idle('after the first response');
    my $r2 = req('/bb', "X-Other: yes\r\n");
    send_all($c, $r2);
    @r = read_responses($c, 1);
    is_deeply(\@r, [[200, "2 " . length($r2) . " \n"]],
              'the next request after idle: $connection_requests and $request_length');
}

# 2. pipelined: whole heads in one write, then one and a half heads with the rest after the
#    worker answered the first and went to wait (the half head keeps its buffer)
{
    my $c = conn();
    my ($a, $b, $d) = (req('/1'), req('/2', "X-Big: two\r\n"), req('/3', "X-Big: three\r\n"));
    send_all($c, $a . $b . $d);
    my @r = read_responses($c, 3);
    is_deeply(\@r, [[200, "1 " . length($a) . " \n"], [200, "2 " . length($b) . " two\n"],
                    [200, "3 " . length($d) . " three\n"]], 'three pipelined requests');
    idle('after the pipelined ones');
    my $half = int(length($b) / 2);
    send_all($c, $a . substr($b, 0, $half));
    @r = read_responses($c, 1);
    is_deeply(\@r, [[200, "4 " . length($a) . " \n"]], 'a request with half of the next');
    idle('with half a head buffered');
    send_all($c, substr($b, $half));
    @r = read_responses($c, 1);
    is_deeply(\@r, [[200, "5 " . length($b) . " two\n"]], 'the rest of the pipelined head');
}

# 3. a head over client_header_buffer_size after idle, a small one after it, then one with a line
#    over the large buffer
{
    my $c = conn();
    send_all($c, req('/s'));
    my @r = read_responses($c, 1);
    is($r[0][0], 200, 'small head first');
    idle('before the large head');
    my $big = 'b' x 3000;
    my $large = req('/l', "X-Big: $big\r\n");
    send_all($c, $large);
    @r = read_responses($c, 1);
    is_deeply(\@r, [[200, "2 " . length($large) . " $big\n"]], 'a 3 KB head after idle');
    idle('after the large head');
    my $small = req('/s2', "X-Big: small\r\n");
    send_all($c, $small);
    @r = read_responses($c, 1);
    is_deeply(\@r, [[200, "3 " . length($small) . " small\n"]], 'a small head after it');
    idle('before many header lines');
    my $many = req('/m', join('', map { "X-F$_: $_\r\n" } 1 .. 100) . "X-Big: last\r\n");
    send_all($c, $many);
    @r = read_responses($c, 1);
    is_deeply(\@r, [[200, "4 " . length($many) . " last\n"]], '101 header lines after idle');
    idle('after many header lines');
    send_all($c, $small);
    @r = read_responses($c, 1);
    is_deeply(\@r, [[200, "5 " . length($small) . " small\n"]], 'a small head after them');
    idle('before the too large head');
    send_all($c, req('/t', "X-Big: " . ('t' x 9000) . "\r\n"));
    @r = read_responses($c, 1);
    is($r[0][0], 400, 'a header line over the large buffer: 400');
}

# 4. what idle connections cost: VmRSS of the worker before and after $Idle of them
SKIP: {
    skip 'memory is not measured under a sanitizer', 2 if $ENV{ASAN_OPTIONS};
    # dies when unread: undef on both sides would make the cost 0 KiB, under any bound
    sub rss {
        my ($kb) = slurp("/proc/$w/status") =~ /^VmRSS:\s+(\d+)/m;
        return $kb // die "rss: no VmRSS for pid '$w'\n";
    }
    my $warm = conn();
    send_all($warm, req('/w'));
    read_responses($warm, 1);
    close $warm;
    idle('before the idle connections');
    my $before = rss();
    my @held;
    for my $i (1 .. $Idle) {
        my $c = conn();
        send_all($c, req('/i'));
        my @r = read_responses($c, 1);
        last unless @r && $r[0][0] == 200;
        push @held, $c;
    }
    is(scalar @held, $Idle, "$Idle keepalive connections answered");
    idle('with the idle connections');
    my $per = (rss() - $before) / $Idle;
    diag(sprintf "%s: %.2f KiB of VmRSS per idle keepalive connection", proc_name(), $per);
    cmp_ok($per, '<', $MaxKiB, "an idle keepalive connection costs the worker under $MaxKiB KiB");
    close $_ for @held;
}

$s->stop;
Test::More::done_testing();
