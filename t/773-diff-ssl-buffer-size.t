# Found by running the same configs on nginx 1.22 and moongate (issue 13): ssl_buffer_size is
# the most a TLS record carries, as nginx gathers the output into a buffer of that size and
# writes it when full: a client reading records (the lengths in their headers, TLS 1.2 with
# AES-128-GCM: 24 bytes more than the data) sees none larger, and the response head rides in
# the first record with the file's start (small buffers are gathered), over HTTP/1.1 and
# HTTP/2. moongate wrote a large buffer in one SSL_write: 16 KiB records whatever the size.
#
#   prove -I t/lib t/773-diff-ssl-buffer-size.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/773-diff-ssl-buffer-size.t
use Test::Moongate;
use Test::Moongate::Certs;
use Test::Moongate::TlsRecords;

Test::Moongate::Certs::make();
log_level('info');

# records(path, proto): the response's bytes and its records' data lengths
# (t/lib/tls_records.py)
sub records { Test::Moongate::TlsRecords::records(@_) }
sub max { Test::Moongate::TlsRecords::max(@_) }

# a 64 KiB file in html/
sub big_file {
    open my $fh, '>', "$Test::Moongate::HtmlDir/big.bin" or die $!;
    print $fh 'abcdefghijklmnop' x 4096;
    close $fh;
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(ssl => '') unless defined $block->ssl;
});

run_tests();

__DATA__

=== TEST 1: ssl_buffer_size 1k: records of 1 KiB at most, the head gathered with the file's start
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 1k;
    location / { root html; }
--- init
main::big_file();
my ($bytes, @len) = main::records('/big.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 65536, 'the whole response came');
Test::More::is(main::max(@len), 1024, 'no record carries more than 1 KiB');
# the head (a small buffer) does not go in a record of its own: every record is full but the last
Test::More::is(scalar(@len), int(($bytes + 1023) / 1024), 'records full but the last');
--- request
GET /big.bin
--- response_body_like: \A(abcdefghijklmnop){4096}\z



=== TEST 2: ssl_buffer_size 100: a size below any TLS limit is kept as well
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 100;
    location / { root html; }
--- init
main::big_file();
my ($bytes, @len) = main::records('/big.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 65536, 'the whole response came');
Test::More::is(main::max(@len), 100, 'no record carries more than 100 bytes');
Test::More::is(scalar(@len), int(($bytes + 99) / 100), 'records full but the last');
--- request
GET /big.bin
--- response_body_like: \A(abcdefghijklmnop){4096}\z



=== TEST 3: the default (16k): records of 16 KiB, the head in the first with the file's start
--- config
    ssl_protocols TLSv1.2;
    location / { root html; }
--- init
main::big_file();
my ($bytes, @len) = main::records('/big.bin', 'h1');
Test::More::is(main::max(@len), 16384, 'records of 16 KiB');
Test::More::is(scalar(@len), int(($bytes + 16383) / 16384), 'records full but the last');
--- request
GET /big.bin
--- response_body_like: \A(abcdefghijklmnop){4096}\z



=== TEST 4: HTTP/2 over TLS: ssl_buffer_size 1k caps its records too
--- listen_options: http2
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 1k;
    location / { root html; }
--- init
main::big_file();
my ($bytes, @len) = main::records('/big.bin', 'h2');
Test::More::is($bytes, 65536, 'the whole body came');
Test::More::is(main::max(@len), 1024, 'no record carries more than 1 KiB');
--- request
GET /big.bin
--- response_body_like: \A(abcdefghijklmnop){4096}\z
