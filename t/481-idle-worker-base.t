# What an idle worker holds of its own before any connection, for a configuration with neither
# TLS nor Lua: its RssAnon (the heap, anonymous maps, the libraries' written data pages: what is
# the process's alone; the file pages it maps are shared with every other process that maps
# them) once it has answered a request and sleeps. moongate made the Lua cosockets' TLS client
# context at every http{} and stream{} level's merge, Lua code or not: OpenSSL 3 fetches every
# algorithm for a first SSL_CTX_new, ~350 KiB of heap and ~1.9 MiB of libcrypto's and libssl's
# pages touched (t/bench/h2-idle.sh's rss_0, one process: 8.7 MiB against nginx's 7.1; 6.5
# without it). The context is made where Lua code is (t/505 and t/914 use it) or a lua_ssl_*
# line asks for one, so -t still reports that line's errors, as nginx (lua-nginx-module loaded)
# does.
#
#   prove -I t/lib t/481-idle-worker-base.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/481-idle-worker-base.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;

# RssAnon here: moongate 892-896 KiB for the one process, 940 for a worker (1244 and 1292-1296
# with the context); nginx 1.22 964-968 and 1008-1012 (its 64 connections allocated at start).
# VmRSS moves more (the file pages a fork leaves behind are faulted in again as touched, by
# 64 KiB): moongate 3.5-3.7 MiB (3.9-4.1 with the context), nginx 2.1-2.4 and 4.1-4.4.
my $MaxKiB = 1120;

# under a sanitizer (its shadow memory) RSS says nothing
my $Asan = $ENV{ASAN_OPTIONS};

my $LuaModules = is_nginx()
    ? "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n"
      . "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n"
    : '';

sub asleep { my $w = shift; (slurp("/proc/$w/stat") =~ /\)\s+(\S)/)[0] eq 'S' }
# dies when unread: undef would pass any bound
sub rss {
    my ($w, $field) = @_;
    my ($kb) = slurp("/proc/$w/status") =~ /^$field:\s+(\d+)/m;
    return $kb // die "rss: no $field for pid '$w'\n";
}

# 1. no TLS, no Lua: the one process (master_process off, as t/bench/h2-idle.sh runs it) and
#    a worker under a master, each after one request
for my $master (0, 1) {
    my $what = $master ? 'a worker' : 'the one process';
    my $s = Test::MoongateProc->new(name => "base$master", workers => 1, master => $master,
        server => qq{        location / { return 200 "ok\\n"; }\n});
    # nginx's connections are allocated at start, 424 bytes each: few of them
    $s->write_conf(text => $s->conf_text =~ s/worker_connections 512;/worker_connections 64;/r);
    ok($s->start(workers => $master), "$what: the server starts") or stop_here();
    my ($w) = $master ? $s->wait_workers(1) : ($s->pid);
    ok($w, "$what: its pid") or stop_here();
    my $res = http_get($s->port, '/');
    is($res->{status}, 200, "$what: a request answered");
    ok(wait_for(sub { asleep($w) }, 30), "$what: waits");
    my $kb = rss($w, 'RssAnon');
    diag(sprintf "%s: %s: RssAnon %d KiB, VmRSS %d", proc_name(), $what, $kb, rss($w, 'VmRSS'));
    cmp_ok($kb, '<', $MaxKiB, "$what without TLS or Lua: its own pages under $MaxKiB KiB")
        unless $Asan;
    $s->stop;
}

# 2. a lua_ssl_* line without Lua code still makes its context: its error at -t
{
    my $s = Test::MoongateProc->new(name => 'ciphers', workers => 1, main => $LuaModules,
        http => "    lua_ssl_ciphers NO-SUCH-CIPHER;\n",
        server => qq{        location / { return 200 "ok\\n"; }\n});
    my ($code, $out, $err) = $s->cmd('-t');
    isnt($code, 0, 'lua_ssl_ciphers with no cipher it names: -t fails');
    like($err, qr/SSL_CTX_set_cipher_list\("NO-SUCH-CIPHER"\) failed/,
         "-t names the cipher list OpenSSL refused");
}

done_testing();
