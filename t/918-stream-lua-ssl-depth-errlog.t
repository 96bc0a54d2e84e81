# stream{} Lua (issue 20), as stream-lua-nginx-module has them: lua_ssl_verify_depth for
# tcpsock:sslhandshake (a chain deeper than the depth fails with the verify error, a depth
# that covers it passes), lua_capture_error_log with require "ngx.errlog" in stream Lua, and
# lua_sa_restart in stream{} (on by default: a pipe read of Lua code goes on through a signal
# the worker handles; off: it fails with EINTR).
# moongate only: Debian has no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::Moongate::Certs qw(issue);
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my $c = Test::Moongate::Certs::make();

# the test CA -> i1 -> i2; "one" is a localhost certificate i1 signed (sent with i1), "two" one
# i2 signed (sent with i2 and i1)
my $cd = "$c/stream-depth";
unless (-f "$cd/done") {
    mkdir $cd;
    Test::Moongate::Certs::spew("$cd/ca.ext", $Test::Moongate::Certs::CaExt);
    Test::Moongate::Certs::spew("$cd/leaf.ext", "subjectAltName = DNS:localhost\n");
    my $serial = 0x7001;
    my $issue = sub {
        my ($name, $cn, $ca, $ext) = @_;
        issue("$cd/$name", $cn, $ca eq 'ca' ? "$c/ca" : "$cd/$ca", $serial++, ext => "$cd/$ext.ext");
    };
    $issue->('i1', 'Moongate Stream Intermediate 1', 'ca', 'ca');
    $issue->('i2', 'Moongate Stream Intermediate 2', 'i1', 'ca');
    $issue->('one', 'localhost', 'i1', 'leaf');
    $issue->('two', 'localhost', 'i2', 'leaf');
    my $r = sub { Test::Moongate::slurp("$cd/$_[0].crt") };
    Test::Moongate::Certs::spew("$cd/one-chain.crt", $r->('one') . $r->('i1'));
    Test::Moongate::Certs::spew("$cd/two-chain.crt", $r->('two') . $r->('i2') . $r->('i1'));
    Test::Moongate::Certs::spew("$cd/done", '');
}

my @p = map { Test::Moongate::find_free_port() } 1 .. 8;
my $s = Test::MoongateProc->new(name => 'stream_lua_more', workers => 1, error_level => 'info');

# a content that shakes hands with the TLS peer on PORT, verifying, and says what came of it
sub client {
    my $port = shift;
    return <<"LUA";
        content_by_lua_block {
            local c = ngx.socket.tcp()
            assert(c:connect("127.0.0.1", $port))
            local sess, err = c:sslhandshake(nil, "localhost", true)
            if not sess then ngx.say("handshake: ", err) return end
            ngx.say("peer: ", c:receive())
            c:close()
        }
LUA
}
my $conf = <<"CONF";
    lua_ssl_trusted_certificate $c/ca.crt;

    # the TLS peers: one intermediate, two intermediates
    server { listen 127.0.0.1:$p[0] ssl;
        ssl_certificate $cd/one-chain.crt; ssl_certificate_key $cd/one.key;
        return "one\\n";
    }
    server { listen 127.0.0.1:$p[1] ssl;
        ssl_certificate $cd/two-chain.crt; ssl_certificate_key $cd/two.key;
        return "two\\n";
    }

    # lua_ssl_verify_depth 1 (the default): one intermediate passes, two do not
    server { listen 127.0.0.1:$p[2];
@{[client($p[0])]}
    }
    server { listen 127.0.0.1:$p[3];
@{[client($p[1])]}
    }
    # 2: two pass
    server { listen 127.0.0.1:$p[4];
        lua_ssl_verify_depth 2;
@{[client($p[1])]}
    }
    # 0: one does not
    server { listen 127.0.0.1:$p[5];
        lua_ssl_verify_depth 0;
@{[client($p[0])]}
    }
CONF
$s->write_conf(stream => $conf);
$s->start or stop_here('the server did not start');

my $mark = $s->log_mark;
is((exchange($p[2], undef))[0], "peer: one\n", 'lua_ssl_verify_depth 1 (default): one intermediate verified');
like((exchange($p[3], undef))[0], qr/^handshake: 20: unable to get local issuer certificate\n$/,
     '... two intermediates: the verify error');
ok($s->wait_log(qr/\[error\] .*lua ssl certificate verify error: \(20: unable to get local issuer certificate\)/, $mark),
   'error_log: lua ssl certificate verify error');
