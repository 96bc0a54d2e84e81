# Found by running the same configs on Debian's nginx 1.22 and moongate: mp4_max_buffer_size
# is checked, as nginx does, only for a moov atom larger than the read buffer nginx has at that
# point: mp4_buffer_size, cut for good to what was left of the file at a read that refilled it.
# So in a file smaller than mp4_buffer_size the moov is never "too large". Before: moongate
# compared every moov with mp4_max_buffer_size (a 1300-byte moov with
# mp4_max_buffer_size 1k was a 500).
#
#   prove -I t/lib t/741-diff-mp4-max-buffer.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/741-diff-mp4-max-buffer.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Mp4File qw(mp4_test_files);

plan 'no_plan';

our %F = mp4_test_files();
our @Files = (["m/e.mp4", $F{'e.mp4'}, '202009131226.40'], ["m/f.mp4", $F{'f.mp4'}, '202009131226.40']);

run_tests();

__DATA__

=== TEST 1: a file under mp4_buffer_size: its 1300-byte moov passes mp4_max_buffer_size 1k
--- user_files eval
[@::Files]
--- config
    location /m/ { root $TEST_NGINX_HTML_DIR; mp4; mp4_max_buffer_size 1k; }
--- request
GET /m/e.mp4?start=1
--- error_code: 200
--- response_headers
Content-Length: 5665
--- no_error_log
[error]



=== TEST 2: mp4_buffer_size 1k: the same moov is over mp4_max_buffer_size 1k
--- user_files eval
[@::Files]
--- config
    location /m/ { root $TEST_NGINX_HTML_DIR; mp4; mp4_buffer_size 1k; mp4_max_buffer_size 1k; }
--- request
GET /m/e.mp4?start=1
--- error_code: 500
--- error_log
mp4 moov atom is too large:1300, you may want to increase mp4_max_buffer_size



=== TEST 3: the moov last in a file over mp4_buffer_size 2k: the buffer is cut to what is left of the file at the moov, which it holds
--- user_files eval
[@::Files]
--- config
    location /m/ { root $TEST_NGINX_HTML_DIR; mp4; mp4_buffer_size 2k; mp4_max_buffer_size 1k; }
--- request
GET /m/f.mp4?start=1
--- error_code: 200
--- no_error_log
[error]
