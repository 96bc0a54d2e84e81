# ngx.flush() before any body bytes, as lua-nginx-module with Debian's nginx 1.22: "nothing
# to flush" (nil and the message), and the head that ngx.send_headers (or an empty ngx.print)
# made stays held by postpone_output until body bytes or the end come; ngx.flush(true) pushes
# it out, and so does ngx.flush() once ngx.print had bytes.
# Each handler waits for a flag the test sets (a second request), so "nothing came yet" is
# checked while the handler certainly waits.
#
#   prove -I t/lib t/982-diff-lua-flush-head.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/982-diff-lua-flush-head.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

# GET $path?k=$key: what came within $wait s (the handler waits for /go?k=$key meanwhile), then
# the response's body once /go was asked. A short $wait shows nothing came; where the head must
# come it is the bound of a wait that ends as soon as it did (0.5 s was within a loaded
# machine's reach)
sub held_then_body {
    my ($path, $key, $wait) = @_;
    my $s = client_connect();
    client_send($s, "GET $path?k=$key HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my $early = client_read($s, qr/\r\n\r\n/, $wait);
    my $g = client_connect();
    client_send($g, "GET /go?k=$key HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    client_read($g, undef, 5);
    my $all = $early . client_read($s, undef, 5);
    my (undef, $body) = split /\r\n\r\n/, $all, 2;
    my $plain = '';
    while (defined $body && $body =~ s/\A([0-9a-f]+)\r\n//) {
        $plain .= substr($body, 0, hex($1), '');
        $body =~ s/\A\r\n//;
    }
    $body = $plain;
    return ($early =~ /^HTTP\/1\.1 200/ ? 'head came' : length $early ? "\"$early\"" : 'nothing',
            $body);
}

run_tests();

__DATA__

=== TEST 1: ngx.flush() without body bytes: nothing to flush, the head held; ngx.flush(true) sends it; after ngx.print("x") ngx.flush() does
--- http_config
    lua_shared_dict go 1m;
--- config
    location /go { content_by_lua_block { ngx.shared.go:set(ngx.var.arg_k, 1) } }
    location /t {
        content_by_lua_block {
            local what = ngx.var.arg_k
            if what == "headers" or what == "wait" then
                ngx.send_headers()
            elseif what == "empty" then
                ngx.print("")
            else
                ngx.print("x:")
            end
            local ok, err = ngx.flush(what == "wait")
            for i = 1, 500 do
                if ngx.shared.go:get(what) then break end
                ngx.sleep(0.01)
            end
            ngx.print(tostring(ok), " ", tostring(err))
        }
    }
--- init
for (['headers', 'nothing', 'nil nothing to flush'],
     ['empty', 'nothing', 'nil nothing to flush'],
     ['wait', 'head came', '1 nil'],
     ['bytes', 'head came', 'x:1 nil']) {
    my ($key, $early, $body) = @$_;
    my ($got_early, $got_body) = main::held_then_body('/t', $key, $early eq 'nothing' ? 0.5 : 10);
    Test::More::is($got_early, $early, "TEST 1 $key: before the handler goes on");
    Test::More::is($got_body, $body, "TEST 1 $key: what ngx.flush returned");
}
--- request
GET /go?k=none
--- response_body
