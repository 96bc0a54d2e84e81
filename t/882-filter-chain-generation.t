# Each configuration generation links only the filters some server or location of it uses
# (issue 16): a reload that turns on gzip, add_header or a Lua body filter gets them in the new
# generation, a reload that drops them leaves them out, and a request that began before the
# reload finishes through its own generation's chain. In a single process (master_process off),
# where both generations serve in one process: a process-wide chain built by each reload, as
# nginx's, would lose the old request's Lua body filter.
#
# Debian's nginx (TEST_MOONGATE_BINARY=/usr/sbin/nginx) does not reload a single process (it
# alerts "worker_connections are not enough" and keeps the old configuration), so there the
# same checks run with a master and one worker, whose old worker keeps the held request.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::More;
use IO::Socket::INET;
use IO::Select;
use IO::Uncompress::Gunzip ();

my $main = is_nginx() ? join('', map { "load_module /usr/lib/nginx/modules/$_.so;\n" }
                                 qw(ndk_http_module ngx_http_lua_module)) : '';

# /held answers once its 4-byte body came: the test holds a request in the first generation
# across the reload by sending the body after it
sub server_conf {
    my ($upper) = @_;
    return <<EOF
        location /plain { return 200 "plain\\n"; }
        location /held {
            access_by_lua_block { ngx.log(ngx.NOTICE, "held request in") }
            content_by_lua_block { ngx.req.read_body() ngx.say("held ", ngx.req.get_body_data()) }
EOF
        . ($upper ? "            body_filter_by_lua_block { if ngx.arg[1] then ngx.arg[1] = string.upper(ngx.arg[1]) end }\n" : '')
        . "        }\n";
}
my $gen1 = { main => $main, http => '', server => server_conf(1) };
my $gen2 = { main => $main, server => server_conf(0),
             http => "    gzip on;\n    gzip_min_length 1;\n    gzip_types text/plain;\n"
                     . "    add_header X-Gen two;\n" };

my $workers = is_nginx() ? 1 : 0;
my $s = Test::MoongateProc->new(name => 'filter-chain-generation', workers => $workers);
sub write_gen {
    my $text = $s->conf_text(%{ $_[0] });
    $text =~ s/^master_process on;$/master_process off;/m or die 'no master_process line'
        unless $workers;
    $s->write_conf(text => $text);
}
write_gen($gen1);
my $m = $s->start(workers => $workers);
ok($m, $workers ? 'started, a master and one worker' : 'started, one process') or stop_here();

sub plain { http_get($s->port, '/plain', headers => "Accept-Encoding: gzip\r\n") }
sub gunzip_body {
    my $r = shift;
    my $out;
    IO::Uncompress::Gunzip::gunzip(\$r->{body}, \$out, Transparent => 0) or return "not gzip: $r->{body}";
    return $out;
}
sub post_held {
    my $r = http_request($s->port, "POST /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                   . "Content-Length: 4\r\n\r\nabcd");
    return $r;
}
sub check_gen1 {
    my ($what) = @_;
    my $r = plain();
    is($r->{body}, "plain\n", "$what: /plain not compressed");
    ok(!exists $r->{headers}{'content-encoding'}, "$what: no Content-Encoding");
    ok(!exists $r->{headers}{'x-gen'}, "$what: no add_header line");
    $r = post_held();
    is($r->{body}, "HELD ABCD\n", "$what: the Lua body filter runs");
}

check_gen1('first generation');

# a request of the first generation, waiting for its body
my $held = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->port, Proto => 'tcp',
                                 Timeout => 5) or die "connect: $!";
my $mark = $s->log_mark;
syswrite($held, "POST /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 4\r\n\r\n");
ok($s->wait_log(qr/held request in/, $mark), 'the held request reached its access phase');

# the reload that turns gzip, add_header on and the Lua body filter off
# with a master, the old worker stops accepting once it says it is shutting down
sub reload {
    my ($gen, $served) = @_;
    my $mark = $s->log_mark;
    write_gen($gen);
    $s->signal('HUP');
    ok($s->wait_log(qr/gracefully shutting down/, $mark), 'the old worker quits') if $workers;
    return wait_for($served);
}
ok(reload($gen2, sub { (plain()->{headers}{'x-gen'} // '') eq 'two' }), 'the reload is served');
my $r = plain();
is($r->{headers}{'content-encoding'}, 'gzip', 'second generation: /plain compressed');
is(gunzip_body($r), "plain\n", 'second generation: /plain body');
$r = post_held();
is($r->{body}, "held abcd\n", 'second generation: no Lua body filter');
is($r->{headers}{'x-gen'}, 'two', 'second generation: add_header on /held');

# the held request ends through the first generation's chain
syswrite($held, 'abcd');
my %h = (raw => '');
my $sel = IO::Select->new($held);
my $deadline = time + 10;
while (time < $deadline && $sel->can_read($deadline - time)) {
    my $n = sysread($held, my $buf, 65536);
    last unless $n;
    $h{raw} .= $buf;
}
close $held;
Test::MoongateProc::_parse_response(\%h);
is($h{status}, 200, 'held request: 200');
ok(!exists $h{headers}{'x-gen'}, 'held request: no add_header line (its generation has none)');
ok(!exists $h{headers}{'content-encoding'}, 'held request: not compressed');
is($h{body}, "HELD ABCD\n", "held request: its generation's Lua body filter ran");

# and back: a reload that drops the filters
ok(reload($gen1, sub { !exists plain()->{headers}{'x-gen'} }), 'the second reload is served');
check_gen1('third generation');

unlike(slurp($s->error_log), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
$s->stop;
done_testing();
