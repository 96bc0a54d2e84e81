# Found by running the same configs on nginx 1.22 and moongate (issue 13): ssl_buffer_size is
# the most a TLS record carries, as nginx gathers the output into a buffer of that size and
# writes it when full: a client reading records (the lengths in their headers, TLS 1.2 with
# AES-128-GCM: 24 bytes more than the data) sees none larger, and the response head rides in
# the first record with the file's start (small buffers are gathered), over HTTP/1.1 and
# HTTP/2. moongate wrote a large buffer in one SSL_write: 16 KiB records whatever the size.
#
#   prove -I t/lib t/773-diff-ssl-buffer-size.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/773-diff-ssl-buffer-size.t
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');

# A TLS 1.2 client that walks the records the server sends after the handshake (their headers)
# and decrypts them through memory BIOs: one GET (HTTP/1.0, or HTTP/2 with python3-h2), then
# "bytes N records L1 L2 ..." (N: the response bytes it read, the L the application data
# records' lengths in order).
our $Client = <<'PY';
import socket, ssl, sys
port, path, proto = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers('ECDHE-RSA-AES128-GCM-SHA256')
if proto == 'h2':
    ctx.set_alpn_protocols(['h2'])
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname='localhost')
sock = socket.create_connection(('127.0.0.1', port), timeout=10)
raw, recs = b'', []

def pump():
    global raw
    d = sock.recv(65536)
    if not d:
        return False
    raw += d
    while len(raw) >= 5 and len(raw) >= 5 + int.from_bytes(raw[3:5], 'big'):
        n = int.from_bytes(raw[3:5], 'big')
        recs.append((raw[0], n))
        inc.write(raw[:5 + n])
        raw = raw[5 + n:]
    return True

def send(data=b''):
    if data:
        tls.write(data)
    sock.sendall(out.read())

def read():
    """Decrypted bytes, b'' at the end."""
    while True:
        try:
            return tls.read(65536)
        except ssl.SSLWantReadError:
            if not pump():
                return b''
        except ssl.SSLZeroReturnError:
            return b''

while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        send()
        if not pump():
            sys.exit('the handshake broke off')
send()
first = len(recs)
got = 0
if proto == 'h2':
    import h2.config, h2.connection, h2.events, h2.settings
    h = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    h.initiate_connection()
    h.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20})
    h.increment_flow_control_window(1 << 20)
    h.send_headers(1, [(':method', 'GET'), (':path', path), (':scheme', 'https'),
                       (':authority', 'localhost')], end_stream=True)
    send(h.data_to_send())
    ended = False
    while not ended:
        d = read()
        if not d:
            break
        for ev in h.receive_data(d):
            if isinstance(ev, h2.events.DataReceived):
                got += len(ev.data)
            ended = ended or isinstance(ev, h2.events.StreamEnded)
else:
    send(('GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' % path).encode())
    while True:
        d = read()
        if not d:
            break
        got += len(d)
print('bytes', got, 'records', *[n for t, n in recs[first:] if t == 23])
PY

# records(path, proto): the response's bytes and its records' data lengths (each less the 24
# bytes of AES-GCM's nonce and tag)
sub records {
    my ($path, $proto) = @_;
    my $file = "$Test::Moongate::ServRoot/records.py";
    open my $fh, '>', $file or die "$file: $!";
    print $fh $Client;
    close $fh;
    # Debian's python3 has python3-h2 (a python3 earlier on PATH may not)
    my $py3 = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
    my $out = `timeout 30 $py3 $file $Test::Moongate::ServerPort $path $proto 2>&1`;
    $out =~ /^bytes (\d+) records ([\d ]*)$/m or die "records.py: $out";
    return ($1, map { $_ - 24 } split ' ', $2);
}

sub max { my $m = 0; $_ > $m and $m = $_ for @_; $m }

# a 64 KiB file in html/
sub big_file {
    open my $fh, '>', "$Test::Moongate::HtmlDir/big.bin" or die $!;
    print $fh 'abcdefghijklmnop' x 4096;
    close $fh;
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(ssl => '') unless defined $block->ssl;
});

run_tests();

__DATA__

=== TEST 1: ssl_buffer_size 1k: records of 1 KiB at most, the head gathered with the file's start
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 1k;
    location / { root html; }
--- init
main::big_file();
my ($bytes, @len) = main::records('/big.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 65536, 'the whole response came');
Test::More::is(main::max(@len), 1024, 'no record carries more than 1 KiB');
# the head (a small buffer) does not go in a record of its own: every record is full but the last
Test::More::is(scalar(@len), int(($bytes + 1023) / 1024), 'records full but the last');
--- request
GET /big.bin
--- response_body_like: \A(abcdefghijklmnop){4096}\z



=== TEST 2: ssl_buffer_size 100: a size below any TLS limit is kept as well
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 100;
    location / { root html; }
--- init
main::big_file();
my ($bytes, @len) = main::records('/big.bin', 'h1');
Test::More::cmp_ok($bytes, '>', 65536, 'the whole response came');
Test::More::is(main::max(@len), 100, 'no record carries more than 100 bytes');
Test::More::is(scalar(@len), int(($bytes + 99) / 100), 'records full but the last');
--- request
GET /big.bin
--- response_body_like: \A(abcdefghijklmnop){4096}\z



=== TEST 3: the default (16k): records of 16 KiB, the head in the first with the file's start
--- config
    ssl_protocols TLSv1.2;
    location / { root html; }
--- init
main::big_file();
my ($bytes, @len) = main::records('/big.bin', 'h1');
Test::More::is(main::max(@len), 16384, 'records of 16 KiB');
Test::More::is(scalar(@len), int(($bytes + 16383) / 16384), 'records full but the last');
--- request
GET /big.bin
--- response_body_like: \A(abcdefghijklmnop){4096}\z



=== TEST 4: HTTP/2 over TLS: ssl_buffer_size 1k caps its records too
--- listen_options: http2
--- config
    ssl_protocols TLSv1.2;
    ssl_buffer_size 1k;
    location / { root html; }
--- init
main::big_file();
my ($bytes, @len) = main::records('/big.bin', 'h2');
Test::More::is($bytes, 65536, 'the whole body came');
Test::More::is(main::max(@len), 1024, 'no record carries more than 1 KiB');
--- request
GET /big.bin
--- response_body_like: \A(abcdefghijklmnop){4096}\z
