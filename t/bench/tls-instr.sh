#!/bin/bash
# The cost of TLS in moongate against nginx, in counts a loaded machine cannot move (the other
# sessions' load made t/bench/tls.sh's req/s ratios swing by 30%): per keepalive HTTPS request
# (a 3-byte file and a 64 KiB one) and per handshake (full, and resumed with a TLS 1.3 ticket;
# and a full TLS 1.2 one, ECDHE-ECDSA-AES128-GCM-SHA256), ECDSA P-256, TLS 1.3 unless said,
# one process each (master_process off):
#   - user-space instructions (valgrind --tool=callgrind between callgrind_control -z and -d),
#     and the calls to SSL_read, SSL_write and malloc in them;
#   - system calls (strace -c), and the TLS records and write(2)s the server sent (strace of
#     its writes, the records walked by their headers), per request and per full handshake.
# Requests: one connection sends N requests one after the other, each answer read whole; the
# same with 1 request is subtracted, so the handshake is not in the per-request figures.
# Handshakes: K connections of one request each, less K requests. BEFORE=binary adds a column
# (e.g. the previous commit built in a detached worktree). Then each server (outside valgrind)
# takes K full and K resumed handshakes and N requests of each size on 10 connections, and
# its memory is read from /proc (VmRSS, and its anonymous, file and shared parts).
# Writes t/bench/results-tls-instr-DATE.txt.
#
#   t/bench/tls-instr.sh   (N=200 K=40 BEFORE= NGINX=/usr/sbin/nginx)

. "$(dirname "$0")/lib.sh"
bench_init bench-tls-instr
N=${N:-200}
K=${K:-40}
BEFORE=${BEFORE:-}
OUT=$ROOT/t/bench/results-tls-instr-$(date -u +%Y%m%d-%H%M%S).txt
need_pkg valgrind valgrind
need_pkg strace strace
need_pkg openssl openssl
perl -MIO::Socket::SSL -e1 2>/dev/null || need_pkg /nonexistent libio-socket-ssl-perl
mkdir -p "$WORK/html"
printf 'ok\n' >"$WORK/html/small.txt"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/ec.key" -out "$WORK/ec.crt" >/dev/null 2>&1 || die "openssl failed"

write_conf() { # name port
    conf_write "$1" <<EOF
http {
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:10m;
    root $WORK/html;
    server {
        listen 127.0.0.1:$2 ssl;
        ssl_certificate $WORK/ec.crt;
        ssl_certificate_key $WORK/ec.key;
    }
}
EOF
}

# client PORT PATH CONNS REQS [resume|tls12]: CONNS connections one after the other, REQS
# requests on each, every answer read whole, each closed with a close_notify; "resume" offers
# the last connection's TLS 1.3 ticket, "tls12" speaks TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256,
# as tls.sh's s_time case). Prints "answers-200 resumed-connections"
cat >"$WORK/client.pl" <<'EOF'
use strict;
use IO::Socket::SSL;
my ($port, $path, $conns, $reqs, $opt) = @ARGV;
my $resume = ($opt // '') eq 'resume';
my @version = ($opt // '') eq 'tls12'
    ? (SSL_version => 'TLSv1_2', SSL_cipher_list => 'ECDHE-ECDSA-AES128-GCM-SHA256')
    : (SSL_version => 'TLSv1_3');
# one client context for all the connections: its session cache offers the last ticket
my $ctx = IO::Socket::SSL::SSL_Context->new(SSL_verify_mode => 0, @version,
    $resume ? (SSL_session_cache_size => 4) : ()) or die "context: $SSL_ERROR\n";
my ($ok, $reused) = (0, 0);
for (1 .. $conns) {
    my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$port", SSL_reuse_ctx => $ctx,
        SSL_hostname => 'localhost', $resume ? (SSL_session_key => 'bench') : ())
        or die "connect: $SSL_ERROR\n";
    $reused++ if $s->get_session_reused;
    my $buf = '';
    my $fill = sub { my $r = sysread($s, $buf, 65536, length $buf); die "eof\n" unless $r; };
    for (1 .. $reqs) {
        print $s "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n" or die "write: $!\n";
        $fill->() until $buf =~ /\r\n\r\n/;
        my $head = substr($buf, 0, index($buf, "\r\n\r\n") + 4, '');
        $ok++ if $head =~ m{^HTTP/1\.1 200 };
        my ($len) = $head =~ /^content-length:\s*(\d+)/mi;
        $fill->() while length $buf < $len;
        substr($buf, 0, $len, '');
    }
    $s->close(SSL_fast_shutdown => 1);
}
print "$ok $reused\n";
EOF
client() { taskset -c 1 perl "$WORK/client.pl" "$@"; }

cg_total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }

