# lingering_close on decides from what the server already knows of the client's input (the read
# reports and the reads, as nginx's read event "ready" flag), with no recv(MSG_PEEK) on every
# closing connection: bytes the client sent after its head was read, while the response
# waited (plain and TLS) or after part of it went out, make the close lingering (the response,
# then EOF; with lingering_close off, the same bytes make the close a reset, which shows they
# were there unread). Under TLS, a pipelined request OpenSSL read ahead with a head that filled
# the header buffer sits in OpenSSL's buffer, not in the socket: the close lingers too (a peek
# at the socket found nothing there), so what the client sends next is read, not reset.
# t/872: a client that sent nothing more gets no lingering, plain and TLS.
#
#   prove -I t/lib t/871-lingering-input-known.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/871-lingering-input-known.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::Moongate::Certs;
use IO::Socket::INET ();
use IO::Socket::SSL ();
use IO::Select ();
use Test::MoongateRaw qw(server_conn read_end);
use POSIX ();
use Time::HiRes ();

Test::Moongate::Certs::make();

plan 'no_plan';

sub conn { server_conn(@_) }

# A request on a connection of its own (one at a time, so the answers come in order): the body
sub get {
    my ($tls, $path) = @_;
    my $s = conn($tls);
    print {$s} "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    my ($out) = read_end($s);
    return $out =~ /\r\n\r\n(.*)\z/s ? $1 : '';
}

# Wait (bounded) until the handler of /wait?k=$k runs: the server has read that head
sub wait_started {
    my ($tls, $k) = @_;
    for (1 .. 250) {
        return 1 if get($tls, "/state?k=$k") eq '1';
        Time::HiRes::sleep(0.02);
    }
    return 0;
}

# GET /wait?k=$k (HTTP/1.0), then once its handler runs `$extra` on the same connection
# (raw or as a TLS record), then /go: how the connection ended after the answer
sub extra_while_waiting {
    my ($tls, $k, $extra, $seen) = @_;
    my $s = conn($tls);
    print {$s} "GET /wait?k=$k HTTP/1.0\r\nHost: localhost\r\n\r\n";
    my $pre = '';
    if ($seen) {
        ($pre) = read_end($s, $seen); # part of the answer went out already
    } else {
        wait_started($tls, $k) or return ('', 'not started');
    }
    print {$s} $extra;
    get($tls, "/go?k=$k");
    my ($out, $how) = read_end($s);
    return ($pre . $out, $how);
}

# After the server's EOF, does it still read what the client sends (lingering) or was the
# socket closed (a reset)? Raw bytes, under TLS too; two writes apart (the first one's RST
# makes the second fail)
sub after_eof {
    my $s = shift;
    local $SIG{PIPE} = 'IGNORE';
    my $fd = fileno($s);
    POSIX::write($fd, 'x', 1);
    Time::HiRes::sleep(0.3);
    return defined POSIX::write($fd, 'y', 1) ? 'read on' : 'RST';
}

our $Conf = <<'EOF';
    location = /t { return 200 "t\n"; }
    location = /wait {
        lingering_timeout 5s;
        content_by_lua_block {
            local st = ngx.shared.st
            local k = ngx.var.arg_k
            st:set("started" .. k, 1)
            if k:find("^flush") then
                ngx.say("start")
                ngx.flush(true)
            end
            for _ = 1, 500 do
                if st:get("go" .. k) then break end
                ngx.sleep(0.01)
            end
            ngx.say("done")
        }
    }
    location = /waitoff {
        lingering_close off;
        content_by_lua_block {
            local st = ngx.shared.st
            local k = ngx.var.arg_k
            st:set("started" .. k, 1)
            for _ = 1, 500 do
                if st:get("go" .. k) then break end
                ngx.sleep(0.01)
            end
            ngx.say("done")
        }
    }
    location = /state { content_by_lua_block { ngx.print(ngx.shared.st:get("started" .. ngx.var.arg_k) or 0) } }
    location = /go { content_by_lua_block { ngx.shared.st:set("go" .. ngx.var.arg_k, 1) ngx.print("ok") } }
    location /k { lingering_timeout 5s; return 200 "k $uri\n"; }
EOF

our $Http = <<'EOF';
    lua_shared_dict st 1m;
EOF

