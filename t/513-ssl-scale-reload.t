# TLS at scale and across a certificate change (issue 13's test list), with a real master and two
# workers:
# 1. SNI with 1000 server names: 1000 `listen ... ssl` servers nameN.test (odd ones on a.test's
#    certificate, even ones on b.test's) and a default server on localhost's; -t passes, the
#    server starts (its start time is printed), and a client's SNI picks the server and its
#    certificate; an unknown name gets the default server.  Then a reload swaps the
#    certificates of odd and even names (its time is printed too).
# 2. A reload that changes the certificate while clients are connected: a keepalive connection
#    made before the reload keeps the old certificate, for a request in flight across the reload;
#    a connection made after `-s reload` returns gets the new certificate.
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateProc;
use Test::Moongate::Certs;
use Test::More;
use IO::Socket::SSL;
use Time::HiRes ();

my $dir = Test::Moongate::Certs::make();

sub tls_connect {
    my ($port, $name) = @_;
    return IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $port, SSL_verify_mode => 0,
                                SSL_hostname => $name, Timeout => 5);
}

# reads one response (Content-Length bodies) from $c: (status line, headers, body)
sub read_response {
    my $c = shift;
    my $buf = '';
    my $deadline = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $deadline) {
        if ($buf =~ /\A(.*?\r\n)(.*?\r\n)\r\n/s) {
            my ($line, $head) = ($1, $2);
            my $len = $head =~ /^Content-Length:\s*(\d+)/mi ? $1 : 0;
            my $start = length($line) + length($head) + 2;
            return ($line, $head, substr($buf, $start, $len)) if length($buf) >= $start + $len;
        }
        my $n = sysread($c, $buf, 4096, length $buf);
        last unless $n;
    }
    return ('', '', $buf);
}

# (body, certificate CN) of a request on a new connection with SNI $name
sub get_sni {
    my ($port, $name) = @_;
    my $c = tls_connect($port, $name) or return ("no connection: $SSL_ERROR", '');
    print $c "GET / HTTP/1.1\r\nHost: $name\r\nConnection: close\r\n\r\n";
    my ($line, $head, $body) = read_response($c);
    my $cn = $c->peer_certificate('commonName') // '';
    close $c;
    return ($body, $cn);
}

# --- 1. SNI with 1000 server names

{
    my $n = 1000;
    my $s = Test::MoongateProc->new(name => 'sni-1000', workers => 2, listen => 'ssl default_server');
    my $port = $s->port;
    # the servers; $odd: the certificate of the odd ones (the even ones get the other)
    my $servers = sub {
        my $odd = shift;
        my $even = $odd eq 'a.test' ? 'b.test' : 'a.test';
        my $http = "    server_names_hash_max_size 4096;\n";
        for my $i (1 .. $n) {
            my $crt = $i % 2 ? $odd : $even;
            $http .= "    server {\n        listen 127.0.0.1:$port ssl;\n        server_name name$i.test;\n"
                   . "        ssl_certificate $dir/$crt.crt;\n        ssl_certificate_key $dir/$crt.key;\n"
                   . "        location / { return 200 \"name$i\\n\"; }\n    }\n";
        }
        return $http;
    };
    $s->write_conf(http => $servers->('a.test'), server => "        server_name localhost;\n"
        . "        ssl_certificate $dir/localhost.crt;\n        ssl_certificate_key $dir/localhost.key;\n"
        . "        location / { return 200 \"default\\n\"; }\n");

    my $t0 = Time::HiRes::time();
    my ($code, $out, $err) = $s->cmd({ timeout => 60 }, '-t'); # 20 s is short at load 40
    my $t_test = Time::HiRes::time() - $t0;
    is($code, 0, "-t passes with $n TLS servers") or diag("$out$err");

    $t0 = Time::HiRes::time();
    ok($s->start(cmd_timeout => 60, timeout => 30), "starts with $n TLS servers") or stop_here();
    my $t_start = Time::HiRes::time() - $t0;
    diag(sprintf("%s, %d TLS server names: -t %.2f s, start (master up, 2 workers answering) %.2f s",
                 proc_name(), $n, $t_test, $t_start));

    for my $c ([1, 'a.test'], [2, 'b.test'], [500, 'b.test'], [999, 'a.test'], [1000, 'b.test']) {
        my ($i, $cn) = @$c;
        my ($body, $got) = get_sni($port, "name$i.test");
        is($body, "name$i\n", "SNI name$i.test: its server");
        is($got, $cn, "SNI name$i.test: its certificate");
    }
    my ($body, $got) = get_sni($port, 'unknown.test');
    is($body, "default\n", 'an unknown SNI name: the default server');
    is($got, 'localhost', 'an unknown SNI name: the default certificate');

    # a reload of the 1000 servers with their certificates swapped
    $s->write_conf(http => $servers->('b.test'));
    $t0 = Time::HiRes::time();
    ($code, $out, $err) = $s->reload(cmd_timeout => 60, timeout => 60);
    my $t_reload = Time::HiRes::time() - $t0;
    is($code, 0, "-s reload with $n TLS servers") or diag("$out$err");
    diag(sprintf("%s, %d TLS server names: -s reload until new connections reach the new"
                 . " generation %.2f s", proc_name(), $n, $t_reload));
    for my $c ([1, 'b.test'], [1000, 'a.test']) {
        my ($i, $cn) = @$c;
        my ($body, $got) = get_sni($port, "name$i.test");
        is($body, "name$i\n", "after the reload, SNI name$i.test: its server");
        is($got, $cn, "after the reload, SNI name$i.test: its new certificate");
    }
    $s->stop;
}

