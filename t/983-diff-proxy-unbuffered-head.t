# An upstream's head that comes alone, its body later, as Debian's nginx 1.22 passes it on:
# unbuffered (proxy_buffering off) the head is flushed to the client at once; buffered, it is
# held by postpone_output until the body comes. The upstream here is a Lua handler on a raw
# socket that sends the head, then waits for a flag the test sets (a second request) before
# the body, so the checks wait on that, not on time.
#
#   prove -I t/lib t/983-diff-proxy-unbuffered-head.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/983-diff-proxy-unbuffered-head.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

# GET $path?k=$key: what came before the upstream was let go on (within $wait seconds), and
# the whole response after /go?k=$key
sub head_then_rest {
    my ($path, $key, $wait) = @_;
    my $s = client_connect();
    client_send($s, "GET $path?k=$key HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my $early = client_read($s, qr/\r\n\r\n/, $wait);
    my $g = client_connect();
    client_send($g, "GET /go?k=$key HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    client_read($g, undef, 5);
    my $all = $early . client_read($s, undef, 5);
    return ($early =~ /\A(HTTP\/1\.1 200 OK)\r\n.*\r\n\r\n\z/s ? "$1, alone" : length $early ? "\"$early\"" : 'nothing',
            $all =~ /\r\n\r\n(.*)\z/s ? $1 : "no body in \"$all\"");
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value(http_config => 'lua_shared_dict go 1m;');
    $b->set_value(request => 'GET /go?k=none');
    $b->set_value(response_body => '');
    $b->set_value(config => <<'EOF' . $b->config);
    location /go { content_by_lua_block { ngx.shared.go:set(ngx.var.arg_k, 1) } }
    location /up {
        content_by_lua_block {
            local sock = ngx.req.socket(true)
            sock:send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
            for i = 1, 500 do
                if ngx.shared.go:get(ngx.var.arg_k) then break end
                ngx.sleep(0.01)
            end
            sock:send("body\n")
        }
    }
EOF
});

run_tests();

__DATA__

=== TEST 1: proxy_buffering off: the head is flushed at once
--- config
    location /u { proxy_buffering off; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up; }
--- init
my ($early, $body) = main::head_then_rest('/u', 'unbuffered', 5);
Test::More::is($early, 'HTTP/1.1 200 OK, alone', 'TEST 1: the head came while the upstream waited');
Test::More::is($body, "body\n", 'TEST 1: then the body');



=== TEST 2: buffered: the head waits for the body
--- config
    location /b { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up; }
--- init
my ($early, $body) = main::head_then_rest('/b', 'buffered', 0.5);
Test::More::is($early, 'nothing', 'TEST 2: nothing came while the upstream waited');
Test::More::is($body, "body\n", 'TEST 2: then all of it');
