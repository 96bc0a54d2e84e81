# A request body streamed to a FastCGI application as it arrives (fastcgi_request_buffering off,
# modules/fastcgi.c on core/http/upstream_body.c): to a real php-fpm (Debian's php8.2-fpm,
# t/php/stream.php) and to a fake application (Test::MoongateBackend's fastcgi kind, which
# logs the length and md5 of the FCGI_STDIN it read). A chunked body's length is not known
# when the request starts, so CONTENT_LENGTH goes empty, as nginx sends it, and php-fpm, which
# reads CONTENT_LENGTH bytes of FCGI_STDIN, reads none of it (behind nginx the same); a body
# with a Content-Length streams to it whole. Buffered (the default), a chunked body's
# CONTENT_LENGTH is its length and php-fpm reads it all. An h2 stream's body without a
# content-length streams the same way.
#
#   prove -I t/lib t/624-fastcgi-stream-body.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/624-fastcgi-stream-body.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::MoongateDaemon;
use Test::Moongate::H2;
use Digest::MD5 ();

daemon_skip_unless('php-fpm8.2');

$ENV{TEST_NGINX_PHP_ROOT} = "$FindBin::Bin/php";
$ENV{TEST_NGINX_CONF_SRC} = "$FindBin::Bin/../conf";

daemon(fpm => php_fpm('catch_workers_output = no', 'php_admin_value[output_buffering] = 0'));

backend(app => 'fastcgi', md5 => 1,
        script => fastcgi_answer("Content-Type: text/plain\r\n\r\ndone\n"));

# 1 MiB of bytes 0..255 in chunks of sizes that cross every buffer edge (1 byte, odd sizes,
# one over 64 KiB), and the chunked encoding of it
our $Big = join '', map { chr($_ % 251) } 0 .. 1048575;
our $BigMd5 = Digest::MD5::md5_hex($Big);
our $BigChunked = do {
    my ($out, $off, $i) = ('', 0, 0);
    my @sizes = (1, 4095, 8193, 70001, 333, 16385, 2);
    while ($off < length $Big) {
        my $n = $sizes[$i++ % @sizes];
        $n = length($Big) - $off if $off + $n > length $Big;
        $out .= sprintf("%x\r\n", $n) . substr($Big, $off, $n) . "\r\n";
        $off += $n;
    }
    $out . "0\r\n\r\n";
};

# the body of a chunked response (its chunks are as the application flushed: they vary)
sub dechunk {
    my ($resp) = @_;
    my ($body, $out) = ($resp =~ /\r\n\r\n(.*)\z/s ? $1 : '', '');
    while ($body =~ s/\A([0-9a-f]+)\r\n//) {
        my $n = hex $1;
        last if $n == 0;
        $out .= substr($body, 0, $n, '');
        $body =~ s/\A\r\n//;
    }
    return $out;
}

# the fake application's log lines matching $re once there are $n (10 s at most)
sub app_lines {
    my ($re, $n) = @_;
    return backend_wait_lines('app', $re, $n);
}

log_level('info');

run_tests();

__DATA__

=== TEST 1: php-fpm runs before a streamed chunked body has ended: its first line reaches the client after the first chunk
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_request_buffering off;
        fastcgi_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- init
my $s = client_connect();
client_send($s, "POST /stream.php HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                . "Transfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
# buffered, the request would wait for the rest of the body: no answer at all
my ($head) = client_read($s, qr/started\n/, 10);
Test::More::like($head, qr/^HTTP\/1\.1 200 .*\r\n\r\n[0-9a-f]+\r\nstarted\n/s,
                 'TEST 1: the application answered while the body was still coming');
# php-fpm reads CONTENT_LENGTH bytes: none, the length being unknown
my ($rest) = client_read($s, qr/\r\n0\r\n\r\n\z/, 10);
Test::More::is(main::dechunk("$head$rest"),
               "started\nread 0 d41d8cd98f00b204e9800998ecf8427e\nCONTENT_LENGTH=[]\n",
               'TEST 1: an unknown length: CONTENT_LENGTH empty, nothing read');
# the rest of the body after the response is read and dropped; the connection then closes
client_send($s, "6\r\nsecond\r\n0\r\n\r\n");
my ($more, $eof) = client_read($s, undef, 10);
Test::More::is("$more/$eof", '/1', 'TEST 1: nothing more, then the close');
--- request
GET /stream.php
--- response_body
started
read 0 d41d8cd98f00b204e9800998ecf8427e
CONTENT_LENGTH=[]
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 2: a 1 MiB body with a Content-Length streamed to php-fpm unbuffered: read whole
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- raw_request eval
"POST /stream.php HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 1048576\r\n\r\n" . $main::Big
--- response_body eval
"started\nread 1048576 $main::BigMd5\nCONTENT_LENGTH=[1048576]\n"
--- timeout: 10
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 3: a 1 MiB chunked body buffered (the default): php-fpm gets its length and reads it whole
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- raw_request eval
"POST /stream.php HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" . $main::BigChunked
--- response_body eval
"started\nread 1048576 $main::BigMd5\nCONTENT_LENGTH=[1048576]\n"
--- timeout: 10
--- error_log
a client request body is buffered to a temporary file
--- no_error_log
[error]



=== TEST 4: a 1 MiB chunked body streamed (no temporary file): the application reads it whole and exact
--- config
    location /f {
        fastcgi_request_buffering off;
        fastcgi_param CONTENT_LENGTH $content_length;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
backend_log_clear('app');
--- raw_request eval
"POST /f HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" . $main::BigChunked
--- response_body
done
--- timeout: 10
--- no_error_log
[error]
a client request body is buffered to a temporary file



=== TEST 5: TEST 4's body and CONTENT_LENGTH as the application read them
--- config
    location /t { return 200 "ok\n"; }
--- init
my @l = main::app_lines(qr/^(?:stdin |param CONTENT_LENGTH)/, 2);
Test::More::is(CORE::join(',', @l), "param CONTENT_LENGTH=,stdin 1048576 $main::BigMd5",
               'TEST 5: all of it, in order, CONTENT_LENGTH empty');
--- request
GET /t
--- response_body
ok



=== TEST 6: the same body in client_body_buffer_size 1k: many small records, still exact
--- config
    location /f {
        client_body_buffer_size 1k;
        fastcgi_request_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_APP_PORT;
    }
--- init
backend_log_clear('app');
--- raw_request eval
"POST /f HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" . $main::BigChunked
--- response_body
done
--- timeout: 10
--- no_error_log
[error]



=== TEST 7: TEST 6's body as the application read it
--- config
    location /t { return 200 "ok\n"; }
--- init
my @l = main::app_lines(qr/^stdin /, 1);
Test::More::is("@l", "stdin 1048576 $main::BigMd5", 'TEST 7: all of it');
--- request
GET /t
--- response_body
ok



=== TEST 8: h2, a body without content-length streamed: php-fpm answers while the client has not ended its stream (then RST_STREAM NO_ERROR)
--- listen_options: http2
--- config
    root $TEST_NGINX_PHP_ROOT;
    location ~ \.php$ {
        include $TEST_NGINX_CONF_SRC/fastcgi.conf;
        fastcgi_request_buffering off;
        fastcgi_buffering off;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FPM_PORT;
    }
--- h2_py
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/stream.php', method='POST', body=b'first', end=False)
c.wait(a, timeout=10)
st = c.streams[a]
print(st.status, st.body, st.ended, st.reset)
--- h2_out
200 b'started\nread 0 d41d8cd98f00b204e9800998ecf8427e\nCONTENT_LENGTH=[]\n' True 0
--- no_error_log
a client request body is buffered to a temporary file