# instr BINARY SERVER: "case Ir SSL_read SSL_write malloc" lines in $WORK/instr-SERVER
instr() {
    local bin=$1 server=$2 name=cg-$2 port dir vp
    port=$(free_port)
    dir=$WORK/$name
    cg_start "$bin" "$name" "$port"
    vp=$CG_PID
    client "$port" /small.txt 2 2 >/dev/null
    # dump one run: zero, run the client, dump; prints the dump's file (the dumps are
    # numbered from 1; run is called in a subshell, so it counts them, and waits for the new
    # one to be written whole: on a loaded machine callgrind_control can return before)
    run() {
        local next f
        next=$(( $(ls "$dir" | grep -c '^cg\.out\.[0-9]') + 1 ))
        f=$dir/cg.out.$next
        callgrind_control -z "$vp" >/dev/null 2>&1
        client "$port" "$@" >/dev/null
        callgrind_control -d "$vp" >/dev/null 2>&1
        for _ in $(seq 600); do
            [ -f "$f" ] && grep -q '^totals:' "$f" && break
            sleep 0.1
        done
        grep -q '^totals:' "$f" 2>/dev/null || die "no callgrind dump $f"
        echo "$f"
    }
    local f1 fn
    for path in /small.txt /64k.bin; do
        f1=$(run "$path" 1 1)
        fn=$(run "$path" 1 $((N + 1)))
        local line="$path"
        line+=" $(( ($(cg_total "$fn") - $(cg_total "$f1")) / N ))"
        for fun in SSL_read SSL_write malloc; do
            line+=" $(awk -v a="$(cg_calls "$fn" "$fun")" -v b="$(cg_calls "$f1" "$fun")" -v n="$N" \
                'BEGIN { printf "%.2f", (a - b) / n }')"
        done
        echo "$line" >>"$WORK/instr-$server"
    done
    # per handshake: K + 1 connections of one small request less 1 (for "resumed", the
    # first is the full one whose ticket the others offer), less a request each
    local per_req
    per_req=$(awk '$1 == "/small.txt" { print $2 }' "$WORK/instr-$server")
    for kind in full resumed full12; do
        local opt=
        [ $kind = resumed ] && opt=resume
        [ $kind = full12 ] && opt=tls12
        f1=$(run /small.txt 1 1 $opt)
        fn=$(run /small.txt $((K + 1)) 1 $opt)
        local line="$kind $(( ($(cg_total "$fn") - $(cg_total "$f1")) / K - per_req ))"
        for fun in SSL_read SSL_write malloc; do
            line+=" $(awk -v a="$(cg_calls "$fn" "$fun")" -v b="$(cg_calls "$f1" "$fun")" -v n="$K" \
                'BEGIN { printf "%.2f", (a - b) / n }')"
        done
        echo "$line" >>"$WORK/instr-$server"
    done
    kill "$vp" 2>/dev/null
    wait "$vp" 2>/dev/null
}

