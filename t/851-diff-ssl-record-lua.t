# Found by running the same configs on nginx 1.22 and moongate (issue 13): what a Lua handler
# prints in pieces (ngx.print, HTTP/1.1: chunked) fills nginx's ssl_buffer_size buffer before
# it is written, so ten prints of 10 KiB leave in full 16 KiB records (moongate: a record per
# print); a ngx.flush writes what the buffer has at once, so with a flush after each print
# every piece is a record of its own, whatever ssl_buffer_size (nothing waits for more).
#
#   prove -I t/lib t/851-diff-ssl-record-lua.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/851-diff-ssl-record-lua.t
use Test::Moongate;
use Test::Moongate::Certs;
use Test::Moongate::TlsRecords qw(records runs);

Test::Moongate::Certs::make();
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(ssl => '') unless defined $block->ssl;
});

run_tests();

__DATA__

=== TEST 1: ten prints of 10 KiB, no flush: full 16 KiB records but the last
--- config
    ssl_protocols TLSv1.2;
    location /t {
        content_by_lua_block {
            for i = 1, 10 do ngx.print(string.rep("a", 10240)) end
        }
    }
--- init
my ($bytes, @len) = main::records('/t', 'h11');
Test::More::cmp_ok($bytes, '>', 102400, 'the whole response came');
my $last = pop @len;
Test::More::is(scalar(grep { $_ != 16384 } @len), 0, 'full records but the last')
    or Test::More::diag('records: ' . main::runs(@len, $last));
Test::More::is(scalar(@len), 6, 'seven records');
--- request
GET /t
--- response_body_like: \A(a{10240}){10}\z



=== TEST 2: a flush after each print: a record each (the chunk's 8 framing bytes with it)
--- config
    ssl_protocols TLSv1.2;
    location /t {
        content_by_lua_block {
            for i = 1, 10 do
                ngx.print(string.rep("a", 10240))
                ngx.flush(true)
            end
        }
    }
--- init
my ($bytes, @len) = main::records('/t', 'h11');
Test::More::cmp_ok($bytes, '>', 102400, 'the whole response came');
# the head with the first piece, nine pieces, the last chunk
Test::More::is(scalar(@len), 11, 'eleven records') or Test::More::diag('records: ' . main::runs(@len));
Test::More::is(main::runs(@len[1 .. 9]), '10248x9', 'a piece a record');
--- request
GET /t
--- response_body_like: \A(a{10240}){10}\z



=== TEST 3: ssl_buffer_size 4k, a flush after each print: the pieces' records end at each flush
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 4k;
    location /t {
        content_by_lua_block {
            for i = 1, 10 do
                ngx.print(string.rep("a", 10240))
                ngx.flush(true)
            end
        }
    }
--- init
my ($bytes, @len) = main::records('/t', 'h11');
Test::More::cmp_ok($bytes, '>', 102400, 'the whole response came');
my $last = pop @len;
Test::More::is($last, 5, 'the last chunk alone');
# from the second piece on: 4096 4096 2056 (10248 bytes) each
my @rest = @len[3 .. $#len];
Test::More::is(main::runs(@rest), join(' ', ('4096x2 2056') x 9), 'each piece ends its record')
    or Test::More::diag('records: ' . main::runs(@len));
--- request
GET /t
--- response_body_like: \A(a{10240}){10}\z
