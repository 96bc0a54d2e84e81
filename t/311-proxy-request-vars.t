# What goes to the upstream and what is told of it: proxy_method and proxy_set_body (with
# variables), and $upstream_response_length, $upstream_bytes_received, $upstream_bytes_sent,
# one value per try, comma-separated like $upstream_addr, as the access log shows them.
#
#   prove -I t/lib t/311-proxy-request-vars.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/311-proxy-request-vars.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');
backend(fixed => 'early', status => 200, hold => 0);
backend(gone => 'refused');
backend(k => 'counting');

# the fixed backend's whole answer, head and body
our $Fixed = "HTTP/1.1 200 OK\r\nX-Backend: fixed\r\nContent-Length: 12\r\nConnection: close\r\n\r\nearly fixed\n";

# one request on its own connection: the parsed response
sub get {
    my ($req) = @_;
    my $x = Test::Moongate::exchange([$req], 0, ['GET'], 3);
    my ($r) = Test::Moongate::parse_responses($x->{raw}, ['GET'], 1);
    return $r || { status => '', body => '', headers => {}, error => 'no response' };
}

our $Log = <<'EOF';
    log_format u '$upstream_addr|$upstream_status|$upstream_response_length|'
                 '$upstream_bytes_received|$upstream_bytes_sent';
EOF

run_tests();

__DATA__

=== TEST 1: proxy_method: the upstream gets that method for a GET
--- config
    location / {
        proxy_method POST;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- response_body_like: \APOST /t HTTP/1\.0\n



=== TEST 2: proxy_method with a variable
--- config
    location / {
        proxy_method $arg_m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t?m=PUT
--- response_body_like: \APUT /t\?m=PUT HTTP/1\.0\n



=== TEST 3: proxy_set_body replaces the client's body, with its own Content-Length
--- config
    location / {
        proxy_set_body "a=$arg_a";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
POST /t?a=1
0123456789
--- response_body_like: \APOST /t\?a=1 HTTP/1\.0\n(?:.+\n)*Content-Length: 3\n(?:.+\n)*\na=1\z
--- response_headers
X-Request-Framing: length



=== TEST 4: proxy_set_body on a GET: the body goes all the same
--- config
    location / {
        proxy_set_body "hello";
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- request
GET /t
--- response_body_like: \AGET /t HTTP/1\.0\n(?:.+\n)*Content-Length: 5\n(?:.+\n)*\nhello\z



=== TEST 5: a client's HEAD sent as GET: the body is not taken for the next response
--- http_config
    upstream k {
        server 127.0.0.1:$TEST_NGINX_K_PORT;
        keepalive 2;
    }
--- config
    location / {
        proxy_method GET;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://k;
    }
--- request eval
["HEAD /t", "GET /t", "HEAD /t", "GET /t"]
--- response_body_like eval
["^\\z", "^k conn=\\d+ req=\\d+\n\\z", "^\\z", "^k conn=\\d+ req=\\d+\n\\z"]



=== TEST 6: $upstream_response_length and $upstream_bytes_received: body, and head and body
--- http_config eval: $main::Log
--- config
    location /p {
        access_log logs/u6.log u;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FIXED_PORT;
    }
--- init
my $r = main::get("GET /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
Test::More::is($r->{body}, "early fixed\n", 'TEST 6: the response');
my ($l) = logged_lines('u6.log', 1);
my $head = length($main::Fixed) - 12;
Test::More::like($l, qr/^127\.0\.0\.1:\d+\|200\|12\|\d+\|\d+$/, 'TEST 6: one try, 12 body bytes');
my @f = split /\|/, $l // '';
Test::More::is($f[3], length $main::Fixed, "TEST 6: received: the $head-byte head and the body");
--- request
GET /p



=== TEST 7: $upstream_bytes_sent: the request as the upstream got it
--- http_config eval: $main::Log
--- config
    location /p {
        access_log logs/u7.log u;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- init
my $r = main::get("POST /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
# the echo is the request with its CRLFs turned into LFs
my ($head) = $r->{body} =~ /\A(.*?\n\n)/s;
my $sent = length($r->{body}) + ($head =~ tr/\n//);
my ($l) = logged_lines('u7.log', 1);
my @f = split /\|/, $l // '';
Test::More::is($f[4], $sent, "TEST 7: sent: $sent bytes, head and body");
Test::More::is($f[2], length $r->{body}, 'TEST 7: response length: the echo body');
--- request
GET /p



=== TEST 8: one value per try: a refused server, then the good one
--- http_config eval
$main::Log . <<'EOF';
    upstream two {
        server 127.0.0.1:$TEST_NGINX_GONE_PORT;
        server 127.0.0.1:$TEST_NGINX_FIXED_PORT;
    }
EOF
--- config
    location /p {
        access_log logs/u8.log u;
        proxy_pass http://two;
    }
--- init
my $r = main::get("GET /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
Test::More::is($r->{body}, "early fixed\n", 'TEST 8: the second server answers');
my ($l) = logged_lines('u8.log', 1);
my $len = length $main::Fixed;
Test::More::like($l, qr/^127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\|502, 200\|0, 12\|0, $len\|0, \d+$/,
                 'TEST 8: 0 bytes for the refused try');
--- request
GET /p