# a GET head of exactly $len bytes, padded with a header
sub head_of {
    my ($path, $len, $close) = @_;
    my $h = "GET $path HTTP/1.1\r\nHost: localhost\r\n" . ($close ? "Connection: close\r\n" : '');
    my $pad = $len - length($h) - length("X-Pad: \r\n\r\n");
    return $h . 'X-Pad: ' . ('p' x $pad) . "\r\n\r\n";
}

run_tests();

__DATA__

=== TEST 1: bytes sent after the head was read, while the response waits: lingering (EOF); with lingering_close off they are reset
--- http_config eval: $main::Http
--- config eval: $main::Conf
--- init
my ($out, $how) = main::extra_while_waiting(0, 'p1', 'z' x 100);
Test::More::like($out, qr{^HTTP/1\.1 200 .*\r\n\r\ndone\n\z}s, 'TEST 1: the answer');
Test::More::is($how, 'EOF', 'TEST 1: then EOF: the bytes were read and dropped');
my $s = main::conn(0);
print {$s} "GET /waitoff?k=p1off HTTP/1.0\r\nHost: localhost\r\n\r\n";
main::wait_started(0, 'p1off');
print {$s} 'z' x 100;
main::get(0, '/go?k=p1off');
Test::More::is((main::read_end($s))[1], 'RST', 'TEST 1: lingering_close off: a reset, the bytes were there unread');
--- request
GET /t
--- response_body
t



=== TEST 2: the same over TLS: a record sent after the head was read, while the response waits: lingering (EOF)
--- ssl
--- http_config eval: $main::Http
--- config eval: $main::Conf
--- init
my ($out, $how) = main::extra_while_waiting(1, 't2', "GET /k/next HTTP/1.0\r\n\r\n");
Test::More::like($out, qr{^HTTP/1\.1 200 .*\r\n\r\ndone\n\z}s, 'TEST 2: the answer');
Test::More::is($how, 'EOF', 'TEST 2: then EOF (close_notify and FIN): the record was read and dropped');
--- request
GET /t
--- response_body
t



=== TEST 3: bytes sent after part of the response went out, before its end: lingering (EOF)
--- http_config eval: $main::Http
--- config eval: $main::Conf
--- init
my ($out, $how) = main::extra_while_waiting(0, 'flush3', 'z' x 100, qr/start\n/);
Test::More::like($out, qr{^HTTP/1\.1 200 .*\r\n\r\nstart\ndone\n\z}s, 'TEST 3: the answer');
Test::More::is($how, 'EOF', 'TEST 3: then EOF: the bytes were read and dropped');
--- request
GET /t
--- response_body
t



=== TEST 4: TLS, a head that fills the 1k header buffer and a pipelined request in the same record: the second waits in OpenSSL's buffer, the close lingers
--- ssl
--- http_config eval: $main::Http
--- config eval: $main::Conf . "    client_header_buffer_size 1k;\n"
--- init
my $s = main::conn(1);
$s->syswrite(main::head_of('/k/1', 1024, 1) . "GET /k/2 HTTP/1.1\r\nHost: localhost\r\n\r\n");
my ($out, $how) = main::read_end($s);
Test::More::like($out, qr{^HTTP/1\.1 200 .*\r\n\r\nk /k/1\n\z}s, 'TEST 4: the first answer alone');
Test::More::is($how, 'EOF', 'TEST 4: then EOF');
Test::More::is(main::after_eof($s), 'read on', 'TEST 4: what the client sends next is read, not reset');
--- request
GET /t
--- response_body
t



=== TEST 5: plain, the same head filling the buffer with a request behind it in the socket: the close lingers
--- http_config eval: $main::Http
--- config eval: $main::Conf . "    client_header_buffer_size 1k;\n"
--- init
my $s = main::conn(0);
syswrite($s, main::head_of('/k/1', 1024, 1) . "GET /k/2 HTTP/1.1\r\nHost: localhost\r\n\r\n");
my ($out, $how) = main::read_end($s);
Test::More::like($out, qr{^HTTP/1\.1 200 .*\r\n\r\nk /k/1\n\z}s, 'TEST 5: the first answer alone');
Test::More::is($how, 'EOF', 'TEST 5: then EOF');
Test::More::is(main::after_eof($s), 'read on', 'TEST 5: what the client sends next is read, not reset');
--- request
GET /t
--- response_body
t
