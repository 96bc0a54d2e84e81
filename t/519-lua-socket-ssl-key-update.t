# A TLS 1.3 peer's KeyUpdate in the middle of a cosocket's conversation: openssl s_server is
# told ("K" on its stdin, a FIFO the Lua code writes to) to update its keys and ask for ours,
# then sends a line; the cosocket reads the line (under the peer's new key), answers the
# update with its own KeyUpdate (s_server -msg shows both) and its reply goes out under the
# new key. (A read whose KeyUpdate answer finds the socket full waits for writability too,
# lua/socket_tcp_io.c; this test does not fill the socket.)
use Test::Moongate;
use Test::Moongate::Certs;
use POSIX ();
use Time::HiRes ();

my $dir = Test::Moongate::Certs::make();
log_level('info');
our $Root = $Test::Moongate::ServRoot;
our $Fifo = "/tmp/mg-keyupdate-$$.fifo";
our $Out = "/tmp/mg-keyupdate-$$.out";
unlink $Fifo;
POSIX::mkfifo($Fifo, 0666) or die "mkfifo: $!";
our $port = env_port('TEST_NGINX_SSERVER_PORT');
$ENV{TEST_NGINX_FIFO} = $Fifo;

# s_server reads its commands from the FIFO; this process holds it open for writing so that
# s_server sees no end of its input
our $pid = fork // die "fork: $!";
if ($pid == 0) {
    open STDIN, '<', $Fifo or POSIX::_exit(1);
    open STDOUT, '>', $Out or POSIX::_exit(1);
    open STDERR, '>&', \*STDOUT;
    exec 'openssl', 's_server', '-accept', "127.0.0.1:$port", '-cert', "$dir/localhost.crt",
        '-key', "$dir/localhost.key", '-tls1_3', '-naccept', '1', '-msg'
        or POSIX::_exit(1);
}
open our $Hold, '>', $Fifo or die "open $Fifo: $!";
END {
    if ($pid) { kill 'TERM', $pid; waitpid $pid, 0 }
    unlink $Fifo, $Out;
}
for (1 .. 100) {
    last if (Test::Moongate::slurp($Out) // '') =~ /ACCEPT/;
    Time::HiRes::sleep(0.05);
}

sub sserver_got {
    my $re = shift;
    for (1 .. 100) {
        my $o = Test::Moongate::slurp($Out) // '';
        return 1 if $o =~ $re;
        Time::HiRes::sleep(0.05);
    }
    return 0;
}

run_tests();

__DATA__

=== TEST 1: the cosocket reads and writes across the peer's key update
--- config
    lua_ssl_protocols TLSv1.2 TLSv1.3;
    location / {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeouts(5000, 5000, 5000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SSERVER_PORT))
            assert(sock:sslhandshake(nil, "localhost", false))
            assert(sock:send("hello\n"))
            -- s_server: update the keys, ask for ours, then a line
            local f = assert(io.open("$TEST_NGINX_FIFO", "w"))
            f:write("K\n")
            f:flush()
            ngx.sleep(0.3)
            f:write("after the update\n")
            f:close()
            local line, err = sock:receive()
            ngx.say("got: ", line, " ", err)
            assert(sock:send("reply under the new key\n"))
            ngx.sleep(0.2)
            sock:close()
        }
    }
--- request
GET /
--- response_body
got: after the update nil
--- no_error_log
[error]
--- init
# (runs before the request: nothing to check yet)
1;



=== TEST 2: s_server sent the key update and read the answer under the new keys
--- config
    location / { return 200 "ok\n"; }
--- init
Test::More::ok(main::sserver_got(qr/^>>> .*KeyUpdate/m), "s_server sent a KeyUpdate");
Test::More::ok(main::sserver_got(qr/^<<< .*KeyUpdate/m), "the cosocket answered with its own");
Test::More::ok(main::sserver_got(qr/reply under the new key/), "s_server read the reply");
--- request
GET /
--- response_body
ok
