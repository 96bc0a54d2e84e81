# How files and output reach the socket (ngx_http_core_module): output_buffers (the pieces a
# file is read in with sendfile off), sendfile_max_chunk, postpone_output (the writer waits
# for that many bytes, but at a flush or the end; Lua's ngx.say gathers up to it), and a
# proxied response whose buffers all hold less than postpone_output (it must still flow).
# Every file is checked byte for byte, ranges across pieces included.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/127-file-io.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

plan 'no_plan';

backend(drip => 'drip', count => 16, interval => 0.03);

# 300,006 bytes: lines of their own offset, so a misplaced piece shows
our $Big = join('', map { sprintf "%09d\n", $_ * 10 } 0 .. 29999) . "tail\n\n";

# seconds from the request to the first body byte, and to the end, for a raw request
sub timed_body {
    my $req = shift;
    my $s = client_connect();
    client_send($s, $req);
    my $got = client_timed($s, 5);
    my $raw = '';
    my $first;
    for my $p (@$got) {
        $raw .= $p->[1];
        my $h = index($raw, "\r\n\r\n");
        $first //= $p->[0] if $h >= 0 && length($raw) > $h + 4;
    }
    return ($first, @$got ? $got->[-1][0] : undef, $raw);
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('user_files', ">>> big\n$Big" . ($b->user_files // '')) unless $b->must_die;
});

run_tests();

__DATA__

=== TEST 1: output_buffers 1 1k: a file read in 1 KiB pieces (sendfile off) is whole
--- config
    location / { sendfile off; output_buffers 1 1k; }
--- request
GET /big
--- response_headers
Content-Length: 300006
--- response_body eval
$main::Big



=== TEST 2: output_buffers 3 4k, ranges across pieces
--- config
    location / { output_buffers 3 4k; }
--- request eval
["GET /big", "GET /big"]
--- more_headers eval
["Range: bytes=4090-12300", "Range: bytes=-5"]
--- error_code eval
[206, 206]
--- response_body eval
[substr($main::Big, 4090, 8211), "ail\n\n"]



=== TEST 3: output_buffers 2 1k, a multipart answer
--- config
    location / { output_buffers 2 1k; }
--- request
GET /big
--- more_headers
Range: bytes=1-3,299990-299999
--- error_code: 206
--- response_body_like eval
qr/\A\r\n--(\d+)\r\nContent-Type: text\/plain\r\nContent-Range: bytes 1-3\/300006\r\n\r\n000\r\n--\1\r\nContent-Type: text\/plain\r\nContent-Range: bytes 299990-299999\/300006\r\n\r\n000299990\n\r\n--\1--\r\n\z/



=== TEST 4: sendfile on with sendfile_max_chunk 8k: the whole file, in many sendfile calls
--- config
    location / { sendfile on; sendfile_max_chunk 8k; }
--- request
GET /big
--- response_body eval
$main::Big



=== TEST 5: sendfile_max_chunk 0 (no bound) and tcp_nopush
--- config
    location / { sendfile on; tcp_nopush on; sendfile_max_chunk 0; }
--- request
GET /big
--- response_body eval
$main::Big



=== TEST 6: postpone_output 0: a small piece leaves at once (before the code sleeps)
--- config
    location /t {
        postpone_output 0;
        content_by_lua_block { ngx.print("first ") ngx.sleep(1.5) ngx.say("last") }
    }
--- init
my ($first, $end, $raw) = main::timed_body("GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
# measured from the last bytes, not from the request: a worker slow to start the handler under
# load does not count, only whether the piece waited for the 1.5 s sleep
Test::More::ok(defined $first && $end - $first > 0.7,
    'postpone_output 0: the first bytes come before the sleep ends ('
    . (defined $first ? sprintf('%.2f s before the last', $end - $first) : 'never') . ')');
Test::More::like($raw, qr/\r\n\r\n6\r\nfirst \r\n5\r\nlast\n\r\n0\r\n\r\n\z/, 'postpone_output 0: the whole body');
--- request
GET /t
--- response_body
first last



=== TEST 7: the default postpone_output (1460) holds the head and the small piece until the end
--- config
    location /t {
        content_by_lua_block { ngx.print("first ") ngx.sleep(1.5) ngx.say("last") }
    }
--- init
my ($first, $end, $raw) = main::timed_body("GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
Test::More::ok(defined $first && $first >= 1.2,
    'postpone_output 1460: nothing before the sleep ends (' . ($first // 'never') . ')');
Test::More::like($raw, qr/\r\n\r\n(?:6\r\nfirst \r\n5\r\nlast\n|b\r\nfirst last\n)\r\n0\r\n\r\n\z/, 'postpone_output 1460: the whole body');
--- request
GET /t
--- response_body
first last



=== TEST 8: ngx.flush sends what is held, whatever postpone_output
--- config
    location /t {
        postpone_output 64k;
        content_by_lua_block { ngx.print("first ") ngx.flush() ngx.sleep(1.5) ngx.say("last") }
    }
--- init
my ($first, $end, $raw) = main::timed_body("GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
Test::More::ok(defined $first && $end - $first > 0.7,
    'a flush: the first bytes come before the sleep ends ('
    . (defined $first ? sprintf('%.2f s before the last', $end - $first) : 'never') . ')');
--- request
GET /t
--- response_body
first last



=== TEST 9: a dribbling upstream with two 1k proxy buffers: every byte held back by
postpone_output is written once the buffers are all taken, so reading goes on
--- config
    location /t {
        proxy_buffers 2 1k;
        proxy_buffer_size 1k;
        proxy_busy_buffers_size 1k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT;
    }
--- request
GET /t
--- response_body: abcdefghijklmnop
--- timeout: 10



=== TEST 10: bad values
--- config
    location / { postpone_output 1g; }
--- must_die
--- error_log eval
qr/"postpone_output" directive invalid value in \S+:\d+/



=== TEST 11: output_buffers wants a number and a size
--- config
    location / { output_buffers 2; }
--- must_die
--- error_log eval
qr/invalid number of arguments in "output_buffers" directive in \S+:\d+/



=== TEST 12: output_buffers 0 32k
--- config
    location / { output_buffers 0 32k; }
--- must_die
--- error_log eval
qr/"output_buffers" directive invalid value in \S+:\d+/



=== TEST 13: sendfile_max_chunk twice
--- config
    location / { sendfile_max_chunk 1m; sendfile_max_chunk 2m; }
--- must_die
--- error_log eval
qr/"sendfile_max_chunk" directive is duplicate in \S+:\d+/
