# proxy_limit_rate, fastcgi_limit_rate (and scgi_, uwsgi_): the speed of reading a buffered
# upstream response, per request (nginx's formula: the rate for every second since the body
# began, the first included); nothing with proxy_buffering off, unless the upstream's
# X-Accel-Buffering turns buffering on; inherited from the server level; the errors; and
# proxy_send_lowat / fastcgi_send_lowat, which nginx warns about on Linux and ignores.
#
# Timing: the server's own $request_time (its access log goes into error.log) and only a lower
# bound: 128 KiB at 32 KiB/s (less the head buffer's first 4 KiB) cannot be read in less than
# 2 s whatever the second the body began in; without the limit it takes milliseconds.
#
#   prove -I t/lib t/946-upstream-limit-rate.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/946-upstream-limit-rate.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

our $port2 = env_port('TEST_NGINX_PORT2');

our $Big = join '', map { sprintf "%07d\n", $_ } 0 .. 16383;    # 128 KiB

# a FastCGI application answering 96 KiB in four records
sub rec { pack('CCnnCC', 1, $_[0], 1, length $_[1], 0, 0) . $_[1] }
our $Fcgi = substr($Big, 0, 98304);
backend(fcgi => 'fastcgi', script => [rec(6, "Content-Type: text/plain\r\n\r\n")
    . join('', map { rec(6, substr($Fcgi, $_ * 24576, 24576)) } 0 .. 3)
    . rec(6, '') . rec(3, "\0" x 8)]);

# at least two seconds; under two
our $Slow = qr/\brt=(?:[2-9]|\d\d+)\.\d{3} /;
our $Fast = qr/\brt=[01]\.\d{3} /;

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    log_format rate 'rt=$request_time sent=$body_bytes_sent $request_uri';
    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        location / { root $TEST_NGINX_HTML_DIR; add_header X-Accel-Buffering $arg_xab; }
    }
EOF
    $b->set_value('user_files', ">>> big\n$Big" . ($b->user_files // ''));
});

run_tests();

__DATA__

=== TEST 1: proxy_limit_rate 32k: 128 KiB take two seconds and more
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /p/ {
        proxy_limit_rate 32k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
    }
--- request
GET /p/big
--- response_body eval
$main::Big
--- timeout: 10
--- error_log eval
[qr/sent=131072 \/p\/big/, $main::Slow]



=== TEST 2: the same without proxy_limit_rate: fast (the test above can fail)
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /p/ { proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/; }
--- request
GET /p/big
--- response_body eval
$main::Big
--- error_log eval
[qr/sent=131072 \/p\/big/, $main::Fast]



=== TEST 3: proxy_buffering off: no limit (nginx limits buffered responses only)
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /p/ {
        proxy_limit_rate 32k;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
    }
--- request
GET /p/big
--- response_body eval
$main::Big
--- error_log eval
[qr/sent=131072 \/p\/big/, $main::Fast]



=== TEST 4: from the server level, and X-Accel-Buffering: yes buffers (so limits) again
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    proxy_limit_rate 32k;
    location /p/ {
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_PORT2/;
    }
--- request
GET /p/big?xab=yes
--- response_body eval
$main::Big
--- timeout: 10
--- error_log eval
[qr/sent=131072 \/p\/big\?xab=yes/, $main::Slow]



=== TEST 5: fastcgi_limit_rate 24k: 96 KiB take two seconds and more
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /f {
        fastcgi_limit_rate 24k;
        fastcgi_pass 127.0.0.1:$TEST_NGINX_FCGI_PORT;
    }
--- request
GET /f
--- response_body eval
$main::Fcgi
--- timeout: 10
--- error_log eval
[qr/sent=\d+ \/f/, $main::Slow]



=== TEST 6: scgi_limit_rate and uwsgi_limit_rate are taken in every context
--- http_config
    scgi_limit_rate 1k;
    uwsgi_limit_rate 2m;
--- config
    scgi_limit_rate 0;
    location /t { uwsgi_limit_rate 10; scgi_limit_rate 1m; return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 7: proxy_limit_rate: a bad size
--- config
    location / { proxy_limit_rate 10x; }
--- must_die
--- error_log eval
qr/"proxy_limit_rate" directive invalid value in \S+:\d+/



=== TEST 8: fastcgi_limit_rate twice
--- config
    location / { fastcgi_limit_rate 1k; fastcgi_limit_rate 2k; }
--- must_die
--- error_log eval
qr/"fastcgi_limit_rate" directive is duplicate in \S+:\d+/



=== TEST 9: proxy_send_lowat, fastcgi_send_lowat: not supported on Linux, a warning each
--- config
    proxy_send_lowat 8k;
    location /t { fastcgi_send_lowat 1k; return 200 "ok\n"; }
--- request
GET /t
--- init
    my ($code, $out, $err) = run_cmd($Binary, '-t', '-p', "$ServRoot/", '-c', $ConfFile);
    Test::More::like($err, qr/\[warn\] .*"proxy_send_lowat" is not supported, ignored in .*\.conf:\d+$/m,
                     'proxy_send_lowat warned on -t');
    Test::More::like($err, qr/\[warn\] .*"fastcgi_send_lowat" is not supported, ignored in .*\.conf:\d+$/m,
                     'fastcgi_send_lowat warned on -t');
--- response_body
ok



=== TEST 10: scgi_send_lowat does not exist (nginx has it for proxy and fastcgi only)
--- config
    location / { scgi_send_lowat 1k; }
--- must_die
--- error_log eval
qr/unknown directive "scgi_send_lowat" in \S+:\d+/