# TLS records and writes in a strace -e write,writev -xx log of the server (one connection)
records() { # strace-file -> "records writes"
    perl -e '
        my ($recs, $writes, $stream) = (0, 0, "");
        while (<STDIN>) {
            next unless /^(?:\d+\s+)?(write|writev)\((\d+), (.*)\) = (\d+)$/;
            my ($args, $ret) = ($3, $4);
            my $hex = join "", $args =~ /"((?:\\x[0-9a-f]{2})*)"/g;
            $hex =~ s/\\x//g;
            $stream .= substr(pack("H*", $hex), 0, $ret);
            $writes++;
        }
        while (length $stream >= 5) {
            my $len = unpack("n", substr($stream, 3, 2));
            last if length $stream < 5 + $len;
            substr($stream, 0, 5 + $len, "");
            $recs++;
        }
        print "$recs $writes\n";
    ' <"$1"
}

# sys BINARY SERVER: "path syscalls records writes" lines in $WORK/sys-SERVER, strace -c tables
sys() {
    local bin=$1 server=$2 name=st-$2 port dir sp
    port=$(free_port)
    dir=$WORK/$name
    start_server "$bin" "$name" "$port"
    sp=$STARTED
    client "$port" /small.txt 2 2 >/dev/null
    trace() { # out-file strace-options... -- client args
        local out=$1 opts=()
        shift
        while [ "$1" != -- ]; do opts+=("$1"); shift; done
        shift
        strace "${opts[@]}" -f -p "$sp" -o "$out" 2>/dev/null &
        local tp=$!
        for _ in $(seq 250); do
            awk '/^TracerPid:/ { exit !($2 > 0) }' "/proc/$sp/status" && break
            sleep 0.02
        done
        client "$port" "$@" >/dev/null
        sleep 0.2
        kill -INT "$tp"
        wait "$tp" 2>/dev/null
    }
    # between: "syscalls records writes" of the client run CONNS-N REQS-N less the run
    # CONNS-1 REQS-1, divided by DIV; the strace -c table of the larger run in systable
    between() { # title div path conns-1 reqs-1 conns-n reqs-n [opt]
        local title=$1 div=$2 path=$3 c1=$4 q1=$5 cn=$6 qn=$7 opt=${8:-}
        trace "$dir/c1" -c -- "$path" "$c1" "$q1" $opt
        trace "$dir/cn" -c -- "$path" "$cn" "$qn" $opt
        local s1 sn
        s1=$(awk '$NF == "total" { print $4 }' "$dir/c1")
        sn=$(awk '$NF == "total" { print $4 }' "$dir/cn")
        trace "$dir/w1" -e trace=write,writev -xx -s 100000 -- "$path" "$c1" "$q1" $opt
        trace "$dir/wn" -e trace=write,writev -xx -s 100000 -- "$path" "$cn" "$qn" $opt
        local r1 w1 rn wn
        read -r r1 w1 < <(records "$dir/w1")
        read -r rn wn < <(records "$dir/wn")
        awk -v s1="$s1" -v sn="$sn" -v r1="$r1" -v rn="$rn" -v w1="$w1" -v wn="$wn" \
            -v n="$div" 'BEGIN { printf "%.2f %.2f %.2f\n", (sn - s1) / n, (rn - r1) / n,
                               (wn - w1) / n }'
        { echo "$server $title:"
          awk 'NR > 2 && $1 ~ /^[0-9.]+$/ { print "   ", $0 }' "$dir/cn" | sort -k4 -rn | head -8
        } >>"$WORK/systable"
    }
    for path in /small.txt /64k.bin; do
        echo "$path $(between "$path, $N requests (+1 and the handshake)" "$N" "$path" 1 1 1 \
            $((N + 1)))" >>"$WORK/sys-$server"
    done
    # per full handshake: K + 1 connections of one small request less 1, less a request each
    local kind opt sc rc wc
    read -r _ sc rc wc < <(grep '^/small.txt ' "$WORK/sys-$server")
    for kind in full full12; do
        opt=
        [ $kind = full12 ] && opt=tls12
        between "$kind, $K connections of one request (+1)" "$K" /small.txt 1 1 $((K + 1)) 1 \
            $opt | awk -v k="$kind" -v sc="$sc" -v rc="$rc" -v wc="$wc" \
            '{ printf "%s %.2f %.2f %.2f\n", k, $1 - sc, $2 - rc, $3 - wc }' >>"$WORK/sys-$server"
    done
    kill "$sp" 2>/dev/null
    wait "$sp" 2>/dev/null
}

