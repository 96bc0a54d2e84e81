# stream {}: configuration checks a differential run against Debian's nginx (1.22) found
# moongate answering otherwise, checked here on both: a variable no module defines fails -t
# (unknown "NAME" variable, said without FILE:LINE), a lone "$" is an invalid variable name,
# proxy_pass to a name without a port nor upstream{} of that name is "no port in upstream"
# (http's fastcgi_pass NAME too),
# listen's udp refuses backlog, so_keepalive and proxy_protocol in nginx's words ("listen"
# directive ... parameter is incompatible with "udp"), and proxy_pass beside return is no
# duplicate: the later of the two serves; "no proxy_ssl_trusted_certificate for
# proxy_ssl_verify" has no FILE:LINE.
use strict;
use warnings;
use Test::Moongate ();
use Test::MoongateProc;
use Test::MoongateStream;
use Test::More;

my $s = Test::MoongateProc->new(name => 'sdconf', workers => 1, error_level => 'info');
my $conf = $s->conf_file;

# -t on a stream{} inside: (exit code, stderr, the line of the conf that has $mark)
sub check {
    my ($stream, $mark) = @_;
    my $text = $s->write_conf(stream => $stream);
    my @lines = split /\n/, $text;
    my ($line) = grep { index($lines[$_ - 1], $mark) >= 0 } 1 .. @lines;
    my ($code, undef, $err) = $s->cmd('-t');
    return ($code, $err, $line);
}

my @cases = (
    ['server { listen 127.0.0.1:1; return "a $nosuchvar"; }', undef,
     qr/\[emerg\] (?:\d+#\d+: )?unknown "nosuchvar" variable\n/, 'an unknown variable in return'],
    ["log_format f '\$nosuchlog';\n    server { listen 127.0.0.1:1; return x; }", undef,
     qr/\[emerg\] (?:\d+#\d+: )?unknown "nosuchlog" variable\n/, 'an unknown variable in log_format'],
    ['server { listen 127.0.0.1:1; return "$"; }', 'return "$"',
     qr/\[emerg\] (?:\d+#\d+: )?invalid variable name in \Q$conf\E:LINE\n/, 'a lone $'],
    ['server { listen 127.0.0.1:1; proxy_pass nosuch; }', 'proxy_pass nosuch',
     qr/\[emerg\] (?:\d+#\d+: )?no port in upstream "nosuch" in \Q$conf\E:LINE\n/,
     'proxy_pass NAME without a port'],
    ['server { listen 127.0.0.1:1 udp backlog=10; return x; }', 'backlog=10',
     qr/\[emerg\] (?:\d+#\d+: )?"listen" directive "backlog" parameter is incompatible with "udp" in \Q$conf\E:LINE\n/,
     'udp with backlog'],
    ['server { listen 127.0.0.1:1 udp so_keepalive=off; return x; }', 'so_keepalive=off',
     qr/\[emerg\] (?:\d+#\d+: )?"listen" directive "so_keepalive" parameter is incompatible with "udp" in \Q$conf\E:LINE\n/,
     'udp with so_keepalive'],
    ['server { listen 127.0.0.1:1; proxy_pass 127.0.0.1:2; proxy_ssl on; proxy_ssl_verify on; }', undef,
     qr/\[emerg\] (?:\d+#\d+: )?no proxy_ssl_trusted_certificate for proxy_ssl_verify\n/,
     'proxy_ssl_verify without proxy_ssl_trusted_certificate, said without FILE:LINE'],
    ['server { listen 127.0.0.1:1 udp proxy_protocol; return x; }', 'udp proxy_protocol',
     qr/\[emerg\] (?:\d+#\d+: )?"listen" directive "proxy_protocol" parameter is incompatible with "udp" in \Q$conf\E:LINE\n/,
     'udp with proxy_protocol'],
);
for my $c (@cases) {
    my ($stream, $mark, $re, $what) = @$c;
    my ($code, $err, $line) = check($stream, $mark // 'listen 127.0.0.1:1');
    isnt($code, 0, "$what: -t fails");
    my $want = "$re";
    $want =~ s/LINE/$line/;
    like($err, qr/$want/, "$what: the message");
}

# http's fastcgi_pass NAME without a port says the same (the upstream code is shared)
{
    my $text = $s->write_conf(stream => '', http => 'server { listen 127.0.0.1:1; location / { fastcgi_pass nosuchfcgi; } }');
    my @lines = split /\n/, $text;
    my ($line) = grep { index($lines[$_ - 1], 'fastcgi_pass nosuchfcgi') >= 0 } 1 .. @lines;
    my ($code, undef, $err) = $s->cmd('-t');
    isnt($code, 0, 'fastcgi_pass NAME without a port: -t fails');
    like($err, qr/\[emerg\] (?:\d+#\d+: )?no port in upstream "nosuchfcgi" in \Q$conf\E:$line\n/,
         'fastcgi_pass NAME without a port: the message');
    $s->write_conf(http => '');
}

# known names pass: a named capture of a map's regex, $1, a set variable of another server
{
    my ($code, $err) = check(<<'EOF', 'x');
    map $remote_addr $m { ~^(?<oct>\d+) $oct; default x; }
    server { listen 127.0.0.1:1; return "$m $oct $1 ${server_port} $b"; }
    server { listen 127.0.0.1:2; set $b 1; return "$b"; }
EOF
    is($code, 0, 'variables that are defined: -t passes') or diag($err);
}

# proxy_pass and return in one server: the later serves
{
    my $echo = tcp_server(\&echo_serve);
    my @p = map { Test::Moongate::find_free_port() } 1 .. 2;
    $s->write_conf(stream => <<"EOF");
    server { listen 127.0.0.1:$p[0]; proxy_pass 127.0.0.1:$echo; return "ret\\n"; }
    server { listen 127.0.0.1:$p[1]; return "ret\\n"; proxy_pass 127.0.0.1:$echo; }
EOF
    $s->start or stop_here('the server did not start');
    my ($got) = exchange($p[0], "ping\n", want => 4);
    is($got, "ret\n", 'proxy_pass then return: return answers');
    ($got) = exchange($p[1], "ping\n", want => 5);
    is($got, "ping\n", 'return then proxy_pass: proxied');
    $s->stop;
}

done_testing();
