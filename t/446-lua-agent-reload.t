# The privileged agent across a reload: a HUP brings a new agent with the new generation
# (its init_worker_by_lua runs again) and the old one exits; the agent is the master's child,
# titled "privileged agent process", and keeps the master's user. Debian's nginx lacks
# OpenResty's agent patch: the file is moongate's only.
#
#   prove -I t/lib t/446-lua-agent-reload.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;

if (is_nginx()) {
    plan skip_all => 'moongate_only: Debian\'s nginx has no privileged agent patch';
}

my $s = Test::MoongateProc->new(name => 'lua-agent', workers => 1);
$s->write_conf(
    http => <<'EOF2',
    lua_shared_dict procs 1m;
    init_by_lua_block { require("ngx.process").enable_privileged_agent() }
    init_worker_by_lua_block {
        if require("ngx.process").type() == "privileged agent" then
            ngx.shared.procs:set("agent", ngx.worker.pid())
        end
    }
EOF2
    server => <<'EOF2');
        location /agent { content_by_lua_block { ngx.say(ngx.shared.procs:get("agent")) } }
EOF2

sub agents {
    my $m = shift;
    return map { $_->[0] } grep { $_->[1] =~ /privileged agent process$/ } children_of($m);
}

my $m = $s->start;
ok($m, 'started') or stop_here();
my $a1 = wait_for(sub { my @a = agents($m); @a == 1 ? $a[0] : 0 }, 10);
ok($a1, 'one agent beside the worker');
is(wait_for(sub { my $r = http_get($s->port, '/agent'); ($r->{body} // '') =~ /^(\d+)$/ ? $1 : 0 }, 10),
   $a1, 'its init_worker_by_lua ran');
is((stat("/proc/$a1"))[4], (stat("/proc/$m"))[4], "the master's user");

my ($code, $out, $err) = $s->reload;
is($code, 0, 'reloaded') or diag("$out$err");
ok(wait_gone(10, $a1), 'the old agent exits');
my $a2 = wait_for(sub { my @a = grep { $_ != $a1 } agents($m); @a == 1 ? $a[0] : 0 }, 10);
ok($a2, 'a new agent');
is(wait_for(sub { my $r = http_get($s->port, '/agent'); ($r->{body} // '') =~ /^(\d+)$/ && $1 == $a2 ? $1 : 0 }, 10),
   $a2, "the new agent's init_worker_by_lua ran");

$s->stop;
done_testing();