# mem BINARY SERVER: memory after K full and K resumed handshakes and N requests of each size
mem() {
    local bin=$1 server=$2 name=mem-$2 port sp
    port=$(free_port)
    start_server "$bin" "$name" "$port"
    sp=$STARTED
    client "$port" /small.txt "$K" 1 >/dev/null
    client "$port" /small.txt "$K" 1 resume >/dev/null
    local i cl=()
    for i in $(seq 10); do
        client "$port" /small.txt 1 "$N" >/dev/null &
        cl+=($!)
        client "$port" /64k.bin 1 "$((N / 10))" >/dev/null &
        cl+=($!)
    done
    wait "${cl[@]}"
    awk '/^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem):/ { v[$1] = $2 }
         END { printf "%6d %6d %6d %6d %6d\n", v["VmRSS:"], v["VmHWM:"], v["RssAnon:"],
               v["RssFile:"], v["RssShmem:"] }' "/proc/$sp/status" >"$WORK/memory-$server"
    kill "$sp" 2>/dev/null
    wait "$sp" 2>/dev/null
}

SERVERS=(moongate nginx)
[ -n "$BEFORE" ] && SERVERS=(before moongate nginx)
for s in "${SERVERS[@]}"; do
    case $s in
    before) bin=$BEFORE ;;
    moongate) bin=$MOONGATE ;;
    nginx) bin=$NGINX ;;
    esac
    instr "$bin" "$s"
    sys "$bin" "$s"
    mem "$bin" "$s"
done

{
    echo "# $BENCH $(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_line
    [ -n "$BEFORE" ] && echo "before: $BEFORE"
    echo "openssl: $(openssl version)"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; these counts do not depend on it)"
    echo "command: N=$N K=$K BEFORE=$BEFORE t/bench/tls-instr.sh"
    echo "ECDSA P-256, TLS 1.3 (full12: TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256), one connection"
    echo "at a time (perl IO::Socket::SSL on core 1), each closed by the client with a close_notify"
    echo
    echo "per request on a keepalive connection (handshake subtracted) and per handshake"
    echo "(its one request subtracted): user-space instructions (callgrind) and the calls in them"
    printf '%-10s %-9s %10s %8s %9s %7s\n' case server instr SSL_read SSL_write malloc
    for c in /small.txt /64k.bin full resumed full12; do
        for s in "${SERVERS[@]}"; do
            read -r _ ir rd wr ma < <(grep "^$c " "$WORK/instr-$s")
            printf '%-10s %-9s %10s %8s %9s %7s\n' "$c" "$s" "$ir" "$rd" "$wr" "$ma"
        done
    done
    echo
    echo "per request, and per full handshake (its one request subtracted): system calls"
    echo "(strace -c), TLS records and write(2)/writev(2) calls sent"
    printf '%-10s %-9s %9s %8s %7s\n' case server syscalls records writes
    for c in /small.txt /64k.bin full full12; do
        for s in "${SERVERS[@]}"; do
            read -r _ sc rc wc < <(grep "^$c " "$WORK/sys-$s")
            printf '%-10s %-9s %9s %8s %7s\n' "$c" "$s" "$sc" "$rc" "$wc"
        done
    done
    echo
    echo "memory (KiB) after $K full + $K resumed handshakes and $N requests of each size on 10"
    echo "connections (VmRSS counts the shared libraries' and the shared zones' touched pages)"
    printf '%-9s %6s %6s %6s %6s %6s\n' server VmRSS VmHWM anon file shmem
    for s in "${SERVERS[@]}"; do
        printf '%-9s %s\n' "$s" "$(cat "$WORK/memory-$s")"
    done
    echo
    echo "system calls per $N requests and per $K handshakes (strace -c: calls column 4):"
    cat "$WORK/systable"
} | tee "$OUT"
echo "written to ${OUT#$ROOT/}"
