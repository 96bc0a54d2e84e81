# Reloading Lua code with a real master and workers: after HUP, edited *_by_lua_file scripts and
# modules required through lua_package_path serve every new request (new workers, new VMs),
# while a request running in an old worker finishes on the old code; a Lua syntax error in a
# file the config names refuses the reload (moongate compiles at load; nginx only at the first
# request, so those checks are moongate's), the old generation serving on; a broken module
# that only `require` reaches gives 500s with the error in the log, as in OpenResty.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/409-lua-reload.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;

my $N = proc_name;
my $s = Test::MoongateProc->new(name => 'lua-reload', workers => 2);
my $lua = $s->dir . '/lua';
mkdir $lua;

my $main = is_nginx() ? join('', map { "load_module /usr/lib/nginx/modules/$_.so;\n" }
                                  qw(ndk_http_module ngx_http_lua_module)) : '';
$s->write_conf(
    main => $main,
    http => qq{    lua_package_path "\$prefix/lua/?.lua;;";\n}
          . qq{    init_by_lua_file lua/init.lua;\n},
    server => <<'EOF');
        location /mod { content_by_lua_block { ngx.say(require("mymod").version(), " ", init_says) } }
        location /file { content_by_lua_file lua/handler.lua; }
        location /slow { content_by_lua_file lua/slow.lua; }
EOF

sub put_lua {
    my ($name, $text) = @_;
    spew("$lua/$name", $text);
    chmod 0644, "$lua/$name";
}
sub module_v { put_lua('mymod.lua', "local M = {}\nfunction M.version() return 'mod $_[0]' end\nreturn M\n") }
sub handler_v { put_lua('handler.lua', "ngx.say('file $_[0]')\n") }
put_lua('init.lua', "init_says = 'init one'\n");
module_v('v1');
handler_v('v1');
sub slow_v {
    put_lua('slow.lua', "local chunk = string.rep('x', 65536)\n"
          . "for i = 1, 256 do ngx.print(chunk) ngx.flush(true) end\n"
          . "ngx.say(' slow $_[0]')\n");
}
slow_v('v1');

sub body {
    my $r = http_get($s->port, $_[0], timeout => 5);
    return $r->{status} && $r->{status} == 200 ? $r->{body} : 'status ' . ($r->{status} // $r->{error} // '?');
}
sub status_of { my $r = http_get($s->port, $_[0], timeout => 5); return $r->{status} // 0 }

my $m = $s->start;
ok($m, 'started') or stop_here();
is(body('/mod'), "mod v1 init one\n", 'module v1, init_by_lua_file ran');
is(body('/file'), "file v1\n", 'handler file v1');
my @w1 = $s->wait_workers(2);

# a request that is still running when the HUP comes
my $slow = slow_get($s->port, '/slow');
ok($slow && $slow->status == 200, 'a slow response is in flight on an old worker');

# ---------------------------------------------------------------------------
# edit the module, the handler file and the init file; reload (-s reload returns once every new
# connection reaches the new workers: a bare HUP would race an old worker's last accepts)

module_v('v2');
handler_v('v2');
slow_v('v2');
put_lua('init.lua', "init_says = 'init two'\n");
my ($code, $out, $err) = $s->reload;
is($code, 0, 'reloaded') or diag("$out$err");
is(body('/mod'), "mod v2 init two\n", 'new requests run the edited module and init file');
is(body('/file'), "file v2\n", 'new requests run the edited handler file');
my @w2 = $s->wait_workers(2, all => 0);
ok(!grep({ my $o = $_; grep { $_ == $o } @w2 } @w1), 'served by new workers');

my $res = $slow->finish(30);
is($res->{status}, 200, 'the in-flight request completed');
ok($res->{body_len} > 256 * 65536 && !$res->{error}, 'with its whole body');
like($res->{tail}, qr/ slow v1\n\r\n0\r\n\r\n\z/, 'run to its end on the old code');
is(body('/slow') =~ / slow (v\d)\n\z/ ? $1 : 'none', 'v2', 'a new request runs the new file');
ok(wait_gone(10, @w1), 'the old workers exit once done');

# ---------------------------------------------------------------------------
# a syntax error in a file the config names: the reload is refused

unless (is_nginx()) {
    put_lua('handler.lua', "ngx.say('file v3'\nlocal x = \n");
    my $mark = $s->log_mark;
    $s->signal('HUP');
    my $file = "$lua/handler.lua";
    ok($s->wait_log(qr/\[emerg\] $m#\d+: failed to load Lua file "\Q$file\E": \S*handler\.lua:2: .* in \Q${\ $s->conf_file }\E:\d+$/m, $mark),
       '[emerg] names the Lua file and line and the config line');
    is(body('/file'), "file v2\n", 'the old generation serves on');
    is_deeply([sort { $a <=> $b } $s->worker_pids($m)], [sort { $a <=> $b } @w2], 'the same workers');

    # -s reload reports it
    ($code, $out, $err) = $s->cmd('-s', 'reload');
    is($code, 1, '-s reload exits 1');
    like("$out$err", qr/failed to load Lua file "\Q$file\E"/, '-s reload prints the error');

    # init_by_lua_file with an error, too
    handler_v('v3');
    put_lua('init.lua', "init_says = \n");
    $mark = $s->log_mark;
    $s->signal('HUP');
    ok($s->wait_log(qr/\[emerg\] $m#\d+: .*init\.lua/m, $mark), 'a broken init_by_lua_file refuses the reload');
    is(body('/file'), "file v2\n", 'still the old generation');
    put_lua('init.lua', "init_says = 'init three'\n");
    ($code, $out, $err) = $s->reload;
    is($code, 0, 'fixed: the next reload is taken') or diag("$out$err");
    is(body('/file'), "file v3\n", 'the fixed handler file');
    is(body('/mod'), "mod v2 init three\n", 'with the fixed init file');
}

# ---------------------------------------------------------------------------
# a broken module only `require` reaches: 500s and the error, then a fix and a reload

put_lua('mymod.lua', "local M = {\nreturn M\n");
my $mark = $s->log_mark;
($code, $out, $err) = $s->reload;
is($code, 0, 'a module only `require` reaches is not compiled at load: reloaded') or diag("$out$err");
is(status_of('/mod'), 500, 'a broken required module: 500');
ok($s->wait_log(qr/\[error\] .*lua entry thread aborted: runtime error: error loading module 'mymod' from file '.*mymod\.lua':\n\t.*mymod\.lua:2: /m, $mark),
   'the error names the module file and line');
ok($s->wait_log(qr/stack traceback:/m, $mark), 'with a traceback');
module_v('v4');
($code, $out, $err) = $s->reload;
is($code, 0, 'reloaded with the fixed module') or diag("$out$err");
like(body('/mod'), qr/^mod v4 /, 'fixed module after the next reload');

$s->stop;
done_testing();
