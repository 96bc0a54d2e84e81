# A reload that adds or removes a filter in one location (issue 16): the new generation's
# requests in that location go through it or no longer do, while the locations beside it keep
# answering as before. Three generations: none of /a /b /c filters; then sub_filter in /a and
# gzip in /b; then gzip in /c only. In a single process (master_process off) for moongate, where
# every generation is served by the same process; Debian's nginx does not reload a single
# process, so there with a master and one worker.

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::MoongateBody;
use Test::More;

sub server_conf {
    my %f = @_;
    return join '', map { "        location /$_ { " . ($f{$_} // '') . "return 200 \"hello $_\\n\"; }\n" }
        qw(a b c);
}
my $http = "    gzip_min_length 1;\n    gzip_types text/plain;\n    sub_filter_types text/plain;\n";
my @gens = (
    {http => $http, server => server_conf()},
    {http => $http, server => server_conf(a => 'sub_filter hello HELLO; ', b => 'gzip on; ')},
    {http => $http, server => server_conf(c => 'gzip on; ')},
);

my $workers = is_nginx() ? 1 : 0;
my $s = Test::MoongateProc->new(name => 'filter-chain-location-reload', workers => $workers,
                                master => $workers);

# what /$loc answers with Accept-Encoding: gzip, as "body" or "gzip:body"
sub answer {
    my $r = http_get($s->port, "/$_[0]", headers => "Accept-Encoding: gzip\r\n");
    return "status $r->{status}" unless ($r->{status} // 0) == 200;
    return ($r->{headers}{'content-encoding'} // '') eq 'gzip' ? 'gzip:' . gunzip($r->{body})
                                                              : $r->{body};
}
sub check {
    my ($what, %want) = @_;
    is(answer($_), $want{$_}, "$what: /$_") for qw(a b c);
}
# -s reload: done when the new generation serves every connection opened from then on
sub reload {
    $s->write_conf(%{ $_[0] });
    my ($code, $out, $err) = $s->reload;
    is($code, 0, 'reloaded') or diag("$out$err");
}

$s->write_conf(%{ $gens[0] });
ok($s->start(workers => $workers), $workers ? 'started, a master and one worker' : 'started, one process')
    or stop_here();
check('no filters', a => "hello a\n", b => "hello b\n", c => "hello c\n");

reload($gens[1]);
check('sub_filter in /a, gzip in /b', a => "HELLO a\n", b => "gzip:hello b\n", c => "hello c\n");

reload($gens[2]);
check('gzip in /c only', a => "hello a\n", b => "hello b\n", c => "gzip:hello c\n");

reload($gens[0]);
check('no filters again', a => "hello a\n", b => "hello b\n", c => "hello c\n");

unlike(slurp($s->error_log), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
$s->stop;
done_testing();
