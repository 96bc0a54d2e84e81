# Found by running the same configs on nginx 1.22 and moongate (issue 13): a proxied body
# (buffered, as the upstream's 8 KiB buffers come) leaves in full records of ssl_buffer_size in
# nginx, whose buffer of that size is written only when full or flushed: a piece that does not
# fill it waits for the next. moongate wrote each piece as it came: 8 KiB records under the
# default 16k (a 1 MB body in 126 records, nginx's in 65), and its spool, seeing the writer's
# copy of a held tail as its own buffers still busy, flushed at every piece.
#
#   prove -I t/lib t/850-diff-ssl-record-proxy.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/850-diff-ssl-record-proxy.t
use Test::Moongate;
use Test::Moongate::Certs;
use Test::Moongate::TlsRecords qw(records runs);

Test::Moongate::Certs::make();
log_level('info');
our $port2 = env_port('TEST_NGINX_PORT2');

# the upstream: a plain server of the same instance with a 1 MB file
our $Backend = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / { root html; }
    }
_EOC_

sub file_1m {
    open my $fh, '>', "$Test::Moongate::HtmlDir/1m.bin" or die $!;
    print $fh 'abcdefghijklmnop' x 65536;
    close $fh;
}

# full(unit, @len): every record but the last carries unit bytes, the last no more
sub full {
    my ($unit, @len) = @_;
    my $last = pop @len;
    Test::More::is(scalar(grep { $_ != $unit } @len), 0, "full records ($unit) but the last")
        or Test::More::diag('records: ' . runs(@len, $last));
    Test::More::cmp_ok($last, '<=', $unit, 'the last one no larger');
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(ssl => '') unless defined $block->ssl;
    $block->set_value(http_config => $main::Backend) unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: the default 16k: a proxied 1 MB body in full 16 KiB records, not the 8 KiB pieces
--- config
    ssl_protocols TLSv1.2;
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- init
main::file_1m();
my ($bytes, @len) = main::records('/1m.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 1048576, 'the whole response came');
main::full(16384, @len);
--- request
GET /1m.bin
--- response_body_like: \A(abcdefghijklmnop){32768}(abcdefghijklmnop){32768}\z



=== TEST 2: ssl_buffer_size 4k: full 4 KiB records
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 4k;
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- init
main::file_1m();
my ($bytes, @len) = main::records('/1m.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 1048576, 'the whole response came');
main::full(4096, @len);
--- request
GET /1m.bin
--- response_body_like: \A(abcdefghijklmnop){32768}(abcdefghijklmnop){32768}\z



=== TEST 3: over HTTP/1.1 (chunked framing kept out: the upstream's length is passed on)
--- config
    ssl_protocols TLSv1.2;
    location / { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2; }
--- init
main::file_1m();
my ($bytes, @len) = main::records('/1m.bin', 'h11');
Test::More::cmp_ok($bytes, '>', 1048576, 'the whole response came');
main::full(16384, @len);
--- request
GET /1m.bin
--- response_body_like: \A(abcdefghijklmnop){32768}(abcdefghijklmnop){32768}\z
