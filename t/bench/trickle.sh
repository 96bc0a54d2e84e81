#!/bin/bash
# Slow-head CPU: CONNS connections each trickle a SIZE-byte request head (header lines of ~100
# bytes) PIECE bytes at a time, one piece on every connection per round, GAP_MS between rounds,
# TCP_NODELAY, against moongate and Debian's nginx in turn (single process, master_process off,
# the server on core 0 and the client on core 1 as in run.sh). For each server: the worker's
# CPU seconds for the whole run (from /proc/PID/stat, utime + stime), wall time and how many
# connections got their 200. OLD=/path/to/moongate adds a run of another build (e.g. the one
# before the resumable parser). Writes t/bench/trickle-results-<date>.txt.
#
#   t/bench/trickle.sh   (CONNS=100 SIZE=30000 PIECE=30 GAP_MS=1 NGINX=/usr/sbin/nginx OLD=)

CONNS=${CONNS:-100}
. "$(dirname "$0")/lib.sh"
BENCH=trickle
OLD=${OLD:-}
SIZE=${SIZE:-30000}
PIECE=${PIECE:-30}
GAP_MS=${GAP_MS:-1}
OUT=$ROOT/t/bench/trickle-results-$(date -u +%Y%m%d-%H%M%S).txt

[ -x "$MOONGATE" ] || die "$MOONGATE is not built (make)"
[ -x "$NGINX" ] || die "$NGINX missing (apt-get install nginx-light)"
command -v taskset >/dev/null || die "taskset missing (util-linux)"
[ "$(nproc)" -ge 2 ] || die "needs two cores (server on 0, client on 1)"

WORK=$(mktemp -d /tmp/mg-trickle.XXXXXX)

# $1 name, $2 binary -> one line of results
run_one() {
    local name=$1 bin=$2 port dir=$WORK/$1
    port=$(free_port)
    mkdir -p "$dir/logs" "$dir/conf"
    # 8 8k buffers: a 30 KB head of short lines fits nginx's large buffers with room to spare
    cat >"$dir/conf/trickle.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log info;
pid logs/trickle.pid;
events { worker_connections 1024; }
http {
    access_log off;
    large_client_header_buffers 8 8k;
    client_header_timeout 120s;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\n"; }
    }
}
EOF
    taskset -c 0 "$bin" -p "$dir/" -e logs/error.log -c "$dir/conf/trickle.conf" \
        >"$dir/logs/stdout" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 250); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.02
    done
    kill -0 "$pid" 2>/dev/null || die "$name did not start: $(cat "$dir/logs/stdout")"
    taskset -c 1 perl - "$port" "$pid" "$CONNS" "$SIZE" "$PIECE" "$GAP_MS" "$name" <<'PERL'
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use POSIX ();
use Time::HiRes qw(time sleep);

my ($port, $pid, $conns, $size, $piece, $gap_ms, $name) = @ARGV;
my $tick = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
sub cpu {
    open my $f, '<', "/proc/$pid/stat" or die "stat: $!";
    my @f = split ' ', ((<$f> =~ /\)\s+(.*)/s)[0]);
    return ($f[11] + $f[12]) / $tick;
}

my $head = "GET / HTTP/1.1\r\nHost: localhost\r\n";
my $i = 0;
$head .= sprintf("X-Pad-%05d: %s\r\n", $i++, 'a' x 84) while length $head < $size - 2;
$head .= "\r\n";

my @socks = map {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
        or die "connect: $!";
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    $s;
} 1 .. $conns;

my ($c0, $t0) = (cpu(), time);
for (my $off = 0; $off < length $head; $off += $piece) {
    my $p = substr($head, $off, $piece);
    for my $s (@socks) {
        defined syswrite($s, $p) or die "send: $!";
    }
    sleep($gap_ms / 1000) if $gap_ms > 0;
}
my $sel = IO::Select->new(@socks);
my (%resp, $ok);
my $deadline = time + 30;
while ($sel->count && time < $deadline) {
    for my $s ($sel->can_read(1)) {
        my $n = sysread($s, $resp{$s}, 4096, length($resp{$s} // ''));
        if (!$n || $resp{$s} =~ /\r\n\r\nok\n/) {
            $ok++ if ($resp{$s} // '') =~ m{^HTTP/1\.1 200 };
            $sel->remove($s);
        }
    }
}
my ($c, $t) = (cpu() - $c0, time - $t0);
printf "%-10s worker_cpu_s %6.2f   wall_s %6.2f   200s %d/%d\n", $name, $c, $t, $ok // 0, $conns;
PERL
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

{
    echo "slow heads, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), nproc=$(nproc), kernel $(uname -r)"
    echo "moongate: $("$MOONGATE" -v 2>&1), nginx: $("$NGINX" -v 2>&1)"
    echo "$CONNS connections x a $SIZE-byte head sent $PIECE bytes at a time (one piece per"
    echo "connection per round, ${GAP_MS} ms between rounds, TCP_NODELAY); server on core 0, client on core 1"
    run_one moongate "$MOONGATE"
    run_one nginx "$NGINX"
    [ -n "$OLD" ] && run_one old-build "$OLD"
} | tee "$OUT"
