# error_log memory:SIZE: nginx's in-memory ring, meant for debuggers. Both servers accept it
# with nginx's size checks and write nothing anywhere for it; moongate's ring starts with the
# magic "moongate_ring1", which this test finds in /proc/PID/mem to read the lines back (the
# way ARCHITECTURE.md's debugger recipe does).
#
# "--- ring eval": a qr// the ring's text must match (moongate only: nginx's ring has no
# marker to find it by).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/154-error-log-memory.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use File::Find ();

plan 'no_plan';

our $IsNginx = $Binary =~ m{nginx[^/]*$};

# The text of every ring in the process, oldest byte first.
sub read_rings {
    my $pid = shift;
    open my $maps, '<', "/proc/$pid/maps" or return;
    open my $mem, '<:raw', "/proc/$pid/mem" or return;
    my @rings;
    my $read = sub {
        my ($at, $len) = @_;
        sysseek($mem, $at, 0) or return '';
        my $got = '';
        sysread($mem, $got, $len);
        return $got;
    };
    while (my $line = <$maps>) {
        my ($lo, $hi, $perm) = $line =~ /^([0-9a-f]+)-([0-9a-f]+) (\S+)/ or next;
        next unless $perm =~ /^rw/;
        { no warnings 'portable'; ($lo, $hi) = (hex $lo, hex $hi); }
        next if $hi - $lo > 256 << 20;
        my $data = $read->($lo, $hi - $lo);
        my $off = 0;
        while (($off = index($data, "moongate_ring1\0\0", $off)) >= 0) {
            # the record: magic, start, end, pos, wrapped, ring (see core/log.c)
            my ($start, $end, $pos, $wrapped, $ring) =
                unpack('Q<5', substr($data, $off + 16, 40));
            $off += 16;
            next unless $start && $end > $start && $ring >= $start && $pos >= $ring
                && $pos <= $end && $end - $start < 64 << 20;
            my $buf = $read->($start, $end - $start);
            my $marker = substr($buf, 0, $ring - $start);
            my ($r, $p) = ($ring - $start, $pos - $start);
            my $text = $wrapped ? substr($buf, $p) . substr($buf, $r, $p - $r)
                                : substr($buf, $r, $p - $r);
            push @rings, "$marker$text";
        }
    }
    return @rings;
}

sub check_ring {
    my $block = shift;
    my $want = $block->ring or return;
    if ($IsNginx) {
        pass($block->name . " - ring (not readable in nginx)");
        return;
    }
    my $pid = Test::Moongate::read_pid();
    my @rings = read_rings($pid);
    ok((grep { $_ =~ $want } @rings), $block->name . " - a ring matches")
        or diag("rings:\n" . join("\n----\n", @rings));
}

sub check_no_file {
    my $block = shift;
    my @odd;
    File::Find::find(sub { push @odd, $File::Find::name if /memory/ }, $ServRoot);
    is("@odd", '', $block->name . " - no file was made for the ring");
}

add_known_sections(qw(ring));
Test::Moongate::stop_stale_server();
for my $block (blocks()) {
    local $Test::Moongate::NoClean = 1;
    my $ok = run_test($block);
    check_ring($block) if $ok;
    Test::Moongate::stop_server();
    check_no_file($block) if $ok && !defined $block->must_die;
}

__DATA__

=== TEST 1: a location's ring replaces the server's logs; nothing reaches a file
--- config
    location /a/ {
        error_log memory:32k;
    }
--- request
GET /a/nofile
--- error_code: 404
--- ring eval
qr{\AMEMLOG 32768 \S+:\d+\n\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] \d+#\d+: \*\d+ open\(\) "[^"]+/html/a/nofile" failed \(2: No such file or directory\), client: 127\.0\.0\.1, server: localhost, request: "GET /a/nofile HTTP/1\.1", host: "localhost"\n\z}
--- no_error_log
open()



=== TEST 2: the ring goes round: the newest lines stay, whole, after the oldest bytes
--- config
    location /a/ {
        error_log memory:4k info;
    }
--- request eval
[map { "GET /a/n$_" . ("x" x 200) } 1 .. 40]
--- error_code eval
[(404) x 40]
--- ring eval
qr{"GET /a/n40x+ HTTP/1\.1", host: "localhost"\n\z}



=== TEST 3: at the main level beside the file, with a level
--- main_config
    error_log memory:1m info;
--- request
GET /nofile
--- error_code: 404
--- ring eval
qr{\[error\] .*"GET /nofile HTTP/1\.1"}
--- error_log
open()



=== TEST 4: too small
--- config
    error_log memory:2k;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid buffer size "2k" in \S+:\d+/



=== TEST 5: the smallest nginx takes: its marker "MEMLOG SIZE FILE:LINE\n" and 2084 bytes
--- config eval
"include ${\ Test::Moongate::html_dir()}/m.conf;"
--- user_files eval
">>> m.conf\nerror_log memory:" . (2084 + length("MEMLOG 2000 ${\ Test::Moongate::html_dir()}/m.conf:1\n")) . ";\n"
--- request
GET /nofile
--- error_code: 404



=== TEST 6: a byte less is refused
--- config eval
"include ${\ Test::Moongate::html_dir()}/m.conf;"
--- user_files eval
">>> m.conf\nerror_log memory:" . (2083 + length("MEMLOG 2000 ${\ Test::Moongate::html_dir()}/m.conf:1\n")) . ";\n"
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid buffer size "\d+" in \S+m\.conf:1/



=== TEST 7: not a size
--- config
    error_log memory:lots;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid buffer size "lots" in \S+:\d+/



=== TEST 8: nginx's sizes have no "g"
--- config
    error_log memory:1g;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid buffer size "1g" in \S+:\d+/



=== TEST 9: no size
--- config
    error_log memory:;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid buffer size "" in \S+:\d+/
