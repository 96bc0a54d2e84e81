# Found by running the same configs on nginx 1.22 and moongate (issue 13): nginx copies the
# output into one buffer of ssl_buffer_size and writes it when full, so a file larger than the
# pieces it is read in (output_buffers, 2 x 32k) still leaves in full records, the head with
# the file's start and only the last record short. moongate wrote each turn of its writer
# whole: a short record where a 64 KiB piece ended (16384x4 255 16384x8 8192 for 200 KiB), and
# a ssl_buffer_size above 16k that is not a multiple of it made 16k records only (OpenSSL
# takes a record a call), where nginx's are 16k and the rest (20k: 16384 4096 16384 ...).
#
#   prove -I t/lib t/849-diff-ssl-record-file.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/849-diff-ssl-record-file.t
use Test::Moongate;
use Test::Moongate::Certs;
use Test::Moongate::TlsRecords qw(records runs);

Test::Moongate::Certs::make();
log_level('info');

# a 200 KiB file in html/
sub file_200k {
    open my $fh, '>', "$Test::Moongate::HtmlDir/200k.bin" or die $!;
    print $fh 'abcdefghijklmnop' x 12800;
    close $fh;
}

# check(unit, @len): the records are full units (unit: one record's data, or "16384 4096" for
# records that repeat so) but the last, which is no larger
sub check {
    my ($unit, @len) = @_;
    my @u = split ' ', $unit;
    my $last = pop @len;
    my @want = map { $u[$_ % @u] } 0 .. $#len;
    Test::More::is(runs(@len), runs(@want), "full records ($unit) but the last")
        or Test::More::diag('records: ' . runs(@len, $last));
    Test::More::cmp_ok($last, '<=', $u[@len % @u], 'the last one no larger');
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(ssl => '') unless defined $block->ssl;
});

run_tests();

__DATA__

=== TEST 1: the default 16k: a 200 KiB file in full 16 KiB records across its 32 KiB pieces
--- config
    ssl_protocols TLSv1.2;
    location / { root html; }
--- init
main::file_200k();
my ($bytes, @len) = main::records('/200k.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 204800, 'the whole response came');
main::check(16384, @len);
--- request
GET /200k.bin
--- response_body_like: \A(abcdefghijklmnop){12800}\z



=== TEST 2: ssl_buffer_size 1k: 1 KiB records, none short but the last
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 1k;
    location / { root html; }
--- init
main::file_200k();
my ($bytes, @len) = main::records('/200k.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 204800, 'the whole response came');
main::check(1024, @len);
--- request
GET /200k.bin
--- response_body_like: \A(abcdefghijklmnop){12800}\z



=== TEST 3: ssl_buffer_size 64k (a multiple of 16k): full 16 KiB records
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 64k;
    location / { root html; }
--- init
main::file_200k();
my ($bytes, @len) = main::records('/200k.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 204800, 'the whole response came');
main::check(16384, @len);
--- request
GET /200k.bin
--- response_body_like: \A(abcdefghijklmnop){12800}\z



=== TEST 4: ssl_buffer_size 20k: each 20 KiB is a 16 KiB record and a 4 KiB one
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 20k;
    location / { root html; }
--- init
main::file_200k();
my ($bytes, @len) = main::records('/200k.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 204800, 'the whole response came');
main::check('16384 4096', @len);
--- request
GET /200k.bin
--- response_body_like: \A(abcdefghijklmnop){12800}\z
