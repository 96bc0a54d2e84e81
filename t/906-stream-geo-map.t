# stream {}: geo (ngx_stream_geo_module) and map's regex captures in stream values, read by
# `return` on each server; the same geo/map code as http's (modules/geo.c, map.c). Passes on
# Debian's nginx too.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;

# what the server says before closing
sub answer { (exchange($_[0], $_[1]))[0] }

my @p = map { Test::Moongate::find_free_port() } 1 .. 8;
my $s = Test::MoongateProc->new(name => 'geo', workers => 1);
$s->write_conf(stream => <<"EOF");
    geo \$client { default other; 127.0.0.0/8 loopback; 127.0.0.2/32 two; }
    server { listen 127.0.0.1:$p[0]; return "\$client\\n"; }

    map \$server_port \$addr { $p[1] 10.1.2.3; $p[2] 192.0.2.200; default junk; }
    geo \$addr \$net {
        default none;
        10.0.0.0/8 ten;
        10.1.0.0/16 ten-one;
        192.0.2.0/24 doc;
        delete 192.0.2.0/24;
    }
    geo \$addr \$range { ranges; default out; 10.1.0.0-10.1.255.255 r1; 192.0.2.100-192.0.2.255 r2; }
    server { listen 127.0.0.1:$p[1]; return "\$net \$range\\n"; }
    server { listen 127.0.0.1:$p[2]; return "\$net \$range\\n"; }
    server { listen 127.0.0.1:$p[3]; return "\$net \$range\\n"; }

    map \$server_port \$text { $p[4] "alpha-42-beta"; default "nothing here"; }
    map \$text \$cap {
        ~^(?<word>[a-z]+)-(\\d+)-([a-z]+)\$ "\$3:\$2:\$word:\$10";
        ~*^NOTHING "[\$1]";
        default none;
    }
    server { listen 127.0.0.1:$p[4]; return "\$cap\\n"; }
    server { listen 127.0.0.1:$p[5]; return "\$cap\\n"; }
EOF
$s->start or stop_here('the server did not start');

is(answer($p[0]), "loopback\n", 'geo: the client address by longest prefix');
is(answer($p[1]), "ten-one r1\n", 'geo $var: the longest network; ranges: the range holding it');
is(answer($p[2]), "none r2\n", 'geo: a deleted network falls back to the default');
is(answer($p[3]), "none out\n", 'geo $var: a value that is no address gets the default');
is(answer($p[4]), "beta:42:alpha:alpha0\n",
   'map regex: numbered and named captures in the value; "$10" is $1 then "0"');
is(answer($p[5]), "[]\n", 'map regex: a caseless match without groups leaves $1 empty');

# a bad network is a config error naming the file and line
{
    $s->write_conf(stream => <<"EOF");
    geo \$bad {
        10.0.0.300/8 x;
    }
    server { listen 127.0.0.1:$p[6]; return "\$bad"; }
EOF
    my ($code, $out, $err) = $s->cmd('-t');
    isnt($code, 0, 'geo: -t fails on a bad network');
    like($err, qr/\[emerg\] .*invalid network "10\.0\.0\.300\/8" in \S+:\d+/, 'geo: the error names the network');
}

$s->stop;
done_testing();
