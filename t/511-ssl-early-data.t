# ssl_early_data: a resumed TLS 1.3 client's early data (0-RTT) is accepted and holds its
# first request, for which $ssl_early_data is "1" (the application's cue to refuse replayable
# requests); off, early data is rejected. Client: openssl s_client -sess_in -early_data.
use Test::Moongate;
use Test::Moongate::Certs;

Test::Moongate::Certs::make();
log_level('info');

# a session, then a resumed connection whose request goes as early data: s_client's output
sub early {
    my $port = $Test::Moongate::ServerPort;
    my $root = $Test::Moongate::ServRoot;
    my $cmd = "timeout 10 openssl s_client -connect 127.0.0.1:$port -tls1_3 -servername localhost";
    open my $f, '>', "$root/early.txt" or die $!;
    print $f "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    close $f;
    # the ticket comes before the response: reading until the server closes (-ign_eof) gets it
    `$cmd -ign_eof -sess_out $root/sess.pem < $root/early.txt 2>&1`;
    return scalar `$cmd -ign_eof -sess_in $root/sess.pem -early_data $root/early.txt < /dev/null 2>&1`;
}

run_tests();

__DATA__

=== TEST 1: early data accepted; $ssl_early_data for its request, not for a full handshake's
--- ssl
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_early_data on;
    location / { return 200 "early=[$ssl_early_data]\n"; }
--- init
my $out = main::early();
Test::More::like($out, qr/^Early data was accepted/m, "accepted");
Test::More::like($out, qr/^early=\[1\]$/m, "its request sees \$ssl_early_data 1");
--- request
GET /
--- response_body
early=[]



=== TEST 2: ssl_early_data off (the default): no early data is taken
--- ssl
--- config
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "early=[$ssl_early_data]\n"; }
--- init
my $out = main::early();
Test::More::like($out, qr/^Early data was (?:not sent|rejected)/m, "no early data");
Test::More::unlike($out, qr/^early=\[1\]/m, "no request in early data");
--- request
GET /
--- response_body
early=[]
