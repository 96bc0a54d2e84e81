# mp4's start and end arguments at their bounds, as nginx 1.22 reads them: seconds with up to
# three decimals kept (more are passed over), a value whose milliseconds do not fit a signed
# 64-bit file offset is not a number (the argument is ignored: the file whole when no start
# is left), one that fits but lies past the file's end is a start past its duration (500).
# moongate ignored values over 10^14 seconds, where nginx takes up to (2^63 - 1) ms; no
# arithmetic overflows on the way (mp4_parse.c scales the milliseconds in 128 bits).
#
#   TEST_MOONGATE_SERVROOT=/tmp/sr-x prove -I t/lib t/840-mp4-arg-bounds.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/840-mp4-arg-bounds.t
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Mp4File qw(mp4_test_files);
use Digest::MD5 qw(md5_hex);

our %F = mp4_test_files();
our $Len = length $F{'c.mp4'};

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(user_files => [["v/c.mp4", $F{'c.mp4'}, '202009131226.40']]);
    $block->set_value(config => <<'_EOC_');
    types { video/mp4 mp4; }
    location /v/ { mp4; }
_EOC_
});

# a rewritten response by its length and MD5 (the expected ones are nginx's for the same file)
sub digest { length($_[0]) . " " . md5_hex($_[0]) }

run_tests();

__DATA__

=== TEST 1: a start whose milliseconds pass 2^63 - 1 is no number: the file whole
--- request eval
["GET /v/c.mp4?start=99999999999999999999", "GET /v/c.mp4?start=9223372036854775.808",
 "GET /v/c.mp4?start=9223372036854776"]
--- response_body eval
[($::F{'c.mp4'}) x 3]



=== TEST 2: a start up to 2^63 - 1 ms is one, past the file's duration: 500 (moongate ignored those over 10^14 s)
--- request eval
["GET /v/c.mp4?start=9223372036854775.807", "GET /v/c.mp4?start=9223372036854775",
 "GET /v/c.mp4?start=100000000000000"]
--- error_code eval
[500, 500, 500]
--- error_log eval
[qr{/html/v/c.mp4" mp4 start time exceeds file duration, client: }]



=== TEST 3: an end up to 2^63 - 1 ms keeps the whole duration, rewritten as end=1000 is (moongate sent the file as it is)
--- request eval
["GET /v/c.mp4?end=9223372036854775", "GET /v/c.mp4?end=9223372036854775.807",
 "GET /v/c.mp4?end=1000", "GET /v/c.mp4?start=1&end=9223372036854775.807", "GET /v/c.mp4?start=1"]
--- response_body_filters
digest
--- response_body eval
[("5900 7f55e6c3b4aec1bf03acdc5d2c53fd5d") x 3, ("5665 e112aad872e8dea4bff6258fd29c11bf") x 2]



=== TEST 4: an end past 2^63 - 1 ms or with an exponent is ignored: the file whole, or from the start alone
--- request eval
["GET /v/c.mp4?end=99999999999999999999", "GET /v/c.mp4?end=1e30",
 "GET /v/c.mp4?start=1&end=99999999999999999999"]
--- response_body_filters
digest
--- response_body eval
[(main::digest($::F{'c.mp4'})) x 2, "5665 e112aad872e8dea4bff6258fd29c11bf"]



=== TEST 5: a dot without digits before it, after it, or alone; leading zeros; a fourth decimal and beyond passed over
--- request eval
["GET /v/c.mp4?start=.5", "GET /v/c.mp4?start=0.5", "GET /v/c.mp4?start=1.",
 "GET /v/c.mp4?start=000000000000000000000000000001", "GET /v/c.mp4?start=1.0009999999999999999999999999",
 "GET /v/c.mp4?start=.", "GET /v/c.mp4?start=0.00000000000000000000000000001", "GET /v/c.mp4?start=0"]
--- response_body_filters
digest
--- response_body eval
[("5792 2bd20894f47a4d757161883a2250a60c") x 2, ("5665 e112aad872e8dea4bff6258fd29c11bf") x 3,
 (main::digest($::F{'c.mp4'})) x 3]



=== TEST 6: an end whose units at a track's timescale pass 2^64 (the audio's 8000/s): the whole duration still
(nginx's 64-bit product wraps: 2^61 + 1 ms is 8 units of that track, and it answers 500; so did
moongate, its 128-bit product cut to 64 bits)
--- moongate_only
--- request eval
["GET /v/c.mp4?end=2305843009213693.953", "GET /v/c.mp4?end=1000"]
--- response_body_filters
digest
--- response_body eval
[("5900 7f55e6c3b4aec1bf03acdc5d2c53fd5d") x 2]
