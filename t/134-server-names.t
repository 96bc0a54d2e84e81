# http server_name, as nginx checks and uses it (core/server_names.c, shared with stream{}):
# a name given twice on an address warns "conflicting server name" also within one server;
# "~" alone is an empty regex; ".x*" is a wildcard nginx accepts; a ".x" first name is "x" in
# the error log's "server:" and in server_name_in_redirect's Location, as in $server_name; a
# server alone on its address builds its names (and keeps captures) only when its last regex
# name captures. Passes on Debian's nginx too:
#
#   prove -I t/lib t/134-server-names.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/134-server-names.t
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::More;

my @p = map { Test::Moongate::find_free_port() } 1 .. 2;
my $s = Test::MoongateProc->new(name => 'server_names', workers => 1, error_level => 'info');
my $conf = $s->conf_file;

# -t of a configuration whose http{} has these servers: (exit code, stderr)
sub t_http {
    my ($http) = @_;
    $s->write_conf(http => $http);
    my ($code, $out, $err) = $s->cmd('-t');
    return ($code, $err);
}
sub two { "server { listen 127.0.0.1:$p[0]; server_name one.test; }\n"
        . "server { listen 127.0.0.1:$p[0]; server_name $_[0]; }\n" }

my ($code, $err) = t_http(two('a.test a.test'));
is($code, 0, 'a name twice in one server: accepted');
like($err, qr/\[warn\] .*conflicting server name "a\.test" on 127\.0\.0\.1:$p[0], ignored/,
     '... with nginx\'s warning (the same server too)');

($code, $err) = t_http(two('"*.b.test" .b.test'));
like($err, qr/conflicting server name "\.b\.test" on 127\.0\.0\.1:$p[0], ignored/,
     '"*.x" then ".x" in one server: ".x" conflicts');

($code, $err) = t_http(two('"*.c.test" "*.C.TEST"'));
like($err, qr/conflicting server name "\*\.c\.test" on 127\.0\.0\.1:$p[0], ignored/,
     'names are lowercased before they are compared (and in the warning)');

($code, $err) = t_http(two('"x.test" "~"'));
isnt($code, 0, 'server_name "~": refused');
like($err, qr/\[emerg\] .*empty regex in server name "~" in \Q$conf\E:\d+/, '... as an empty regex, FILE:LINE');

($code, $err) = t_http(two('.d.test*'));
is($code, 0, '".d.test*" is a wildcard nginx accepts') or diag($err);
unlike($err, qr/invalid server name/, '... without a word');

($code, $err) = t_http(two('"~^f/g\\.test$"'));
is($code, 0, 'a regex name with "/": accepted');
like($err, qr/\[warn\] .*server name "~\^f\/g\\\.test\$" has suspicious symbols in \Q$conf\E:\d+/,
     '... with the warning nginx gives every name with "/"');

($code, $err) = t_http(two('e..test'));
like($err, qr/\[emerg\] .*invalid server name or wildcard "e\.\.test" on 127\.0\.0\.1:$p[0]/,
     '".." refused with the address');

# serving
$s->write_conf(http => <<"EOF", server => 'server_name .dot.test; server_name_in_redirect on;');
    server { listen 127.0.0.1:$p[1]; server_name "~^(?<sub>[a-z]+)\\.cap\\.test\$" "~^plain\\.test\$";
             location / { return 200 "[\$sub]\\n"; } }
EOF
my $start = $s->log_mark; # the -t runs above logged their emerg lines
$s->start or stop_here('the server did not start');
my $mark = $s->log_mark;
my $r = http_get($s->port, '/missing', host => 'dot.test');
is($r->{status}, 404, 'a missing file: 404');
ok($s->wait_log(qr/open\(\) ".*missing" failed .*, server: dot\.test, request/, $mark),
   '... logged with "server: dot.test" for ".dot.test"');
mkdir $s->html . '/dir';
$r = http_get($s->port, '/dir', host => 'x.dot.test');
is($r->{status}, 301, 'a directory without its slash: 301');
like($r->{headers}{location} // '', qr{^http://dot\.test:$s->{port}/dir/$},
     '... server_name_in_redirect names it "dot.test"');

# the last regex name does not capture: nginx makes no names, $sub stays empty
$r = http_get($p[1], '/', host => 'abc.cap.test');
is($r->{body}, "[]\n", 'alone, with a non-capturing last regex: no captures');

my $good = slurp($conf);
(my $t = $good) =~ s/"~\^\(\?<sub>\[a-z\]\+\)\\\.cap\\\.test\$" "~\^plain\\\.test\$"/"~^plain\\.test\$" "~^(?<sub>[a-z]+)\\.cap\\.test\$"/
    or die 'no match';
spew($conf, $t);
is(($s->reload)[0], 0, 'reload: the capturing regex last');
$r = http_get($p[1], '/', host => 'abc.cap.test');
is($r->{body}, "[abc]\n", '... its names are made: the capture is kept');

unlike($s->log_since($start), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
$s->stop;
done_testing();
