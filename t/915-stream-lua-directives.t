# stream{} Lua directives shared with http{} or stream-lua's own (issue 20): lua_add_variable (a
# variable ngx.var may set, "not found" until then, logged by access_log), lua_check_client_abort
# and ngx.on_abort (a client that goes while the code sleeps: the handler runs, or 499),
# lua_code_cache off's alert and lua_load_resty_core's warning in stream{}, as
# stream-lua-nginx-module has them.
# moongate only: Debian has no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;
use IO::Socket::INET;

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my @p = map { Test::Moongate::find_free_port() } 1 .. 6;
my $s = Test::MoongateProc->new(name => 'stream_lua_dir', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/stream.log';
$s->write_conf(stream => <<"EOF");
    lua_add_variable \$who;
    lua_add_variable \$who;
    lua_add_variable \$remote_addr;
    lua_load_resty_core on;
    log_format v '\$server_port \$who \$status \$session_time';
    access_log $alog v;

    server { listen 127.0.0.1:$p[0];
        preread_by_lua_block { ngx.var.who = "preread" }
        content_by_lua_block {
            ngx.say("who: ", ngx.var.who)
            ngx.var.who = "content"
            ngx.say("who: ", ngx.var.who)
        }
    }
    server { listen 127.0.0.1:$p[1];
        lua_code_cache off;
        content_by_lua_block {
            ngx.say("who: ", ngx.var.who)
            local ok, err = pcall(function() ngx.var.remote_addr = "x" end)
            ngx.say("remote_addr: ", ok, " ", err:match("not found for writing") or err)
        }
    }
    # the client goes while the code sleeps
    server { listen 127.0.0.1:$p[2];
        lua_check_client_abort on;
        content_by_lua_block {
            assert(ngx.on_abort(function()
                ngx.log(ngx.WARN, "on_abort: the client went")
                ngx.exit(444)
            end))
            local ok, err = ngx.on_abort(function() end)
            ngx.say(ok, " ", err)
            ngx.sleep(10)
            ngx.var.who = "slept"
        }
    }
    server { listen 127.0.0.1:$p[3];
        lua_check_client_abort on;
        content_by_lua_block { ngx.say("ready") ngx.sleep(10) ngx.var.who = "slept" }
    }
    server { listen 127.0.0.1:$p[4];
        content_by_lua_block {
            local ok, err = ngx.on_abort(function() end)
            ngx.say(ok, " ", err)
            ngx.sleep(0.5) ngx.var.who = "slept" }
    }
    # the code reads the client: its read sees the close
    server { listen 127.0.0.1:$p[5];
        lua_check_client_abort on;
        content_by_lua_block {
            local sock = ngx.req.socket()
            ngx.say("ready")
            local d, err = sock:receive()
            ngx.var.who = "read:" .. tostring(err)
        }
    }
EOF
$s->start or stop_here('the server did not start');

sub log_lines { -f $alog ? split /\n/, slurp($alog) : () }
sub log_of {
    my $port = shift;
    my $line;
    wait_for(sub { ($line) = grep { /^$port / } log_lines(); defined $line }, 10);
    return $line // '';
}

is((exchange($p[0], undef))[0], "who: preread\nwho: content\n",
   'lua_add_variable: ngx.var sets it in preread and content');
like(log_of($p[0]), qr/^$p[0] content 200 /, 'access_log: its value');
is((exchange($p[1], undef))[0], "who: nil\nremote_addr: false not found for writing\n",
   'not set: nil; an existing built-in variable stays read-only');
like(log_of($p[1]), qr/^$p[1] - 200 /, 'access_log: "-" when not set');

# a client that reads the first line and goes
sub hang_up {
    my $port = shift;
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or die;
    my $line = <$c>;
    close $c;
    return $line;
}
is(hang_up($p[2]), "nil duplicate call\n", 'ngx.on_abort: a second one is a duplicate call');
like(log_of($p[2]), qr/^$p[2] - 444 (\d+\.\d+)$/, 'the client went: on_abort\'s ngx.exit(444) ends it');
ok((log_of($p[2]) =~ / ([\d.]+)$/)[0] < 5, 'at once, not after the sleep');
like(slurp($s->error_log), qr/\[info\] .*client prematurely closed connection.*\n.*\[warn\] .*on_abort: the client went/,
     'error_log: the close, then the handler');
is(hang_up($p[3]), "ready\n", 'lua_check_client_abort without a handler');
like(log_of($p[3]), qr/^$p[3] - 499 /, 'the client went: 499');
ok((log_of($p[3]) =~ / ([\d.]+)$/)[0] < 5, 'at once, not after the sleep');
is(hang_up($p[5]), "ready\n", 'a client that goes while the code reads it');
like(log_of($p[5]), qr/^$p[5] read:closed 200 /, 'the read says "closed"; no abort');
is(hang_up($p[4]), "nil lua_check_client_abort is off\n", 'off: ngx.on_abort says so');
like(log_of($p[4]), qr/^$p[4] slept 200 /, 'off: the code runs to its end');
like(slurp($s->error_log), qr/\[alert\] .*lua_code_cache is off; this will hurt performance/,
     'lua_code_cache off: the alert');
like(slurp($s->error_log), qr/\[warn\] .*lua_load_resty_core is deprecated/,
     'lua_load_resty_core: the warning');

$s->stop;
done_testing();
