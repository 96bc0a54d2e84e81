# The PROXY protocol (listen ... proxy_protocol): versions 1 and 2 read before the first request
# head, $proxy_protocol_addr/_port/_server_addr/_server_port, "UNKNOWN" and LOCAL headers that
# name no address, nginx's verdicts and log lines for broken ones, the header's addresses kept
# for the connection's later requests, and realip's "real_ip_header proxy_protocol" with
# set_real_ip_from: $remote_addr, $remote_port and the access log then show the balancer's
# client.  The test port gets proxy_protocol from a second server listening on the same address
# (an address option: one listen with it sets it for every server there, as nginx does); the
# access log is written into error.log so that "--- error_log" can check its lines.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/107-proxy-protocol.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET ();
use IO::Socket::SSL ();
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
# a TLS server of the same instance, on a port of its own, behind the PROXY protocol
our $SslPort = env_port('TEST_NGINX_SSL_PP_PORT');

# on that port: the PROXY header, then TLS, then a request; the response
sub pp_tls_get {
    my ($header, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $SslPort, Timeout => 5)
        or return "connect: $!";
    print $s $header;
    IO::Socket::SSL->start_SSL($s, SSL_verify_mode => 0, Timeout => 5)
        or return "handshake: $IO::Socket::SSL::SSL_ERROR";
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    close $s;
    return $r;
}

plan 'no_plan';

our $PP = <<'_EOC_';
    log_format pp "PPLOG $remote_addr|$remote_port|$proxy_protocol_addr|$proxy_protocol_port|$proxy_protocol_server_addr|$proxy_protocol_server_port|$realip_remote_addr";
    access_log $TEST_NGINX_LOG_DIR/error.log pp;
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT proxy_protocol;
        server_name other;
        return 200 "other server\n";
    }
_EOC_

our $Vars = 'return 200 "[$remote_addr] [$proxy_protocol_addr] [$proxy_protocol_port] '
    . '[$proxy_protocol_server_addr] [$proxy_protocol_server_port]\n";';

# A PROXY protocol v2 block: command, family byte, addresses and ports (and bytes after them).
sub v2 {
    my ($cmd, $fam, $body) = @_;
    return "\r\n\r\n\0\r\nQUIT\n" . pack('CCn', $cmd, $fam, length $body) . $body;
}

# Send bytes on a new connection, read until EOF (or 3 s of silence): the raw response.
sub exchange {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort,
                                  Proto => 'tcp', Timeout => 3) or die "connect: $!";
    print $s $_[0];
    my $out = '';
    my $sel = IO::Select->new($s);
    while ($sel->can_read(3)) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $out .= $buf;
    }
    return $out;
}

