# stream{} Lua cosockets over TLS (issue 20): lua_ssl_trusted_certificate, lua_ssl_protocols, lua_ssl_ciphers, lua_ssl_certificate(_key) in stream{} and its servers,
# as stream-lua-nginx-module has them, for tcpsock:sslhandshake; the peer is a TLS stream server
# of the same configuration that says what it saw (protocol, cipher, client certificate).
# moongate only: Debian has no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs;
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my $c = Test::Moongate::Certs::make();
my @p = map { Test::Moongate::find_free_port() } 1 .. 5;
my $s = Test::MoongateProc->new(name => 'stream_lua_ssl', workers => 1, error_level => 'info');

# a content that shakes hands with the TLS peer (verifying, for the name "localhost") and
# says what the peer answered
my $client = <<"EOF";
        content_by_lua_block {
            local c = ngx.socket.tcp()
            assert(c:connect("127.0.0.1", $p[0]))
            local sess, err = c:sslhandshake(nil, "localhost", true)
            if not sess then ngx.say("handshake: ", err) return end
            ngx.say("peer: ", c:receive())
            c:close()
        }
EOF
$s->write_conf(stream => <<"EOF");
    lua_ssl_trusted_certificate $c/ca.crt;

    # the TLS peer
    server { listen 127.0.0.1:$p[0] ssl;
        ssl_certificate $c/localhost.crt; ssl_certificate_key $c/localhost.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_verify_client optional; ssl_client_certificate $c/ca.crt;
        content_by_lua_block {
            ngx.say(ngx.var.ssl_protocol, " ", ngx.var.ssl_cipher, " dn=",
                    ngx.var.ssl_client_s_dn)
        }
    }

    # the stream{} level's trusted CA: verified
    server { listen 127.0.0.1:$p[1];
$client
    }
    # TLSv1.3 only, a client certificate
    server { listen 127.0.0.1:$p[2];
        lua_ssl_protocols TLSv1.3;
        lua_ssl_certificate $c/client.crt;
        lua_ssl_certificate_key $c/client.key;
$client
    }
    # a CA that did not sign the peer's certificate: verify error
    server { listen 127.0.0.1:$p[3];
        lua_ssl_trusted_certificate $c/self.crt;
$client
    }
    # one cipher
    server { listen 127.0.0.1:$p[4];
        lua_ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
$client
    }
EOF
$s->start or stop_here('the server did not start');

my $mark = $s->log_mark;
is((exchange($p[1], undef))[0], "peer: TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 dn=nil\n",
   'lua_ssl_trusted_certificate in stream{}: the peer verified; lua-nginx-module\'s protocols');
like((exchange($p[2], undef))[0], qr/^peer: TLSv1\.3 TLS_\S+ dn=CN=client\n$/,
     'lua_ssl_protocols, lua_ssl_certificate(_key) in a stream server');
# (the peer sends its certificate alone, as nginx: the chain is its file's, and the CA of its
# ssl_client_certificate is not added)
is((exchange($p[3], undef))[0], "handshake: 21: unable to verify the first certificate\n",
   'a CA that did not sign the peer: verify error');
ok($s->wait_log(qr/\[error\] .*lua ssl certificate verify error: \(21: /, $mark),
   'error_log: lua ssl certificate verify error');
is((exchange($p[4], undef))[0], "peer: TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 dn=nil\n",
   'lua_ssl_ciphers');
unlike($s->log_since($mark), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');

$s->stop;
done_testing();
