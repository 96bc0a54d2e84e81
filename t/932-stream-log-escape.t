# stream {}: log_format's escape= (default, json, none) as nginx writes it, with the same code
# as http's access_log (modules/log_escape.c): quotes, backslashes and control bytes, and a
# variable that is not found ("-", or nothing with json and none). Passes on Debian's nginx too.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::More;
use IO::Socket::INET;
use IO::Select;

my $p = Test::Moongate::find_free_port();
my $s = Test::MoongateProc->new(name => 'logesc', workers => 1);
my $d = $s->dir;
$s->write_conf(stream => <<"EOF");
    log_format dflt '[\$v] [\$proxy_protocol_addr] \$status';
    log_format js escape=json '{"v":"\$v","pp":"\$proxy_protocol_addr","st":\$status}';
    log_format raw escape=none '[\$v] [\$proxy_protocol_addr]';
    server {
        listen 127.0.0.1:$p;
        set \$v "q\\"b\\\\s\\tt\\x01";
        access_log $d/logs/dflt.log dflt;
        access_log $d/logs/js.log js;
        access_log $d/logs/raw.log raw;
        return "ok\\n";
    }
EOF
$s->start or stop_here('the server did not start');

my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p", Timeout => 5) or die $!;
IO::Select->new($c)->can_read(5) and sysread($c, my $got, 100);
close $c;
my %line;
for my $f (qw(dflt js raw)) {
    wait_for(sub { -s "$d/logs/$f.log" }, 5);
    $line{$f} = -f "$d/logs/$f.log" ? slurp("$d/logs/$f.log") : '';
}
is($line{dflt}, qq{[q\\x22b\\x5Cs\\x09t\\x5Cx01] [-] 200\n},
   'escape=default: \xXX for quote, backslash and control bytes; "-" for a value not found');
is($line{js}, qq{{"v":"q\\"b\\\\s\\tt\\\\x01","pp":"","st":200}\n},
   'escape=json: \" \\\\ \t; nothing for a value not found');
is($line{raw}, qq{[q"b\\s\tt\\x01] []\n}, 'escape=none: the bytes as they are; nothing for a value not found');

$s->stop;
done_testing();
