# stream{} Lua over UDP (issue 20): content_by_lua* and preread_by_lua* in a "listen ... udp"
# server, ngx.req.socket() as stream-lua's UDP downstream (receive() gives the datagram and
# never waits: nil, "no more data" once it is read; send() answers the client), ngx.say as
# datagrams; a small DNS server written in Lua answers real queries. moongate only: Debian has
# no stream Lua module.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::More;
use IO::Socket::INET;
use IO::Select;

plan skip_all => 'stream Lua: moongate only (Debian has no stream-lua module for nginx)'
    if is_nginx();

# a DNS question for the A records of $name, with id $id
sub dns_query {
    my ($id, $name) = @_;
    my $q = pack('n6', $id, 0x0100, 1, 0, 0, 0);
    $q .= pack('C', length $_) . $_ for split /\./, $name;
    return $q . pack('Cnn', 0, 1, 1);
}

# (id, rcode, addresses) of an answer whose records follow one question and use a pointer
sub dns_answer {
    my $p = shift;
    return ('short') if length $p < 12;
    my ($id, $flags, $qd, $an) = unpack('n4', $p);
    my $off = 12;
    $off++ while $off < length $p && ord substr($p, $off, 1);
    $off += 5;
    my @a;
    for (1 .. $an) {
        my ($ptr, $type, $class, $ttl, $len) = unpack('nnnNn', substr($p, $off, 12));
        $off += 12;
        push @a, join('.', unpack('C4', substr($p, $off, 4))) if $type == 1 && $len == 4;
        $off += $len;
    }
    return ($id, $flags & 0xf, @a);
}

# send the datagrams from one client socket, collect the answers until none comes for $quiet s
sub udp_exchange {
    my ($port, $quiet, @msgs) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'udp') or die;
    my $sel = IO::Select->new($s);
    my @got;
    for my $m (@msgs) {
        $s->send($m);
        if ($sel->can_read(5)) { $s->recv(my $b, 65535); push @got, $b }
    }
    while ($sel->can_read($quiet)) { $s->recv(my $b, 65535); push @got, $b }
    return \@got;
}

my @p = map { Test::Moongate::find_free_port() } 1 .. 3;
my $s = Test::MoongateProc->new(name => 'stream_lua_udp', workers => 1, error_level => 'info');
my $alog = $s->dir . '/logs/stream.log';
$s->write_conf(stream => <<"EOF");
    log_format u '\$server_port \$protocol \$status \$bytes_received \$bytes_sent';
    access_log $alog u;

    # a DNS server: every name under "lua.test" is 127.0.0.<its length>, others NXDOMAIN
    server { listen 127.0.0.1:$p[0] udp;
        content_by_lua_block {
            local sock = assert(ngx.req.socket())
            local q = assert(sock:receive())
            local more, err = sock:receive()
            if more or err ~= "no more data" then
                ngx.log(ngx.ERR, "second receive: ", more, " ", err)
            end
            local labels, off = {}, 13
            while true do
                local len = q:byte(off)
                if not len or len == 0 then break end
                labels[#labels + 1] = q:sub(off + 1, off + len)
                off = off + len + 1
            end
            local name = table.concat(labels, ".")
            local question = q:sub(13, off + 4)
            local found = name:sub(-8) == "lua.test"
            local head = q:sub(1, 2) .. string.char(0x81, found and 0x80 or 0x83)
                         .. "\\0\\1" .. (found and "\\0\\1" or "\\0\\0") .. "\\0\\0\\0\\0"
            local answer = ""
            if found then
                answer = "\\192\\12\\0\\1\\0\\1\\0\\0\\0\\60\\0\\4"
                         .. string.char(127, 0, 0, #name)
            end
            assert(sock:send({head, question, answer}))
        }
    }

    # partial reads, then ngx.say: a datagram each
    server { listen 127.0.0.1:$p[1] udp;
        content_by_lua_block {
            local sock = ngx.req.socket(true)
            local a = sock:receive(3)
            local b = sock:receive()
            local c, err = sock:receive()
            ngx.say("a=", a, " b=", b, " c=", c, " err=", err)
            ngx.print("second")
        }
    }

    # preread_by_lua reads the datagram and may refuse the client; content answers
    server { listen 127.0.0.1:$p[2] udp;
        preread_by_lua_block {
            local sock = assert(ngx.req.socket())
            ngx.ctx.d = sock:receive()
            if ngx.ctx.d == "deny" then return ngx.exit(403) end
        }
        content_by_lua_block {
            local sock = ngx.req.socket()
            local d, err = sock:receive()
            assert(sock:send("preread got " .. ngx.ctx.d .. "; content: " .. tostring(d)
                             .. " " .. err))
        }
    }
EOF
$s->start or stop_here('the server did not start');

sub log_lines { -f $alog ? split /\n/, slurp($alog) : () }
sub logs_of {
    my ($port, $n) = @_;
    my @l;
    wait_for(sub { @l = grep { /^$port / } log_lines(); @l >= $n }, 10);
    return \@l;
}

my $mark = $s->log_mark;
my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$p[0]") or die $!;
my $sel = IO::Select->new($u);
my %got;
for my $q ([101, 'a.lua.test'], [102, 'abcdef.lua.test'], [103, 'other.test']) {
    send($u, dns_query(@$q), 0);
    next unless $sel->can_read(5);
    recv($u, my $pkt, 4096, 0);
    my ($id, $rcode, @a) = dns_answer($pkt);
    $got{$id} = "$rcode @a";
}
is_deeply(\%got, { 101 => '0 127.0.0.10', 102 => '0 127.0.0.15', 103 => '3 ' },
          'a DNS server in content_by_lua: each question its answer');
is_deeply(logs_of($p[0], 3), [("$p[0] UDP 200 28 44", "$p[0] UDP 200 33 49",
                               "$p[0] UDP 200 28 28")],
          'access_log: a session per question, the byte counts');

is_deeply(udp_exchange($p[1], 0.3, 'hello world'),
          ["a=hel b=lo world c=nil err=no more data\n", 'second'],
          'receive(3), receive() the rest, then "no more data"; ngx.say and ngx.print answer');

is_deeply(udp_exchange($p[2], 0.3, 'hi'), ['preread got hi; content: nil no more data'],
          'preread_by_lua reads the datagram; the content finds nothing more');
{
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p[2]", Proto => 'udp') or die;
    $c->send('deny');
    ok(!IO::Select->new($c)->can_read(1), 'preread_by_lua ngx.exit(403): no answer');
}
is((logs_of($p[2], 2))->[1], "$p[2] UDP 403 4 0", 'access_log: 403');

unlike($s->log_since($mark), qr/\[(error|alert|crit|emerg)\]/, 'no error in the error log');
$s->stop;
done_testing();