# --- 2. a reload that changes the certificate while clients are connected

{
    my $s = Test::MoongateProc->new(name => 'cert-reload', workers => 2, listen => 'ssl');
    my $port = $s->port;
    my $server = sub {
        my $crt = shift;
        return "        ssl_certificate $dir/$crt.crt;\n        ssl_certificate_key $dir/$crt.key;\n"
             . "        location / { return 200 \"ok\\n\"; }\n";
    };
    $s->write_conf(server => $server->('localhost'));
    ok($s->start, 'started on the first certificate') or stop_here();
    is((get_sni($port, 'localhost'))[1], 'localhost', 'a new connection: the first certificate');

    # two keepalive connections with a request answered on each; on the first, the next request
    # is half sent when the reload happens; the second stays idle
    my $busy = tls_connect($port, 'localhost') or BAIL_OUT("connect: $SSL_ERROR");
    my $idle = tls_connect($port, 'localhost') or BAIL_OUT("connect: $SSL_ERROR");
    my $subject = $busy->peer_certificate('subject');
    like($subject, qr/CN\s*=\s*localhost/, 'the old subject');
    for my $c ($busy, $idle) {
        print $c "GET /1 HTTP/1.1\r\nHost: localhost\r\n\r\n";
        my ($line, $head, $body) = read_response($c);
        like($line, qr{^HTTP/1\.1 200}, 'a request before the reload');
        is($body, "ok\n", 'its body');
    }
    print $busy "GET /2 HTTP/1.1\r\nHost: localhost\r\n";

    $s->write_conf(server => $server->('b.test'));
    my ($code, $out, $err) = $s->reload;
    is($code, 0, '-s reload') or diag("$out$err");
    my ($body, $cn) = get_sni($port, 'localhost');
    is($cn, 'b.test', 'a new connection after the reload: the new certificate');
    is($body, "ok\n", 'and it is served');
    my $c = tls_connect($port, 'localhost');
    like($c ? $c->peer_certificate('subject') : '', qr/CN\s*=\s*b\.test/, 'the new subject');

    # the request begun before the reload completes on the old connection and certificate
    print $busy "\r\n";
    my ($line, $head, $body2) = read_response($busy);
    like($line, qr{^HTTP/1\.1 200}, 'the request in flight across the reload is answered');
    is($body2, "ok\n", 'its body');
    is($busy->peer_certificate('subject'), $subject, 'on the old certificate');
    close $busy;

    # nginx closes an idle keepalive connection when its generation ends; moongate's old
    # generation answers it once more (with "Connection: close"), so it is tested there only
    SKIP: {
        skip('an idle keepalive connection is closed by nginx at a reload', 3) if is_nginx();
        print $idle "GET /2 HTTP/1.1\r\nHost: localhost\r\n\r\n";
        my ($line, $head, $body) = read_response($idle);
        like($line, qr{^HTTP/1\.1 200}, 'the idle keepalive connection is answered after the reload');
        is($body, "ok\n", 'its body');
        is($idle->peer_certificate('subject'), $subject, 'on the old certificate');
    }
    close $idle;
    $s->stop;
}

done_testing;
