# The place of Last-Modified and Content-Length set from Lua (ngx.header) in the response
# head, as OpenResty's: they are the response's own fields (nginx's header filter writes
# them after Content-Type, before the other lines), not kept in the order they were set.
#
#   prove -I t/lib t/780-lua-header-order.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/780-lua-header-order.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

run_tests();

__DATA__

=== TEST 1: X-A, Last-Modified, Content-Length, X-B from content_by_lua
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-A"] = "a"
            ngx.header["Last-Modified"] = "Thu, 01 Jan 2015 00:00:00 GMT"
            ngx.header["Content-Length"] = 3
            ngx.header["X-B"] = "b"
            ngx.print("ok\n")
        }
    }
--- init
my $s = client_connect();
client_send($s, "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
my ($data) = client_read($s, undef, 5);
close $s;
my ($head) = split /\r\n\r\n/, $data, 2;
my @names = map { /^([^:]+):/ ? $1 : () } split /\r\n/, $head;
Test::More::is(join(' ', grep { $_ ne 'Date' && $_ ne 'Server' } @names),
               'Content-Type Connection X-A Last-Modified Content-Length X-B', 'TEST 1: the order');
--- request
GET /t
--- response_body
ok



=== TEST 2: ngx.resp.get_headers has one Content-Length and one Last-Modified
--- config
    location /t {
        content_by_lua_block {
            ngx.header["X-A"] = "a"
            ngx.header["Last-Modified"] = "Thu, 01 Jan 2015 00:00:00 GMT"
            ngx.header["Content-Length"] = 3
            local h = ngx.resp.get_headers()
            local n = 0
            for k, v in pairs(h) do n = n + 1 end
            ngx.header["X-Got"] = h["content-length"] .. "|" .. h["last-modified"] .. "|"
                                  .. type(h["content-length"]) .. "|" .. n
            ngx.print("ok\n")
        }
    }
--- request
GET /t
--- response_headers
X-Got: 3|Thu, 01 Jan 2015 00:00:00 GMT|string|4
Content-Length: 3
--- response_body
ok



=== TEST 3: the Last-Modified set still answers If-Modified-Since with a 304
--- config
    location /t {
        content_by_lua_block {
            ngx.header["Last-Modified"] = "Thu, 01 Jan 2015 00:00:00 GMT"
            ngx.header["Content-Length"] = 3
            ngx.print("ok\n")
        }
    }
--- request
GET /t
--- more_headers
If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT
--- error_code: 304
--- response_body



=== TEST 4: gzip drops the Content-Length line set from Lua (the length changes)
--- config
    location /t {
        gzip on;
        gzip_min_length 1;
        gzip_types text/plain;
        content_by_lua_block {
            ngx.header["Content-Type"] = "text/plain"
            ngx.header["Content-Length"] = 40
            ngx.header["X-B"] = "b"
            ngx.print(string.rep("a", 40))
        }
    }
--- request
GET /t
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
!Content-Length
X-B: b
