#!/usr/bin/perl
# Run client load against a running server while reloading (HUP) and upgrading (USR2, then
# QUIT to the old master once the new one wrote the pid file), and print the failed-request
# count. Works against moongate and nginx alike (same signals, same pid.oldbin dance).
#
#   perl -I t/lib t/bench/reload-load.pl --port 28931 --pid /tmp/x/logs/moongate.pid \
#        [--reloads 20] [--interval 0.1] [--upgrade [--winch]] [--keepalive 4] [--close 2]
#        [--path /]
use strict;
use warnings;
use Getopt::Long;
use Time::HiRes qw(sleep time);
use Test::MoongateLoad;

my %o = (reloads => 20, interval => 0.1, keepalive => 4, close => 2, path => '/', upgrade => 0,
         settle => 1);
GetOptions(\%o, 'port=i', 'pid=s', 'reloads=i', 'interval=f', 'upgrade!', 'keepalive=i',
           'close=i', 'path=s', 'settle=f', 'name=s', 'winch!') or die "bad options\n";
die "--port and --pid are required\n" unless $o{port} && $o{pid};

sub master { open my $f, '<', shift or return; my $p = <$f>; chomp $p if defined $p; $p }

my $load = Test::MoongateLoad->start(port => $o{port}, keepalive => $o{keepalive},
                                     close => $o{close}, path => $o{path});
sleep $o{settle};
for (1 .. $o{reloads}) {
    kill 'HUP', master($o{pid}) or die "kill HUP: $!\n";
    sleep $o{interval};
}
if ($o{upgrade}) {
    my $old = master($o{pid});
    kill 'USR2', $old or die "kill USR2: $!\n";
    my $deadline = time + 10;
    sleep 0.05 until (-e "$o{pid}.oldbin" && (master($o{pid}) // $old) ne $old) || time > $deadline;
    die "upgrade did not happen\n" unless -e "$o{pid}.oldbin";
    sleep 0.5;                     # the new workers start accepting
    if ($o{winch}) {               # the seeds' order: WINCH, then QUIT once they are gone
        kill 'WINCH', $old;
        sleep 1;
    }
    kill 'QUIT', $old;
    sleep 0.2 while kill(0, $old) && time < $deadline + 10;
}
sleep $o{settle};
my $r = $load->stop;
printf "%s: %d requests, %d failed%s\n", $o{name} // 'server', $r->{requests}, $r->{failures},
    @{ $r->{errors} } ? "\n  " . join("\n  ", @{ $r->{errors} }) : '';
my %b = %{ $r->{bodies} };
printf "  %6d x %s\n", $b{$_}, ($_ =~ s/\n/\\n/gr) for sort keys %b;
exit($r->{failures} ? 1 : 0);
