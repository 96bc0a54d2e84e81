# TLS sessions resume across a HUP and across a USR2 upgrade (issue 13 ★, issue 14 item 2):
# without ssl_session_ticket_key the ticket keys are made once by the master in shared memory,
# which every generation and the new binary of an upgrade share; the shared session cache is a
# zone that a HUP keeps and a USR2 hands over.  For each, with TLSv1.2 and TLSv1.3: a session
# saved by `openssl s_client -sess_out` resumes (`-sess_in`: "Reused") after a reload that
# changed the configuration and after a complete upgrade (USR2, the new master's workers serve,
# QUIT to the old master).
#
# moongate only: nginx 1.22 makes new ticket keys in every generation and starts every zone
# empty in a new binary, so its sessions resume after neither.  To see it:
# TEST_MOONGATE_FORCE=1 TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -v -I t/lib t/512-ssl-resume-reload.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::Moongate::Certs;
use Test::More;

if (is_nginx && !$ENV{TEST_MOONGATE_FORCE}) {
    plan(skip_all => 'sessions across HUP and USR2: moongate only (nginx 1.22 fails both;'
                     . ' TEST_MOONGATE_FORCE=1 runs it anyway)');
}
my $Force = is_nginx;

my $dir = Test::Moongate::Certs::make();

# a request is sent and its answer read (-ign_eof): a TLSv1.3 ticket comes after the handshake
sub s_client {
    my ($s, $proto, $args) = @_;
    my $req = $s->dir . '/req.txt';
    spew($req, "GET / HTTP/1.0\r\n\r\n") unless -e $req;
    return scalar `timeout 10 openssl s_client -connect 127.0.0.1:@{[$s->port]} -servername localhost -$proto -ign_eof $args < $req 2>&1`;
}

# a change the reload must see (a real new generation): the body
sub server_part {
    my ($mode, $v) = @_;
    my $sess = $mode eq 'tickets' ? "        ssl_session_tickets on;\n"
             : "        ssl_session_tickets off;\n        ssl_session_cache shared:SSL:1m;\n";
    return "        ssl_certificate $dir/localhost.crt;\n        ssl_certificate_key $dir/localhost.key;\n"
         . "        ssl_protocols TLSv1.2 TLSv1.3;\n"
         . $sess . "        location / { return 200 \"v$v \$ssl_session_reused\\n\"; }\n";
}

my $n = 0;
for my $mode ('tickets', 'cache') {
    for my $proto ('tls1_2', 'tls1_3') {
        my $label = "$mode, $proto";
        my $s = Test::MoongateProc->new(name => "resume-$mode-$proto", workers => 2, listen => 'ssl',
                                        error_level => 'notice');
        $s->write_conf(server => server_part($mode, 1));
        $s->use_binary_copy;
        ok($s->start, "$label: started") or next;
        my $sess = $s->dir . '/sess.pem';
        like(s_client($s, $proto, "-sess_out $sess"), qr/^New, /m, "$label: a new session");
        ok(-s $sess, "$label: saved");
        like(s_client($s, $proto, "-sess_in $sess"), qr/^Reused, /m, "$label: it resumes");

        $s->write_conf(server => server_part($mode, 2));
        my ($code, $out, $err) = $s->reload;
        is($code, 0, "$label: reloaded") or diag("$out$err");
        my $r = s_client($s, $proto, "-sess_in $sess");
        if ($Force) {
            diag(proc_name() . ": $label: after HUP: " . ($r =~ /^(New|Reused), /m ? $1 : 'no handshake'));
        } else {
            like($r, qr/^Reused, /m, "$label: after a HUP it still resumes");
        }

        ok($s->upgrade(2), "$label: upgraded (USR2, new workers, QUIT to the old master)");
        $r = s_client($s, $proto, "-sess_in $sess");
        if ($Force) {
            diag(proc_name() . ": $label: after USR2: " . ($r =~ /^(New|Reused), /m ? $1 : 'no handshake'));
        } else {
            like($r, qr/^Reused, /m, "$label: after a USR2 upgrade it still resumes");
        }
        ok($s->stop, "$label: stopped");
    }
}

# the built-in keys rotate: every ssl_session_timeout a new key seals the tickets (its name is a
# ticket's first 16 bytes), and a ticket sealed under the previous key still resumes.  A session
# made under ssl_session_timeout 1h, then a HUP to 1s: the key is due at once, the session not.
unless ($Force) {
    my $s = Test::MoongateProc->new(name => 'resume-rotate', workers => 2, listen => 'ssl');
    my $conf = sub {
        "        ssl_certificate $dir/localhost.crt;\n        ssl_certificate_key $dir/localhost.key;\n"
      . "        ssl_session_timeout $_[0];\n        location / { return 200 \"ok\\n\"; }\n";
    };
    $s->write_conf(server => $conf->('1h'));
    ok($s->start, 'rotation: started') or stop_here();
    my $sess = $s->dir . '/sess.pem';
    my $key = sub {    # the key name of a new ticket
        my $out = s_client($s, 'tls1_2', $_[0] // '');
        return $out =~ /TLS session ticket:\n\s*0000 - ((?:[0-9a-f]{2}[ -]){16})/ ? $1 =~ s/[ -]//gr : '';
    };
    my $k1 = $key->("-sess_out $sess");
    like($k1, qr/^[0-9a-f]{32}$/, 'rotation: a ticket, saved');
    is($key->(), $k1, 'rotation: the next ticket under the same key');
    $s->write_conf(server => $conf->('1s'));
    my ($code) = $s->reload;
    is($code, 0, 'rotation: reloaded with ssl_session_timeout 1s');
    my $k2;
    ok(wait_for(sub { $k2 = $key->(); $k2 ne $k1 }, 10), 'rotation: within a second or so, a new key')
        or diag("still $k1");
    like(s_client($s, 'tls1_2', "-sess_in $sess"), qr/^Reused, /m,
         'rotation: the ticket under the previous key still resumes');
    ok($s->stop, 'rotation: stopped');
}

done_testing();
