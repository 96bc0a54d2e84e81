# post_action on HTTP/2 when the connection goes under a running request, as Debian's nginx
# 1.22 does it, over TLS (listen ... ssl http2) and h2c: the request goes on as one whose client
# went away, its post_action runs (its upstream gets the request) and the line is logged once
# at the end: a proxied response cut mid-body, one still waiting for its upstream's head, a Lua
# handler sleeping after its head, one sleeping before it, one whose big body was being sent.
# (An audit listed this as a difference; moongate already did it: this keeps it so.)
#
#   prove -I t/lib t/980-diff-h2-post-action.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/980-diff-h2-post-action.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Test::Moongate::H2;

backend(pa => 'echo');
# a head at once, then a byte every 50 ms for 15 s
backend(drip => 'drip', count => 300, interval => 0.05);
$ENV{TEST_NGINX_PA_LOG} = Test::MoongateBackend::_log_file('pa');

# the client: five requests, the connection closed once each runs; the log and the
# post_action's upstream awaited (8 s at most). TLS: set by the block.
our $Py = <<'EOF';
open('$TEST_NGINX_PA_LOG', 'w').close()
open('$TEST_NGINX_SERVROOT/logs/h2.log', 'w').close()
c = Client($TEST_NGINX_SERVER_PORT, tls=TLS)
ids = {p: c.request(p) for p in ('/d', '/w', '/s', '/n', '/big')}
st = c.streams
c.run(lambda: len(st[ids['/d']].body) > 0 and st[ids['/s']].status is not None and len(st[ids['/big']].body) > 0)
c.sock.close()

def logged():
    return sorted(l for l in open('$TEST_NGINX_SERVROOT/logs/h2.log').read().splitlines() if l.startswith('/') and not l.startswith('/ '))
def tracked():
    return sorted(l.split()[3] for l in open('$TEST_NGINX_PA_LOG').read().splitlines() if '/tracked' in l)
deadline = time.time() + 8
while (len(logged()) < 5 or len(tracked()) < 5) and time.time() < deadline:
    time.sleep(0.05)
print('\n'.join(logged()))
print('post_action:', ' '.join(tracked()))
EOF

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2');
    $block->set_value(http_config => q{log_format pa '$request_uri status=$status';});
    $block->set_value(config => <<'EOF');
    access_log logs/h2.log pa;
    location /d { post_action /pa; proxy_buffering off; proxy_pass http://127.0.0.1:$TEST_NGINX_DRIP_PORT; }
    location /w { post_action /pa; proxy_set_header X-Echo-Delay 3; proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT; }
    location /s { post_action /pa; content_by_lua_block { ngx.send_headers() ngx.flush(true) ngx.sleep(0.5) ngx.say("late") } }
    location /n { post_action /pa; content_by_lua_block { ngx.sleep(0.5) ngx.say("late") } }
    location /big { post_action /pa; content_by_lua_block { ngx.print(string.rep("x", 1000000)) } }
    location /pa { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_PA_PORT/tracked$request_uri; }
EOF
    $block->set_value(h2_out => <<'EOF');
/big status=200
/d status=200
/n status=200
/s status=200
/w status=200
post_action: /tracked/big /tracked/d /tracked/n /tracked/s /tracked/w
EOF
});

run_tests();

__DATA__

=== TEST 1: over TLS: the connection closes under five requests, each runs its post_action and is logged once
--- ssl
--- h2_py eval
"TLS = True\n$main::Py"



=== TEST 2: h2c: the same
--- h2_py eval
"TLS = False\n$main::Py"
