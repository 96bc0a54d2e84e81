# proxy_store and a client that goes before the response's end, as nginx 1.22 does it (checked
# against Debian's nginx): a location that stores is not watched for the client's going
# (proxy_ignore_client_abort does not matter), and once a write to the client fails the
# upstream is read on to its end and the file is stored all the same (also when the write that
# fails was waiting for the client: a full socket); the access log says 200.
# Only a buffered response is stored: with proxy_buffering off nothing is, even a whole one.
#
#   prove -I t/lib t/957-proxy-store-client-gone.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/957-proxy-store-client-gone.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Time::HiRes ();

# a head and 8000 bytes at once (past postpone_output: the client gets the head), then three
# more pieces 0.6 s apart
our @Parts = map { $_ x 8000 } qw(a b c d);
our $Body = join '', @Parts;
# (read => 1, here and for big: the backend reads the request before it answers, so its close
# after the last piece is a FIN. Closed with the request unread it was a RST, which drops what
# the backend's socket had not sent yet: a proxy slow to read under load got a truncated body)
backend(slow => 'script', read => 1, script => [
    "HTTP/1.1 200 OK\r\nContent-Length: " . length($Body) . "\r\nConnection: close\r\n\r\n"
        . $Parts[0], 0.6, $Parts[1], 0.6, $Parts[2], 0.6, $Parts[3]]);
backend(up => 'echo');
# a head, 8000 bytes, then 2 MB at once (more than the sockets hold: the writer waits on the
# client) and, 1 s later, the end
our $BigBody = ('a' x 8000) . ('b' x 2_000_000) . ('c' x 8000);
backend(big => 'script', read => 1, script => [
    "HTTP/1.1 200 OK\r\nContent-Length: " . length($BigBody) . "\r\nConnection: close\r\n\r\n"
        . ('a' x 8000), 0.1, 'b' x 2_000_000, 1, 'c' x 8000]);

# the stored file's content once it is there (10 s at most), or undef
sub stored {
    my ($rel) = @_;
    my $f = "$Test::Moongate::ServRoot/store/$rel";
    my $deadline = Time::HiRes::time() + 10;
    Time::HiRes::sleep(0.05) until -e $f || Time::HiRes::time() > $deadline;
    return -e $f ? Test::Moongate::slurp($f) : undef;
}

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    log_format st '$request_uri $status';
EOF
});

run_tests();

__DATA__

=== TEST 1: the client closes after the head (proxy_ignore_client_abort off): read on and stored, 200 logged
--- config
    location /s/ {
        access_log logs/s1.log st;
        root $TEST_NGINX_SERVROOT/store;
        proxy_store on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
--- init
my $h = client_gone_after_head('/s/fin');
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 1: the head came');
my $got = main::stored('s/fin');
Test::More::ok(defined $got && $got eq $main::Body, 'TEST 1: the whole body stored');
Test::More::is((logged_lines('s1.log', 1))[0], '/s/fin 200', 'TEST 1: 200 logged');
--- request
GET /none
--- error_code: 404
--- no_error_log
client prematurely closed connection



=== TEST 2: the client resets after the head (proxy_ignore_client_abort on): the write fails, the body is read on and stored
--- config
    location /s/ {
        access_log logs/s2.log st;
        root $TEST_NGINX_SERVROOT/store;
        proxy_store on;
        proxy_ignore_client_abort on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
--- init
my $h = client_gone_after_head('/s/rst', reset => 1);
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 2: the head came');
my $got = main::stored('s/rst');
Test::More::ok(defined $got && $got eq $main::Body, 'TEST 2: the whole body stored');
Test::More::is((logged_lines('s2.log', 1))[0], '/s/rst 200', 'TEST 2: 200 logged');
--- request
GET /none
--- error_code: 404



=== TEST 3: the same reset with proxy_ignore_client_abort off
--- config
    location /s/ {
        access_log logs/s3.log st;
        root $TEST_NGINX_SERVROOT/store;
        proxy_store on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SLOW_PORT;
    }
--- init
my $h = client_gone_after_head('/s/rst2', reset => 1);
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 3: the head came');
my $got = main::stored('s/rst2');
Test::More::ok(defined $got && $got eq $main::Body, 'TEST 3: the whole body stored');
Test::More::is((logged_lines('s3.log', 1))[0], '/s/rst2 200', 'TEST 3: 200 logged');
--- request
GET /none
--- error_code: 404



=== TEST 4: proxy_buffering off: a whole response is not stored
--- config
    location /s/ {
        access_log logs/s4.log st;
        root $TEST_NGINX_SERVROOT/store;
        proxy_store on;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_UP_PORT;
    }
--- init
my $s = client_connect();
client_send($s, "GET /s/unbuffered HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
my ($r, $eof) = client_read($s, undef, 5);
Test::More::like($r, qr/^HTTP\/1\.1 200 .*\r\n\r\nGET \/s\/unbuffered /s, 'TEST 4: the response');
Test::More::is((logged_lines('s4.log', 1))[0], '/s/unbuffered 200', 'TEST 4: logged');
Test::More::ok(!-e "$Test::Moongate::ServRoot/store/s/unbuffered", 'TEST 4: nothing stored');
--- request
GET /none
--- error_code: 404



=== TEST 5: the write that fails was waiting on a full socket: read on and stored all the same
--- listen_options: sndbuf=16k
--- config
    location /s/ {
        access_log logs/s5.log st;
        root $TEST_NGINX_SERVROOT/store;
        proxy_store on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BIG_PORT;
    }
--- init
my $h = client_gone_after_head('/s/blocked', rcvbuf => 2048, stall => 0.5, reset => 1);
Test::More::like($h, qr/^HTTP\/1\.1 200 /, 'TEST 5: the head came');
my $got = main::stored('s/blocked');
Test::More::ok(defined $got && $got eq $main::BigBody, 'TEST 5: the whole body stored');
Test::More::is((logged_lines('s5.log', 1))[0], '/s/blocked 200', 'TEST 5: 200 logged');
--- request
GET /none
--- error_code: 404
