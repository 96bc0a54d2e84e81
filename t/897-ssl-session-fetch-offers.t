# Which ClientHellos run ssl_session_fetch_by_lua*, as Debian's nginx 1.22 with its Lua module
# (OpenSSL 3.0) runs it: OpenSSL looks a session id up only once it has chosen the version and
# found no ticket to resume by. A TLS 1.2 ticket it cannot open (a key it no longer has) gives
# a full handshake without a lookup, an empty ticket extension falls back to the id, and a
# client offering only versions the server does not have fails before any lookup. moongate
# runs the fetch in its ClientHello callback, so it must foresee both; t/890 has the resumptions.
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::INET;
use MIME::Base64 ();

Test::Moongate::Certs::make();
log_level('info');

# A ClientHello: legacy => the legacy version (TLS 1.2), versions => [supported_versions]
# (none: no extension), id => the legacy session id, ticket => the session_ticket
# extension's bytes (undef: no extension), psk => a pre_shared_key identity (with an x25519
# key share and psk_key_exchange_modes [modes], psk_dhe_ke by default)
sub hello {
    my (%o) = @_;
    my $ext = pack('n n/a*', 10, pack('n/a*', pack('n*', 23, 29)))
            . pack('n n/a*', 11, pack('C/a*', "\0"))
            . pack('n n/a*', 13, pack('n/a*', pack('n*', 0x0403, 0x0804, 0x0401)));
    $ext .= pack('n n/a*', 35, $o{ticket}) if defined $o{ticket};
    $ext .= pack('n n/a*', 43, pack('C/a*', pack('n*', @{ $o{versions} }))) if $o{versions};
    if (defined $o{psk}) { # pre_shared_key last, as the RFC wants
        $ext .= pack('n n/a*', 51, pack('n/a*', pack('n n/a*', 29, "\x09" x 32)))
              . pack('n n/a*', 45, pack('C/a*', pack('C*', @{ $o{modes} // [1] })))
              . pack('n n/a*', 41, pack('n/a*', pack('n/a* N', $o{psk}, 0))
                                   . pack('n/a*', pack('C/a*', "\0" x 32)));
    }
    my $body = pack('n', $o{legacy} // 0x0303) . ("\x01" x 32) . pack('C/a*', $o{id} // '')
             . pack('n/a*', pack('n*', 0x1301, 0xc02f, 0xc02b, 0x002f)) . pack('C/a*', "\0")
             . pack('n/a*', $ext);
    my $msg = "\x01" . substr(pack('N', length $body), 1) . $body;
    return "\x16\x03\x01" . pack('n', length $msg) . $msg;
}

# Sends a ClientHello on a plain socket: the type of the server's first record ("handshake" or
# "alert"), or "" when it closed without one (5 s at most)
sub offer {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $Test::Moongate::ServerPort,
                                  Timeout => 5) or die "connect: $!";
    print $c hello(@_);
    my ($got, $rin) = ('', '');
    vec($rin, fileno($c), 1) = 1;
    while (length($got) < 1 && select(my $r = $rin, undef, undef, 5) > 0) {
        last unless sysread($c, my $b, 65536);
        $got .= $b;
    }
    close $c;
    my $t = length $got ? ord $got : 0;
    return $t == 22 ? 'handshake' : $t == 21 ? 'alert' : '';
}

# the error log's FETCH lines so far
sub fetches {
    open my $fh, '<', "$Test::Moongate::LogDir/error.log" or return ();
    return map { /FETCH id=(\w*)/ ? $1 : () } <$fh>;
}

# openssl s_client with $args, a request sent, read until the server closes
sub s_client {
    my ($args) = @_;
    my $port = $Test::Moongate::ServerPort;
    my $req = "$Test::Moongate::ServRoot/req.txt";
    open my $fh, '>', $req or die $!;
    print $fh "GET / HTTP/1.0\r\n\r\n";
    close $fh;
    return scalar `timeout 10 openssl s_client -connect 127.0.0.1:$port -ign_eof $args < $req 2>&1`;
}

# A saved session (openssl s_client -sess_out) whose ticket's first byte is changed: the
# ticket names a key the server does not have
sub spoil_ticket {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    my $pem = do { local $/; <$fh> };
    close $fh;
    my ($head, $b64, $tail) = $pem =~ /\A(-----BEGIN [^\n]*\n)(.*?)(-----END .*)\z/s
        or die "no PEM in $file";
    my $der = MIME::Base64::decode_base64($b64);
    my $len = sub { # (length, its size) of the DER length at $p
        my ($p) = @_;
        my $l = ord substr($der, $p, 1);
        return ($l, 1) if $l < 0x80;
        my $n = $l & 0x7f;
        return (unpack('N', ("\0" x (4 - $n)) . substr($der, $p + 1, $n)), 1 + $n);
    };
    my (undef, $ll) = $len->(1);
    my $p = 1 + $ll;
    while ($p < length $der) { # the SEQUENCE's fields: [10] holds the ticket's OCTET STRING
        my $tag = ord substr($der, $p, 1);
        my ($l, $s) = $len->($p + 1);
        if ($tag == 0xaa) {
            my (undef, $s2) = $len->($p + 1 + $s + 1);
            my $at = $p + 1 + $s + 1 + $s2;
            substr($der, $at, 1) = chr(ord(substr($der, $at, 1)) ^ 0xff);
            open $fh, '>', $file or die "$file: $!";
            print $fh $head, MIME::Base64::encode_base64($der), $tail;
            close $fh;
            return 1;
        }
        $p += 1 + $s + $l;
    }
    return 0;
}

run_tests();

__DATA__

=== TEST 1: TLS 1.2, a ticket the server cannot open: a full handshake without a fetch; an empty ticket extension or none: the fetch gets the session id
--- ssl
--- http_config
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.log(ngx.NOTICE, "FETCH id=", sess.get_session_id())
    }
--- config
    ssl_session_cache shared:SSL:1m;
    location / { return 200 "ok\n"; }
--- init
my $f = "$Test::Moongate::ServRoot/sess.pem";
unlink $f;
my $first = main::s_client("-tls1_2 -sess_out $f");
Test::More::like($first, qr/^New, TLSv1\.2/m, 'a full handshake, its session saved');
Test::More::ok(main::spoil_ticket($f), 'the saved session had a ticket: its key name changed');
my $second = main::s_client("-tls1_2 -sess_in $f");
Test::More::like($second, qr/^New, TLSv1\.2/m, 'the spoiled ticket: a full handshake');
Test::More::like($second, qr/^ok$/m, 'the spoiled ticket: the request answered');
Test::More::is(scalar(main::fetches()), 0, 'the spoiled ticket: no fetch');
my $id = "\xab" x 32;
Test::More::is(main::offer(id => $id, ticket => 'x' x 100), 'handshake', 'garbage ticket: answered');
Test::More::is(scalar(main::fetches()), 0, 'garbage ticket and an id: no fetch');
main::offer(id => $id, ticket => '');
Test::More::is(join(' ', main::fetches()), 'ab' x 32, 'an empty ticket: the fetch gets the id');
main::offer(id => $id);
Test::More::is(scalar(main::fetches()), 2, 'no ticket extension: the fetch gets the id');
--- request
GET /
--- response_body
ok



=== TEST 2: ssl_protocols TLSv1.2 and a client offering only TLS 1.3 (or only TLS 1.0): a protocol_version alert, no fetch
--- ssl
--- http_config
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.log(ngx.NOTICE, "FETCH id=", sess.get_session_id())
    }
--- config
    ssl_protocols TLSv1.2;
    location / { return 200 "ok\n"; }
--- init
my $id = "\xcd" x 32;
Test::More::is(main::offer(id => $id, versions => [0x0304]), 'alert', 'TLS 1.3 only: an alert');
Test::More::is(main::offer(id => $id, legacy => 0x0301), 'alert', 'TLS 1.0 only: an alert');
Test::More::is(scalar(main::fetches()), 0, 'no fetch before either alert');
Test::More::is(main::offer(id => $id, versions => [0x0a0a, 0x0304, 0x0303]), 'handshake',
               'TLS 1.3 and 1.2 offered: TLS 1.2');
Test::More::is(join(' ', main::fetches()), 'cd' x 32, 'then the fetch gets the legacy id');
--- request
GET /
--- response_body
ok



=== TEST 3: TLS 1.3 with tickets on: a pre-shared key identity of a session id's 32 bytes is a ticket to OpenSSL, one it cannot open: a full handshake, no fetch
--- ssl
--- http_config
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.log(ngx.NOTICE, "FETCH id=", sess.get_session_id())
    }
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\n"; }
--- init
Test::More::is(main::offer(versions => [0x0304], psk => "\xef" x 32), 'handshake',
               '32-byte identity: a full handshake');
Test::More::is(main::offer(versions => [0x0304], psk => "\xef" x 16), 'handshake',
               '16-byte identity: a full handshake');
Test::More::is(scalar(main::fetches()), 0, 'no fetch');
--- request
GET /
--- response_body
ok



=== TEST 4: TLS 1.3 with ssl_session_tickets off: the fetch gets a 32-byte identity (a stateful ticket), not a shorter one, nor one without a key exchange mode OpenSSL knows
# moongate_only: nginx 1.22's lua-nginx-module runs no fetch for TLS 1.3 (t/890 TEST 4)
--- moongate_only
--- ssl
--- http_config
    ssl_session_fetch_by_lua_block {
        local sess = require "ngx.ssl.session"
        ngx.log(ngx.NOTICE, "FETCH id=", sess.get_session_id())
    }
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;
    location / { return 200 "ok\n"; }
--- init
main::offer(versions => [0x0304], psk => "\xef" x 16);
main::offer(versions => [0x0304], psk => "\xef" x 32, modes => [2]);
Test::More::is(scalar(main::fetches()), 0, 'a 16-byte identity, an unknown mode: no fetch');
main::offer(versions => [0x0304], psk => "\xef" x 32);
Test::More::is(join(' ', main::fetches()), 'ef' x 32, 'a 32-byte identity: the fetch gets it');
--- request
GET /
--- response_body
ok
