# limit_rate, limit_rate_after and $limit_rate (ngx_http_core_module): the writer lets out
# limit_rate_after bytes, then limit_rate bytes a second (nginx's formula: the rate for every
# second since the request began, the first included), waiting on a timer. Sizes from
# variables, `set $limit_rate`, ngx.var.limit_rate, sendfile on and off, a proxied response,
# $limit_rate's values, and the errors.
#
# Timing: the server's own $request_time (its access log goes into error.log) and only a lower
# bound: 96 KiB at 32 KiB/s cannot leave in less than 96/32 - 2 = 1 s whatever the second the
# request began in (nginx and moongate take 3 s); without the limit it takes milliseconds.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/197-limit-rate.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;

plan 'no_plan';

backend(echo => 'echo');

our $Big = join '', map { sprintf "%07d\n", $_ } 0 .. 12287;    # 96 KiB

# at least a second
our $Slow = qr/\brt=(?:[1-9]|\d\d+)\.\d{3} /;

add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value('http_config', <<'EOF' . ($b->http_config // ''));
    log_format rate 'rt=$request_time lr=$limit_rate sent=$body_bytes_sent $request_uri';
EOF
    $b->set_value('user_files', ">>> big\n$Big" . ($b->user_files // ''));
});

run_tests();

__DATA__

=== TEST 1: a file at 32 KiB/s (sendfile off) takes a second and more
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /big { limit_rate 32k; }
--- request
GET /big
--- response_body eval
$main::Big
--- timeout: 10
--- error_log eval
[qr/rt=\S+ lr=32768 sent=98304 \/big/, $main::Slow]



=== TEST 2: sendfile on, the rate from "set $limit_rate"
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /big {
        sendfile on;
        set $limit_rate 32k;
    }
--- request
GET /big
--- response_body eval
$main::Big
--- timeout: 10
--- error_log eval
[qr/rt=\S+ lr=32768 sent=98304 \/big/, $main::Slow]



=== TEST 3: limit_rate_after, and both sizes from variables
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /big {
        limit_rate $arg_r;
        limit_rate_after $arg_a;
    }
--- request
GET /big?r=16k&a=48k
--- response_body eval
$main::Big
--- timeout: 10
--- error_log eval
[qr/rt=\S+ lr=16384 sent=98304 \/big\?r=16k&a=48k/, $main::Slow]



=== TEST 4: limit_rate_after larger than the response: no wait (under 2 s where 1k/s is 96 s)
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /big {
        limit_rate 1k;
        limit_rate_after 1m;
    }
--- request
GET /big
--- response_body eval
$main::Big
--- error_log eval
qr/rt=[01]\.\d{3} lr=1024 sent=98304 \/big/



=== TEST 5: ngx.var.limit_rate from Lua, on a proxied response
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /p {
        rewrite_by_lua_block { ngx.var.limit_rate = 32768 }
        proxy_set_header X-Echo-Size 98304;
        proxy_pass http://127.0.0.1:$TEST_NGINX_ECHO_PORT;
    }
--- request
GET /p
--- response_body_like: \A(?:.{32768}){3}\z
--- timeout: 10
--- error_log eval
[qr/rt=\S+ lr=32768 sent=98304 \/p/, $main::Slow]



=== TEST 6: $limit_rate: 0 until the response is written, the value "set" or Lua gave
--- config
    location /conf { limit_rate 10k; return 200 "[$limit_rate]\n"; }
    location /set { set $limit_rate 20k; return 200 "[$limit_rate]\n"; }
    location /lua {
        content_by_lua_block {
            ngx.say(ngx.var.limit_rate)
            ngx.var.limit_rate = 3000
            ngx.say(ngx.var.limit_rate)
            ngx.var.limit_rate = "5k"
            ngx.say(ngx.var.limit_rate)
        }
    }
--- request eval
["GET /conf", "GET /set", "GET /lua"]
--- response_body eval
["[0]\n", "[20480]\n", "0\n3000\n5120\n"]



=== TEST 7: a bad $limit_rate is logged and ignored
--- config
    location /bad { set $limit_rate 1g; return 200 "[$limit_rate]\n"; }
--- request
GET /bad
--- response_body
[0]
--- error_log eval
qr/\[error\] .*invalid \$limit_rate "1g", client: /



=== TEST 8: a bad size from a variable is logged, and the response goes out unlimited
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /big { limit_rate $arg_r; }
--- request
GET /big?r=abc
--- response_body eval
$main::Big
--- error_log eval
[qr/\[error\] .*invalid size "abc" while sending response to client, client: /, qr/rt=\S+ lr=0 sent=98304 /]



=== TEST 9: limit_rate in "if"
--- config
    access_log $TEST_NGINX_SERVROOT/logs/error.log rate;
    location /big {
        if ($arg_slow) { limit_rate 32k; }
    }
--- request
GET /big?slow=1
--- response_body eval
$main::Big
--- timeout: 10
--- error_log eval
[qr/rt=\S+ lr=32768 sent=98304 \/big\?slow=1/, $main::Slow]



=== TEST 10: sizes are k or m
--- config
    location / { limit_rate 1g; }
--- must_die
--- error_log eval
qr/"limit_rate" directive invalid value in \S+:\d+/



=== TEST 11: limit_rate_after too
--- config
    location / { limit_rate_after x; }
--- must_die
--- error_log eval
qr/"limit_rate_after" directive invalid value in \S+:\d+/



=== TEST 12: limit_rate twice
--- config
    location / { limit_rate 1k; limit_rate 2k; }
--- must_die
--- error_log eval
qr/"limit_rate" directive is duplicate in \S+:\d+/
