# A plain HTTP client connection is registered edge-triggered (EPOLLET, as nginx's): the
# kernel reports new input once, so what a level-triggered event would have reported again
# must still be read. A request that fills the header buffer exactly, with the next one
# pipelined behind it while the first waits on an upstream; requests of exactly the buffer's
# size one after another on a kept-alive connection; a request and the client's FIN in one go
# (the FIN stays to be read after the bytes) and a half-close while the upstream thinks; a
# body of exactly the body buffer's size sent with its head: each is answered (or ends 499).
#
#   prove -I t/lib t/167-client-edge-triggered.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/167-client-edge-triggered.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

backend(a => 'echo');

# a GET head of exactly $len bytes (padded with a header), keep-alive unless $close
sub head_of {
    my ($path, $len, $close) = @_;
    my $h = "GET $path HTTP/1.1\r\nHost: localhost\r\n" . ($close ? "Connection: close\r\n" : '');
    my $pad = $len - length($h) - length("X-Pad: \r\n\r\n");
    die "head too short\n" if $pad < 1;
    return $h . 'X-Pad: ' . ('p' x $pad) . "\r\n\r\n";
}

our $Log = <<'EOF';
    log_format s '$uri $status';
EOF

log_level('info');

run_tests();

__DATA__

=== TEST 1: a head that fills the 1k header buffer, the next request behind it while the first waits on the upstream
--- config
    location = /t { return 200 "t\n"; }
    client_header_buffer_size 1k;
    location /slow {
        proxy_set_header X-Echo-Delay 0.3;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
    location /fast { return 200 "fast\n"; }
--- init
my $s = main::client_connect();
main::client_send($s, main::head_of('/slow/1', 1024) . main::head_of('/fast/2', 600, 1));
my ($data) = main::client_read($s, qr/fast\n/, 5);
my @st = $data =~ /^HTTP\/1\.1 (\d+)/mg;
Test::More::is("@st", '200 200', 'TEST 1: both pipelined requests answered');
Test::More::like($data, qr{\r\n\r\nGET /slow/1 .*\r\n\r\nfast\n$}s, 'TEST 1: in order, the second whole');
--- request
GET /t
--- response_body
t
--- no_error_log
[error]



=== TEST 2: heads of exactly the buffer's size one after the other on a kept-alive connection
--- config
    location = /t { return 200 "t\n"; }
    client_header_buffer_size 1k;
    location /k { return 200 "k $uri\n"; }
--- init
my $s = main::client_connect();
my $got = '';
for my $i (1 .. 5) {
    main::client_send($s, main::head_of("/k/$i", 1024));
    my ($d) = main::client_read($s, qr/k \/k\/$i\n/, 5);
    $got .= ($d =~ /(k \/k\/\d+)\n/)[0] // 'none';
    $got .= ' ';
}
Test::More::is($got, 'k /k/1 k /k/2 k /k/3 k /k/4 k /k/5 ', 'TEST 2: five answers on one connection');
--- request
GET /t
--- response_body
t
--- no_error_log
[error]



=== TEST 3: a request and the client's FIN in one go while the upstream thinks: 499
--- http_config eval: $main::Log
--- config
    location = /t { return 200 "t\n"; }
    location /slow {
        access_log logs/s3.log s;
        proxy_set_header X-Echo-Delay 1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_A_PORT;
    }
--- init
my $s = main::client_connect();
main::client_send($s, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
shutdown($s, 1);
my ($l) = main::logged_lines('s3.log', 1);
Test::More::like($l // '', qr{^/slow 499$}, 'TEST 3: 499 in the access log');
close $s;
--- request
GET /t
--- response_body
t
--- error_log
client prematurely closed connection



=== TEST 4: a body of exactly client_body_buffer_size, sent with its head, read whole
--- config
    location = /t { return 200 "t\n"; }
    client_body_buffer_size 16k;
    location /b {
        content_by_lua_block {
            ngx.req.read_body()
            local b = ngx.req.get_body_data() or ""
            ngx.say(#b, " ", b:sub(1, 3), b:sub(-3))
        }
    }
--- init
my $body = ('abc' x 5460) . 'wxyz';
my $s = main::client_connect();
main::client_send($s, "POST /b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                    . "Content-Length: " . length($body) . "\r\n\r\n" . $body);
my ($data) = main::client_read($s, qr/\n\d+ \S+\n/, 5);
Test::More::like($data, qr{\r\n\r\n(?:[0-9a-f]+\r\n)?16384 abcxyz\n}, 'TEST 4: 16384 bytes');
--- request
GET /t
--- response_body
t
--- no_error_log
[error]
