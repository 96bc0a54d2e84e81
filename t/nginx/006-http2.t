# OpenResty's Test::Nginx::Socket's --- http2 (curl --http2-prior-knowledge against the
# server port, `http2 on;` written into the server block) and --- curl with curl_options.
# Run by `make test-nginx`.

use Cwd ();
use File::Basename ();
BEGIN {
    $ENV{TEST_NGINX_BINARY} ||= Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..')
        . '/objs/moongate';
    if (!eval { require Test::Nginx::Socket; 1 }) {
        print "1..0 # SKIP Test::Nginx::Socket not on \@INC (make test-nginx TEST_NGINX_LIB=...)\n";
        exit 0;
    }
    # this Test::Nginx writes `http2 on;` for any nginx from 1.19.9 on; nginx has it from 1.25.1
    my $v = `$ENV{TEST_NGINX_BINARY} -v 2>&1`;
    if ($v !~ /moongate/ && $v =~ m{nginx/(\d+)\.(\d+)\.(\d+)}
        && sprintf('%03d%03d%03d', $1, $2, $3) lt '001025001') {
        print "1..0 # SKIP the harness's `http2 on;` needs nginx 1.25.1 (this is $1.$2.$3)\n";
        exit 0;
    }
}
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a Lua handler over HTTP/2 cleartext
--- http2
--- config
    location = /t {
        content_by_lua_block {
            ngx.header["X-Proto"] = ngx.var.server_protocol
            ngx.say("h2 ", ngx.req.http_version(), " ", ngx.var.http_x_a)
        }
    }
--- more_headers
X-A: b
--- request
GET /t
--- response_headers
X-Proto: HTTP/2.0
--- response_body
h2 2 b

=== TEST 2: a POST body over HTTP/2 read by Lua
--- http2
--- config
    location = /t {
        content_by_lua_block {
            ngx.req.read_body()
            ngx.say("got ", ngx.req.get_body_data())
        }
    }
--- request
POST /t
hello-h2
--- response_body
got hello-h2
