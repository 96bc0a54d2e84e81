# thread_pool, aio threads[=pool] and directio (ngx_http_core_module, ngx_core_module): file
# pieces read in a pool's threads (sendfile off), read ahead in them before sendfile (on), and
# read with O_DIRECT at aligned offsets (directio, directio_alignment); every response checked
# byte for byte, ranges at unaligned offsets included; the pool's threads in /proc; a pool
# named by a variable; nginx's errors. "aio on" needs Linux AIO built into nginx, which
# Debian's lacks: moongate reads in the default pool's threads then (moongate_only).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/129-aio-threads.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;

plan 'no_plan';

# 3,000,001 bytes: lines of their own offset, so a misplaced piece shows
our $Big = join('', map { sprintf "%011d\n", $_ * 12 } 0 .. 249999) . "!";

sub threads {
    my $pid = Test::Moongate::read_pid();
    opendir my $d, "/proc/$pid/task" or return -1;
    return scalar grep { /^\d+$/ } readdir $d;
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('user_files', ">>> big\n$Big") unless $b->must_die || $b->user_files;
});

run_tests();

__DATA__

=== TEST 1: aio threads, sendfile off: the whole file, and a range
--- config
    location / { aio threads; output_buffers 2 64k; }
--- request eval
["GET /big", "GET /big"]
--- more_headers eval
["", "Range: bytes=100003-2000000"]
--- error_code eval
[200, 206]
--- response_body eval
[$main::Big, substr($main::Big, 100003, 1899998)]
--- timeout: 10



=== TEST 2: aio threads with sendfile on (read ahead in a thread, then sendfile)
--- config
    location / { aio threads; sendfile on; sendfile_max_chunk 256k; }
--- request eval
["GET /big", "GET /big"]
--- more_headers eval
["", "Range: bytes=7-999999"]
--- error_code eval
[200, 206]
--- response_body eval
[$main::Big, substr($main::Big, 7, 999993)]
--- timeout: 10



=== TEST 3: a pool of its own: its threads read, and are there
--- main_config
    thread_pool io threads=3 max_queue=16;
--- config
    location / { aio threads=io; }
--- init
# a request starts them where they are started lazily
my $s = IO::Socket::INET->new("127.0.0.1:$Test::Moongate::ServerPort") or die;
print $s "GET /big HTTP/1.0\r\n\r\n";
local $/;
my $got = <$s>;
Test::More::ok(length($got) > 3_000_001, 'the file came');
Test::More::is(main::threads(), 4, 'the loop and the pool\'s three threads');
--- request
GET /big
--- response_body eval
$main::Big
--- timeout: 10



=== TEST 4: the pool from a variable
--- main_config
    thread_pool io threads=2;
--- config
    location / { aio threads=$arg_pool; }
--- request
GET /big?pool=io
--- response_body eval
$main::Big
--- timeout: 10



=== TEST 5: a variable naming a pool no thread_pool defines: nginx's line, no response
--- main_config
    thread_pool io threads=2;
--- config
    location / { aio threads=$arg_pool; }
--- request
GET /big?pool=nope
--- ignore_response
--- error_log eval
qr/\[error\] .*thread pool "nope" not found/



=== TEST 6: directio 4k: read with O_DIRECT in aligned pieces, the unaligned start and end of
a range included
--- config
    location / { directio 4k; output_buffers 1 16k; }
--- request eval
["GET /big", "GET /big", "GET /big"]
--- more_headers eval
["", "Range: bytes=4095-70001", "Range: bytes=-1000"]
--- error_code eval
[200, 206, 206]
--- response_body eval
[$main::Big, substr($main::Big, 4095, 65907), substr($main::Big, -1000)]
--- timeout: 10



=== TEST 7: directio with aio threads, and sendfile on (directio files are not sent with
sendfile), directio_alignment 4k
--- config
    location / {
        sendfile on;
        aio threads;
        directio 1m;
        directio_alignment 4k;
        output_buffers 2 32k;
    }
--- request eval
["GET /big", "GET /big"]
--- more_headers eval
["", "Range: bytes=1234567-2345678"]
--- error_code eval
[200, 206]
--- response_body eval
[$main::Big, substr($main::Big, 1234567, 1111112)]
--- timeout: 10



=== TEST 8: a file below the directio size is read as usual
--- config
    location / { directio 10m; aio threads; }
--- request
GET /big
--- response_body eval
$main::Big
--- timeout: 10



=== TEST 9: aio on: moongate reads in the default pool's threads
--- moongate_only
--- config
    location / { aio on; output_buffers 1 128k; }
--- request eval
["GET /big", "GET /big"]
--- more_headers eval
["", "Range: bytes=3-17"]
--- error_code eval
[200, 206]
--- response_body eval
[$main::Big, substr($main::Big, 3, 15)]
--- timeout: 10



=== TEST 10: a full queue (max_queue=0): nginx's line, and no whole response
--- moongate_only
nginx counts the waiting tasks while its threads take them: whether a task finds the queue
full with max_queue=0 is a race there
--- main_config
    thread_pool tiny threads=1 max_queue=0;
--- config
    location / { aio threads=tiny; }
--- request
GET /big
--- ignore_response
--- error_log eval
qr/\[error\] .*thread pool "tiny" queue overflow: 0 tasks waiting/



=== TEST 11: aio threads naming a pool nobody defines
--- config
    location / { aio threads=nope; }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown thread pool "nope" in \S+:\d+/



=== TEST 12: thread_pool without threads=
--- main_config
    thread_pool io max_queue=10;
--- must_die
--- error_log eval
qr/"thread_pool" must have "threads" parameter in \S+:\d+/



=== TEST 13: threads=0
--- main_config
    thread_pool io threads=0;
--- must_die
--- error_log eval
qr/invalid threads value "threads=0" in \S+:\d+/



=== TEST 14: a pool defined twice
--- main_config
    thread_pool io threads=2;
    thread_pool io threads=4;
--- must_die
--- error_log eval
qr/duplicate thread pool "io" in \S+:\d+/



=== TEST 15: aio with a value it does not know
--- config
    aio maybe;
--- must_die
--- error_log eval
qr/"aio" directive invalid value in \S+:\d+/



=== TEST 16: directio with a bad size
--- config
    directio big;
--- must_die
--- error_log eval
qr/"directio" directive invalid value in \S+:\d+/



=== TEST 17: thread_pool is a main-level directive
--- http_config
    thread_pool io threads=2;
--- must_die
--- error_log eval
qr/"thread_pool" directive is not allowed here in \S+:\d+/
