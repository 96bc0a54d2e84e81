# Files on h2 streams, read into the stream's own buffer (c->send_file) or, for directio, in
# pieces through the writer's scratch: whole bodies byte for byte under a small window, with
# sendfile on and off, aio threads, directio, a multipart range response (memory and file
# buffers mixed), and many streams of one file at once on a connection.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/706-http2-files.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::H2;

plan 'no_plan';
log_level('info');

h2_blocks(no_error_log => "[crit]\n[alert]");

run_tests();

__DATA__

=== TEST 1: a 1 MB file under a 16 KiB stream window, sendfile off and on, aio threads, directio
--- config
    location /off/ { alias $TEST_NGINX_HTML_DIR/; sendfile off; }
    location /on/ { alias $TEST_NGINX_HTML_DIR/; sendfile on; }
    location /aio/ { alias $TEST_NGINX_HTML_DIR/; aio threads; }
    location /dio/ { alias $TEST_NGINX_HTML_DIR/; directio 4k; output_buffers 2 32k; }
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/big.bin" or die $!;
print $fh join('', map { chr($_ % 251) } 0 .. (1000000 - 1));
close $fh;
--- h2_py
import h2.settings
want = bytes(i % 251 for i in range(1000000))
c = Client($TEST_NGINX_SERVER_PORT, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 16384})
ids = [c.request(p) for p in ('/off/big.bin', '/on/big.bin', '/aio/big.bin', '/dio/big.bin')]
c.wait(*ids, timeout=30)
for s in ids:
    st = c.streams[s]
    print(st.status, st.header('content-length'), len(st.body), st.body == want, st.ended)
--- h2_out
200 1000000 1000000 True True
200 1000000 1000000 True True
200 1000000 1000000 True True
200 1000000 1000000 True True
--- timeout: 40



=== TEST 2: ranges: one range of the file, and several (multipart: boundaries in memory, parts from the file)
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/big.bin" or die $!;
print $fh join('', map { chr($_ % 251) } 0 .. (1000000 - 1));
close $fh;
--- h2_py
want = bytes(i % 251 for i in range(1000000))
c = Client($TEST_NGINX_SERVER_PORT)
a = c.request('/big.bin', headers=[('range', 'bytes=100000-299999')])
b = c.request('/big.bin', headers=[('range', 'bytes=0-9,500000-699999,999990-')])
c.wait(a, b, timeout=20)
print(c.streams[a].status, c.streams[a].header('content-range'), c.streams[a].body == want[100000:300000])
body = c.streams[b].body
print(c.streams[b].status, c.streams[b].header('content-type').split(';')[0])
print(want[0:10] in body, want[500000:700000] in body, want[999990:] in body, body.count(b'Content-Range: bytes '))
--- h2_out
206 bytes 100000-299999/1000000 True
206 multipart/byteranges
True True True 3
--- timeout: 30



=== TEST 3: 20 streams of the file at once on one connection, each whole
--- init
open my $fh, '>', "$Test::Moongate::HtmlDir/big.bin" or die $!;
print $fh join('', map { chr($_ % 251) } 0 .. (1000000 - 1));
close $fh;
--- h2_py
want = bytes(i % 251 for i in range(1000000))
c = Client($TEST_NGINX_SERVER_PORT)
ids = [c.request('/big.bin') for _ in range(20)]
c.wait(*ids, timeout=60)
print(sum(1 for s in ids if c.streams[s].status == '200' and c.streams[s].body == want and c.streams[s].ended))
--- h2_out
20
--- timeout: 60