is((exchange($p[4], undef))[0], "peer: two\n", 'lua_ssl_verify_depth 2 in a stream server: two intermediates verified');
like((exchange($p[5], undef))[0], qr/^handshake: 20: unable to get local issuer certificate\n$/,
     'lua_ssl_verify_depth 0: one intermediate is too deep');
unlike($s->log_since($mark), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');

# lua_capture_error_log and lua_sa_restart. A stream server that logs a line and says what
# its get_logs holds of it; one whose Lua code reads a pipe while the worker gets a USR1
# (which only reopens the logs): the read ends 0.8 s after the signal
my $errlog = <<"LUA";
    server { listen 127.0.0.1:$p[6];
        content_by_lua_block {
            local errlog = require "ngx.errlog"
            ngx.log(ngx.WARN, "stream mark ", ngx.var.server_port)
            local logs, err = errlog.get_logs(100)
            if not logs then ngx.say("get_logs: ", err) return end
            for i = 1, #logs, 3 do
                if logs[i + 2]:find("stream mark", 1, true) then
                    ngx.say(logs[i], " ", (logs[i + 2]:gsub("^%d+/%d+/%d+ %d+:%d+:%d+ ", ""):gsub("%d+#%d+", "P")))
                end
            end
            ngx.say("end")
        }
    }
    server { listen 127.0.0.1:$p[7];
        content_by_lua_block {
            local f = io.popen("(sleep 0.3; kill -USR1 " .. ngx.worker.pid() .. ") & sleep 1.1; echo done")
            ngx.say(f:read("*l"))
            f:close()
        }
    }
LUA
# http{}: its own ring, which sees stream{}'s lines too
my $http_server = <<'CONF';
        location /logs {
            content_by_lua_block {
                local logs = require("ngx.errlog").get_logs(100)
                for i = 1, #logs, 3 do
                    local m = logs[i + 2]:match("stream mark %d+")
                    if m then ngx.say(m) end
                end
            }
        }
CONF
sub sa_read { (exchange($p[7], undef, timeout => 10))[0] }

# http{} captures and has lua_sa_restart off; stream{} neither directive
$s->write_conf(stream => $conf . $errlog, server => $http_server,
               http => "    lua_capture_error_log 64k;\n    lua_sa_restart off;\n");
is(($s->reload)[0], 0, 'reload: http{} with lua_capture_error_log and lua_sa_restart off');
is((exchange($p[6], undef))[0], "get_logs: directive \"lua_capture_error_log\" is not set\n",
   'stream{} without lua_capture_error_log: get_logs says it is not set (http{}\'s is its own)');
is(Test::MoongateProc::http_get($s->port, '/logs')->{body}, "stream mark $p[6]\n",
   '... while http{}\'s ring got the stream line');
is(sa_read(), "done\n", 'lua_sa_restart on (stream{}\'s default): the pipe read goes on through the signal');

# stream{} captures too, and has lua_sa_restart off
$s->write_conf(stream => "    lua_capture_error_log 64k;\n    lua_sa_restart off;\n" . $conf . $errlog);
is(($s->reload)[0], 0, 'reload: stream{} with lua_capture_error_log and lua_sa_restart off');
like((exchange($p[6], undef))[0],
     qr/^5 \[warn\] P: \*\d+ \[lua\] content_by_lua\(\w+\.conf:\d+\):\d+: stream mark $p[6], client: 127\.0\.0\.1, server: 127\.0\.0\.1:$p[6]\nend\n$/,
     'lua_capture_error_log in stream{}: get_logs has the line as written, level 5 (warn)');
is((exchange($p[6], undef))[0] =~ tr/\n//, 2, '... and get_logs took out what it returned: only the new line');
is(Test::MoongateProc::http_get($s->port, '/logs')->{body}, "stream mark $p[6]\nstream mark $p[6]\n",
   'http{}\'s ring has both lines still: each block its own ring');
is(sa_read(), "nilInterrupted system call4\n", 'lua_sa_restart off in both blocks: the read fails with EINTR');

# a directive of the stream{} level only
$s->write_conf(stream => $conf . $errlog =~ s/(content_by_lua_block)/lua_sa_restart on; $1/r);
my ($code, $out, $err) = $s->cmd('-t');
like($err, qr/"lua_sa_restart" directive is not allowed here in \Q@{[$s->conf_file]}\E:\d+/,
     'lua_sa_restart in a stream server: not allowed here, FILE:LINE');

$s->stop;
done_testing();