add_known_sections('plain');       # no proxy_protocol on the test port
add_block_preprocessor(sub {
    my $block = shift;
    my $pp = $PP;
    $pp =~ s/    server \{.*//s if defined $block->plain;
    $block->set_value(http_config => $pp . ($block->http_config // ''));
    (my $c = $block->config // '') =~ s/\$VARS/$Vars/g;
    $block->set_value(config => $c);
});

run_tests();

__DATA__

=== TEST 1: version 1, TCP4: the addresses and ports; $remote_addr is the balancer's
--- config
    location /t { $VARS }
--- raw_request eval
"PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
[127.0.0.1] [192.0.2.1] [1111] [198.51.100.2] [2222]
--- error_log eval
qr/PPLOG 127\.0\.0\.1\|\d+\|192\.0\.2\.1\|1111\|198\.51\.100\.2\|2222\|127\.0\.0\.1$/



=== TEST 2: version 1, TCP6
--- config
    location /t { $VARS }
--- raw_request eval
"PROXY TCP6 2001:db8::1 2001:db8::2 1111 2222\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
[127.0.0.1] [2001:db8::1] [1111] [2001:db8::2] [2222]



=== TEST 3: version 1 addresses are taken as sent (nginx checks their characters only); port 0 is none
--- config
    location /t { $VARS }
--- raw_request eval
"PROXY TCP4 1.2.3.999 abc 0 01\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
[127.0.0.1] [1.2.3.999] [] [abc] [1]



=== TEST 4: UNKNOWN names no address (whatever follows it on the line)
--- config
    location /t { $VARS }
--- raw_request eval
"PROXY UNKNOWN 192.0.2.1 198.51.100.2 1111 2222\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
[127.0.0.1] [] [] [] []
--- error_log eval
qr/PPLOG 127\.0\.0\.1\|\d+\|-\|-\|-\|-\|127\.0\.0\.1$/



=== TEST 5: version 2, TCP over IPv4, with a TLV after the addresses
--- config
    location /t { $VARS }
--- raw_request eval
main::v2(0x21, 0x11, pack('C4C4nn', 9, 9, 9, 9, 8, 8, 8, 8, 3333, 80) . "\x04\x00\x02ab")
. "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
[127.0.0.1] [9.9.9.9] [3333] [8.8.8.8] [80]



=== TEST 6: version 2, TCP over IPv6
--- config
    location /t { $VARS }
--- raw_request eval
main::v2(0x21, 0x21, pack('n8n8nn', 0x2001, 0xdb8, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 4444, 81))
. "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
[127.0.0.1] [2001:db8::5] [4444] [::1] [81]



=== TEST 7: version 2 LOCAL (a balancer's own check), UDP and unix families: no addresses
--- config
    location /t { $VARS }
--- raw_request eval
main::v2(0x20, 0x00, '') . "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- init
for my $h (main::v2(0x21, 0x12, "\0" x 12), main::v2(0x21, 0x31, "\0" x 216)) {
    Test::More::like(main::exchange($h . "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"),
                     qr/\r\n\r\n\[127\.0\.0\.1\] \[\] \[\] \[\] \[\]\n\z/,
                     'v2 family byte ' . unpack('H*', substr($h, 13, 1)) . ': no addresses');
}
--- response_body
[127.0.0.1] [] [] [] []



=== TEST 8: a request head where the header should be: "broken header", closed without an answer
--- config
    location /t { $VARS }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- ignore_response
--- error_log
broken header: "GET /t HTTP/1.0
while reading PROXY protocol, client: 127.0.0.1, server: 127.0.0.1:
--- no_error_log
PPLOG



=== TEST 9: broken version 1 lines
--- config
    location /t { $VARS }
--- raw_request eval
"PROXY TCP4 1.2.3.4 5.6.7.8 1111 99999\r\nGET /t HTTP/1.0\r\n\r\n"
--- init
for my $h ("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
           "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
           "PROXY TCP4 1.2.3.4\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 x\r\n") {
    (my $name = $h) =~ s/\r?\n//;
    Test::More::is(main::exchange($h . "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"), '',
                   "\"$name\": closed without an answer");
}
--- ignore_response
--- error_log
broken header: "PROXY TCP4 1.2.3.4 5.6.7.8 1111 99999
broken header: "PROXY TCP5 1.2.3.4 5.6.7.8 1 2
broken header: "proxy TCP4 1.2.3.4 5.6.7.8 1 2
--- no_error_log
PPLOG



=== TEST 10: version 2: a version other than 2, and a block larger than client_header_buffer_size
--- config
    location /t { $VARS }
--- raw_request eval
"\r\n\r\n\0\r\nQUIT\n" . pack('CCn', 0x11, 0x11, 12) . ("\0" x 12) . "GET /t HTTP/1.0\r\n\r\n"
--- init
Test::More::is(main::exchange(main::v2(0x21, 0x11, "\0" x 2000)), '',
               'a 2016-byte block: closed without an answer');
--- ignore_response
--- error_log
unknown PROXY protocol version: 1 while reading PROXY protocol, client: 127.0.0.1
header is too large while reading PROXY protocol, client: 127.0.0.1



=== TEST 11: the header is read once: the connection's next requests keep its addresses
--- config
    location /t { return 200 "$proxy_protocol_addr:$proxy_protocol_port $connection_requests\n"; }
--- raw_request eval
"PROXY TCP4 192.0.2.7 198.51.100.2 7777 80\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- init
Test::More::like(main::exchange("PROXY TCP4 192.0.2.7 198.51.100.2 7777 80\r\n"
                 . "GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
                 . "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
                 qr/\r\n\r\n192\.0\.2\.7:7777 1\n.*\r\n\r\n192\.0\.2\.7:7777 2\n\z/s,
                 'both requests of the connection see the header');
--- response_body
192.0.2.7:7777 1



=== TEST 12: a client sending a second header gets a bad request, not a new address
--- config
    location /t { $VARS }
--- raw_request eval
"PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\nPROXY TCP4 192.0.2.9 198.51.100.2 9 2222\r\nGET /t HTTP/1.0\r\n\r\n"
--- error_code: 400
--- error_log
client sent invalid request while reading client request line



=== TEST 13: a server without proxy_protocol has none of the variables, and takes no header
--- plain
--- config
    location /t { $VARS }
--- request eval
["GET /t", "PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\nGET /t"]
--- error_code eval
[200, 400]
--- response_body_like eval
["\\A\\[127\\.0\\.0\\.1\\] \\[\\] \\[\\] \\[\\] \\[\\]\n\\z", "400 Bad Request"]
--- error_log eval
qr/PPLOG 127\.0\.0\.1\|\d+\|-\|-\|-\|-\|127\.0\.0\.1$/



=== TEST 14: real_ip_header proxy_protocol: a trusted balancer's client is the client
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header proxy_protocol;
    location /t {
        return 200 "$remote_addr $remote_port $realip_remote_addr $proxy_protocol_addr\n";
    }
--- raw_request eval
"PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
192.0.2.1 1111 127.0.0.1 192.0.2.1
--- error_log eval
qr/PPLOG 192\.0\.2\.1\|1111\|192\.0\.2\.1\|1111\|198\.51\.100\.2\|2222\|127\.0\.0\.1$/



=== TEST 15: real_ip_header proxy_protocol: allow/deny and the error log see the client
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header proxy_protocol;
    location /t {
        deny 192.0.2.1;
        root $TEST_NGINX_HTML_DIR;
    }
--- user_files
>>> t
not denied
--- raw_request eval
"PROXY TCP6 2001:db8::1 2001:db8::2 1111 2222\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- init
Test::More::like(main::exchange("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n"
                 . "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"),
                 qr{^HTTP/1\.1 403 }, 'the denied address behind the balancer gets 403');
--- response_body
not denied
--- error_log
access forbidden by rule, client: 192.0.2.1



=== TEST 16: real_ip_header proxy_protocol: an untrusted balancer, or a header without addresses, changes nothing
--- config
    set_real_ip_from 10.0.0.0/8;
    real_ip_header proxy_protocol;
    location /t {
        return 200 "$remote_addr $proxy_protocol_addr\n";
    }
    location /trusted {
        set_real_ip_from 127.0.0.1;
        return 200 "$remote_addr [$proxy_protocol_addr]\n";
    }
--- raw_request eval
"PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- init
Test::More::like(main::exchange("PROXY UNKNOWN\r\nGET /trusted HTTP/1.0\r\nHost: localhost\r\n\r\n"),
                 qr/\r\n\r\n127\.0\.0\.1 \[\]\n\z/, 'UNKNOWN: the connection keeps its address');
Test::More::like(main::exchange("PROXY TCP4 abc 198.51.100.2 1 2\r\nGET /trusted HTTP/1.0\r\nHost: localhost\r\n\r\n"),
                 qr/\r\n\r\n127\.0\.0\.1 \[abc\]\n\z/, 'an address that is none: kept too');
--- response_body
127.0.0.1 192.0.2.1



=== TEST 17: nothing sent: the wait for the header ends at client_header_timeout
--- http_config
    client_header_timeout 500ms;
--- config
    location /t { $VARS }
--- raw_request eval
"PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\n"
--- init
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Proto => 'tcp');
IO::Select->new($s)->can_read(3);
--- ignore_response
--- error_log
client timed out (110: Connection timed out) while reading PROXY protocol, client: 127.0.0.1, server: 127.0.0.1:
client timed out (110: Connection timed out) while waiting for request, client: 127.0.0.1, server: 127.0.0.1:



=== TEST 18: a header split over several segments is read whole (nginx wants it in one read)
--- config
    location /t { $VARS }
--- raw_request eval
["PROXY TCP4 192.0.2.1 ", "198.51.100.2 1111 2222\r\n", "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"]
--- raw_request_middle_delay: 0.1
--- response_body
[127.0.0.1] [192.0.2.1] [1111] [198.51.100.2] [2222]
--- moongate_only



=== TEST 19: the listen parameter on a unix-domain socket and in IPv6: accepted
--- http_config
    server {
        listen unix:$TEST_NGINX_SERVROOT/pp.sock proxy_protocol;
        listen [::1]:$TEST_NGINX_SERVER_PORT proxy_protocol;
    }
--- config
    location /t { $VARS }
--- raw_request eval
"PROXY TCP4 192.0.2.1 198.51.100.2 1111 2222\r\nGET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
[127.0.0.1] [192.0.2.1] [1111] [198.51.100.2] [2222]



=== TEST 20: listen ... ssl proxy_protocol: the header, then the handshake on the same bytes
--- plain
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SSL_PP_PORT ssl proxy_protocol;
        ssl_certificate $TEST_NGINX_CERT_DIR/localhost.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/localhost.key;
        location /pp { return 200 "[$proxy_protocol_addr] [$proxy_protocol_port] [$https]\n"; }
    }
--- config
    location /t { return 200 "plain\n"; }
--- init
Test::More::like(main::pp_tls_get("PROXY TCP4 192.0.2.1 192.0.2.2 4321 443\r\n", '/pp'),
                 qr/\r\n\r\n\[192\.0\.2\.1\] \[4321\] \[on\]\n\z/, 'v1 header, then TLS');
Test::More::like(main::pp_tls_get("PROXY TCP4 nonsense\r\n", '/pp'), qr/^handshake: /,
                 'a broken header: the connection is closed');
--- request
GET /t
--- response_body
plain
--- error_log
broken header: "PROXY TCP4 nonsense
