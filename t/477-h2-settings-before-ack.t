# Where nghttp2 answers otherwise than nginx 1.22 and RFC 9113 allows both (issue 17, w-h2win):
# until the client acknowledges the server's SETTINGS, nghttp2 holds the client to the defaults
# (RFC 9113 6.5.3: the sender of SETTINGS can rely on its values only once they are
# acknowledged; a client that sent before reading them had only the defaults to go by): a
# stream's window of 65535 and frames of at most 16384 bytes. nginx applies its own values
# (http2_body_preread_size, its MAX_FRAME_SIZE of 2^24-1) from the start. So a client that sends
# 65536 bytes of body, or a 16385-byte DATA frame, before it read the server's SETTINGS gets
# RST_STREAM FLOW_CONTROL_ERROR, or GOAWAY FRAME_SIZE_ERROR, from moongate and is served by
# nginx. No nghttp2 option applies local settings before their ACK, and a conforming client
# never meets this; the blocks pin moongate's answer, and the same bytes sent after the ACK
# are taken by both (checked on nginx too).
#
#   prove -I t/lib t/477-h2-settings-before-ack.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(listen_options => 'http2');
    $block->set_value(config => <<'_EOC_');
    location /sleep { content_by_lua_block { ngx.sleep(0.5) ngx.say("slept") } }
_EOC_
    my $py = $block->h2_py;
    $block->set_value(h2_py => <<'_EOP_' . $py) if defined $py;
def ended(r, sid):
    return lambda: r.closed or any(s == sid and (n == 'RST_STREAM' or (n in ('DATA', 'HEADERS') and f & 1)) for n, f, s, p in r.frames)

def answer(r, sid, timeout=5):
    """the stream's status or reset code, or the GOAWAY's last stream and code"""
    r.read(timeout, until=ended(r, sid))
    return r.resets().get(sid, r.statuses.get(sid)) if not r.goaway() else r.goaway()

def early(port, data):
    """data sent with the preface, before the server's SETTINGS are read (not acknowledged)"""
    r = Raw(port)
    r.send(r.frame(1, 4, 1, r.block('/sleep', method='POST')) + data)
    return r

def acked(port, data):
    """data sent once the server's SETTINGS are acknowledged"""
    r = Raw(port)
    r.read(5, until=lambda: any(n == 'SETTINGS' and not f & 1 for n, f, s, p in r.frames))
    r.send(r.frame(1, 4, 1, r.block('/sleep', method='POST')) + data)
    return r

body = Raw.frame(0, 0, 1, b'x' * 16384) * 4 + Raw.frame(0, 1, 1, b'')
big = Raw.frame(0, 1, 1, b'x' * 16385)
_EOP_
});

run_tests();

__DATA__

=== TEST 1: 65536 bytes of body before the ACK: past the default window, RST_STREAM FLOW_CONTROL_ERROR (nginx: served)
--- moongate_only
--- h2_py
print(answer(early($TEST_NGINX_SERVER_PORT, body), 1))
--- h2_out
3
--- error_log
client violated flow control for stream 1: received DATA frame length 16384, available window 16383



=== TEST 2: a 16385-byte DATA frame before the ACK: past the default frame size, GOAWAY FRAME_SIZE_ERROR (nginx: served)
--- moongate_only
--- h2_py
print(answer(early($TEST_NGINX_SERVER_PORT, big), 1))
--- h2_out
(1, 6)



=== TEST 3: the same bytes after the ACK: served
--- h2_py
print(answer(acked($TEST_NGINX_SERVER_PORT, body), 1))
print(answer(acked($TEST_NGINX_SERVER_PORT, big), 1))
--- h2_out
200
200
--- no_error_log
violated
