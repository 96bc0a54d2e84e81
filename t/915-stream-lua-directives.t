# stream{} Lua directives shared with http{} or stream-lua's own (issue 20): lua_add_variable (a
# variable ngx.var may set, "not found" until then, logged by access_log), lua_code_cache off's
# alert and lua_load_resty_core's warning in stream{}, as stream-lua-nginx-module has them.
# moongate only: Debian has no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

my @p = map { Test::Moongate::find_free_port() } 1 .. 3;
my $s = Test::MoongateProc->new(name => 'stream_lua_dir', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/stream.log';
$s->write_conf(stream => <<"EOF");
    lua_add_variable \$who;
    lua_add_variable \$who;
    lua_add_variable \$remote_addr;
    lua_load_resty_core on;
    log_format v '\$server_port \$who';
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
is(log_of($p[0]), "$p[0] content", 'access_log: its value');
is((exchange($p[1], undef))[0], "who: nil\nremote_addr: false not found for writing\n",
   'not set: nil; an existing built-in variable stays read-only');
is(log_of($p[1]), "$p[1] -", 'access_log: "-" when not set');
like(slurp($s->error_log), qr/\[alert\] .*lua_code_cache is off; this will hurt performance/,
     'lua_code_cache off: the alert');
like(slurp($s->error_log), qr/\[warn\] .*lua_load_resty_core is deprecated/,
     'lua_load_resty_core: the warning');

$s->stop;
done_testing();
