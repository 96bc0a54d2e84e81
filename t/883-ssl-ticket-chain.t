# TLS 1.3 resumption hands out a fresh ticket: a client that uses each ticket once (RFC 8446
# C.4, as browsers do) resumes again and again, each connection with the ticket the one before
# it received; with the master's keys, with ssl_session_ticket_key, and with the shared session
# cache instead of tickets (where the "ticket" names a cached session).
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::Moongate::Certs;
use Test::More;

my $dir = Test::Moongate::Certs::make();

my $root = "$Test::Moongate::ServRoot-ticket-chain";
File::Path::make_path($root);
open my $r, '<:raw', '/dev/urandom' or die;
read($r, my $key, 80) == 80 or die;
Test::Moongate::spew("$root/key80", $key);

my $links = 4;

# one connection: a request answered to the end, so that the tickets sent after the handshake
# are read; "Reused" or "New", and how many NewSessionTicket messages came
sub connect_once {
    my ($port, $in, $out) = @_;
    my $args = "-sess_out $out" . ($in ? " -sess_in $in" : '');
    my $text = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 10 openssl s_client -connect 127.0.0.1:$port -servername localhost -tls1_3 -msg -ign_eof $args 2>&1`;
    my ($how) = $text =~ /^(New|Reused), TLSv1\.3/m;
    my $tickets = () = $text =~ /^<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], NewSessionTicket/mg;
    return ($how // 'none', $tickets, $text =~ /^ok$/m ? 1 : 0);
}

# what identifies the ticket (or the cached session) a saved session resumes with
sub ticket_of {
    my $file = shift;
    my $text = `openssl sess_id -in $file -text -noout 2>&1`;
    my ($t) = $text =~ /TLS session ticket:\n(.*?)\n\s*\n/s;
    my ($id) = $text =~ /Session-ID: ([0-9A-F]*)/;
    return ($t // '') . ':' . ($id // '');
}

sub chain {
    my ($name, $extra) = @_;
    my $s = Test::MoongateProc->new(name => "chain-$name", binary => $Test::Moongate::Binary,
        workers => 1, listen => 'ssl',
        server => "        ssl_certificate $dir/localhost.crt;\n"
                . "        ssl_certificate_key $dir/localhost.key;\n"
                . "        ssl_protocols TLSv1.2 TLSv1.3;\n"
                . $extra
                . "        location / { return 200 \"ok\\n\"; }\n");
    ok($s->start, "$name: started") or return;
    my ($how, $n, $ok) = connect_once($s->port, undef, "$root/$name-0");
    is($how, 'New', "$name: a full handshake first");
    cmp_ok($n, '>=', 1, "$name: it gets tickets");
    for my $i (1 .. $links) {
        my $prev = "$root/$name-" . ($i - 1);
        ($how, $n, $ok) = connect_once($s->port, $prev, "$root/$name-$i");
        is($how, 'Reused', "$name: resumption $i, with the ticket the connection before got");
        ok($ok, "$name: resumption $i is answered");
        is($n, 1, "$name: resumption $i gets a new ticket");
        isnt(ticket_of("$root/$name-$i"), ticket_of($prev), "$name: resumption $i: another ticket to use next");
    }
    $s->stop;
}

chain('master-keys', '');
chain('key-file', "        ssl_session_ticket_key $root/key80;\n");
chain('cache', "        ssl_session_tickets off;\n        ssl_session_cache shared:CH:1m;\n");
chain('cache-and-tickets', "        ssl_session_cache shared:CT:1m;\n");

done_testing;
