# A reload that is rejected late (an init_by_lua error after the http{} block was read, a bad
# directive after the Lua ones) leaves the serving generation exactly as it was: conditional
# requests still get 304/412 (the header filters are whole), before and after a worker is killed
# and respawned, with a master and in a single process.
#
# nginx 1.22 has this bug (its filter chains are rebuilt by every parse: after such a refused
# reload it answers 200 where 304/412 are due, checked with TEST_MOONGATE_BINARY=/usr/sbin/nginx),
# so the file is moongate's only.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;
use POSIX ();

plan skip_all => 'nginx 1.22 loses 304/412 after such a refused reload (moongate does better)' if is_nginx();

my $lua_modules = is_nginx() ? join('', map { "load_module /usr/lib/nginx/modules/$_.so;\n" }
                                         qw(ndk_http_module ngx_http_lua_module)) : '';
my $server = <<'EOF';
        location /f { content_by_lua_block { ngx.say("lua ", ngx.var.uri) } }
        location /h { header_filter_by_lua_block { ngx.header["X-Filtered"] = "yes" } }
EOF

my ($s, $lm);
sub page_mtime { (stat($s->html . '/h/page.html'))[9] }

# The three answers a whole header filter chain gives.
sub check_conditionals {
    my ($what) = @_;
    my $lm = POSIX::strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime(page_mtime()));
    my $r = http_request($s->port, "GET /h/page.html HTTP/1.0\r\nIf-Modified-Since: $lm\r\n\r\n");
    is($r->{status}, 304, "$what: If-Modified-Since -> 304");
    $r = http_request($s->port,
                      "GET /h/page.html HTTP/1.0\r\nIf-Unmodified-Since: Thu, 01 Jan 1998 00:00:00 GMT\r\n\r\n");
    is($r->{status}, 412, "$what: an old If-Unmodified-Since -> 412");
    $r = http_request($s->port, "GET /h/page.html HTTP/1.0\r\n\r\n");
    is($r->{status}, 200, "$what: plain GET -> 200");
    is($r->{headers}{'x-filtered'}, 'yes', "$what: the Lua header filter still runs");
    is($r->{body}, "page\n", "$what: body");
    $r = http_get($s->port, '/f');
    is($r->{body}, "lua /f\n", "$what: content_by_lua");
}

# Each way a reload can be refused late; each must leave the serving generation whole.
my @broken = (
    # logged at error level with its traceback, as lua-nginx-module does
    [ 'init_by_lua error', "    init_by_lua_block { error('refused on purpose') }\n",
      qr/\[error\] .*init_by_lua error: .*refused on purpose\nstack traceback:/ ],
    [ 'a bad directive after the Lua ones',
      "    init_by_lua_block { x = 1 }\n    header_filter_by_lua_block { ngx.header.a = 1 }\n"
      . "    no_such_directive on;\n",
      qr/\[emerg\] .*unknown directive "no_such_directive"/ ],
);

for my $mode ('master', 'single') {
    $s = Test::MoongateProc->new(name => "reload-rejected-$mode", workers => 1);
    mkdir $s->html . '/h';
    spew($s->html . '/h/page.html', "page\n");
    chmod 0755, $s->html . '/h';
    chmod 0644, $s->html . '/h/page.html';
    utime 1_000_000_000, 1_000_000_000, $s->html . '/h/page.html';
    my %parts = (main => $lua_modules, server => $server, http => '');
    my $write = sub {
        my $text = $s->conf_text(%parts);
        $text =~ s/^master_process on;$/master_process off;/m if $mode eq 'single';
        $s->write_conf(text => $text);
    };
    $write->();
    my $m = $mode eq 'master' ? $s->start : $s->start(workers => 0);
    ok($m, "$mode: started") or next;
    check_conditionals("$mode, before");

    for my $b (@broken) {
        my ($name, $http, $err) = @$b;
        $parts{http} = $http;
        $write->();
        my $mark = $s->log_mark;
        # a HUP straight to the server: `-s reload` would parse the config first and not send it
        $s->signal('HUP');
        ok($s->wait_log($err, $mark), "$mode, $name: the reload is refused");
        # the refusal is logged before the server is done with it: a request after it is served
        # only once the server is back in its loop
        http_get($s->port, '/f');
        check_conditionals("$mode, after a rejected reload ($name)");
    }

    if ($mode eq 'master') {
        # one worker, so the next requests surely reach the respawned one
        my @w = $s->wait_workers(1);
        is(scalar @w, 1, 'one worker');
        $s->signal('KILL', $w[0]);
        ok(wait_gone(5, $w[0]), "worker $w[0] killed");
        my @w2 = $s->wait_workers(1);
        ok(@w2 && $w2[0] != $w[0], 'the master respawned it');
        check_conditionals("master, after a respawn");
    }

    # and a good reload afterwards is taken
    $parts{http} = '';
    $write->();
    my ($code) = $s->cmd('-s', 'reload');
    is($code, 0, "$mode: a good reload is taken") unless is_nginx();
    ok(wait_for(sub { my $r = http_get($s->port, '/f'); ($r->{body} // '') eq "lua /f\n" }, 5),
       "$mode: serving after the good reload");
    $mode eq 'master' && $s->wait_workers(1);
    check_conditionals("$mode, after a good reload");
    $s->stop;
}

done_testing;
