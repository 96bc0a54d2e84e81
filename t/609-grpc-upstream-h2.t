# grpc_pass to an HTTP/2 upstream that misbehaves (t/lib/h2_bad_server.py, python3-h2): a
# RST_STREAM before the answer (502, "upstream rejected request with error 2"), one after the
# head (the client's stream is reset), a connection closed mid-stream ("upstream prematurely
# closed connection", the stream reset), and an answer that ends without trailers (passed as
# it is). Client: curl over h2c.
#
#   prove -I t/lib t/609-grpc-upstream-h2.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/609-grpc-upstream-h2.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;
use Test::MoongateDaemon;

my $py = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
plan skip_all => 'python3-h2 is not installed (configure --install-deps)'
    if system("$py -c 'import h2' 2>/dev/null") != 0;

daemon(bad => sub { my ($port) = @_; return ($py, "$FindBin::Bin/lib/h2_bad_server.py", $port) });
$ENV{TEST_NGINX_CURL} = 'curl -s --http2-prior-knowledge -o /dev/null -w "%{http_code} %{size_download}" -d x';

h2_blocks();
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => "    location / { grpc_pass grpc://127.0.0.1:$ENV{TEST_NGINX_BAD_PORT}; }\n")
        unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: RST_STREAM before the answer: 502
--- h2_cmd
$TEST_NGINX_CURL http://127.0.0.1:$TEST_NGINX_SERVER_PORT/rst-before; echo " rc=$?"
--- h2_out_like
^502 \d+ rc=0$
--- error_log eval
qr/\[error\] .*upstream rejected request with error 2 while reading response header from upstream, client: 127\.0\.0\.1, .*request: "POST \/rst-before HTTP\/2\.0", upstream: "grpc:\/\/127\.0\.0\.1:\d+"/



=== TEST 2: RST_STREAM after the head: the client's stream is reset too
--- h2_cmd
$TEST_NGINX_CURL http://127.0.0.1:$TEST_NGINX_SERVER_PORT/rst-after; echo " rc=$?"
--- h2_out_like
^(200 \d+|000 0) rc=(92|16)$
--- error_log eval
qr/\[error\] .*upstream rejected request with error 2 while reading/



=== TEST 3: the connection closed mid-stream: the client's stream is reset
--- h2_cmd
$TEST_NGINX_CURL http://127.0.0.1:$TEST_NGINX_SERVER_PORT/close-mid; echo " rc=$?"
--- h2_out_like
^(200 7|000 0) rc=92$
--- error_log eval
qr/\[error\] .*upstream prematurely closed connection while (?:reading (?:response header from )?upstream|sending to client), client: 127\.0\.0\.1, .*request: "POST \/close-mid HTTP\/2\.0"/



=== TEST 4: an answer whose last DATA ends the stream, without trailers: passed whole
--- h2_cmd
$TEST_NGINX_CURL http://127.0.0.1:$TEST_NGINX_SERVER_PORT/no-trailers; echo " rc=$?"
--- h2_out
200 7 rc=0
--- no_error_log
[error]
