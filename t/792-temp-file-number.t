# Temporary file numbers as Debian's nginx 1.22 gives them (a differential audit): one counter
# for every worker of the server, so two workers never try the same name and the names of
# kept files (client_body_in_file_only on) follow each other whichever worker made them; the
# count goes on across a reload (HUP), as nginx's does. Names: ten digits under the levels'
# directories, named by the number's last digits.
#
#   prove -I t/lib t/792-temp-file-number.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/792-temp-file-number.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;
use Time::HiRes ();

master_on();

# one request on its own connection: the response, or '' after 3 s without an answer
sub fetch {
    my $req = shift;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => server_port(),
                                  Timeout => 3) or return '';
    print $s $req;
    my $res = '';
    my $sel = IO::Select->new($s);
    while ($sel->can_read(3)) {
        my $n = sysread($s, $res, 65536, length $res);
        last unless $n;
    }
    return $res;
}

sub worker_pid { fetch("GET /pid HTTP/1.0\r\n\r\n") =~ /\r\n\r\n(\d+)\n\z/ ? $1 : 0 }

# a kept file, then a reload; returns once the old worker is gone and a new one answers
sub post_then_reload {
    fetch("POST /on HTTP/1.0\r\nContent-Length: 5\r\n\r\nfirst") =~ /X-File: \S+\/0000000001\r/
        or die "the first file is not number 1\n";
    my $old = worker_pid() or die "no worker pid\n";
    my $master = Test::Moongate::slurp(pid_file()) =~ /(\d+)/ ? $1 : die "no master pid\n";
    kill 'HUP', $master;
    my $until = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $until) {
        my $w = worker_pid();
        return if $w && $w != $old && !kill(0, $old);
        Time::HiRes::sleep(0.05);
    }
    die "no new worker after the reload\n";
}

our $Loc = <<'EOF2';
    location /on {
        client_body_in_file_only on;
        add_header X-File $request_body_file;
        add_header X-Pid $pid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok;
    }
    location /ok { return 200 "ok\n"; }
    location /pid { return 200 "$pid\n"; }
EOF2

our @Posts = map { "POST /on\n$_" } 1 .. 16;
our @Names = map { sprintf "X-File: \\S+/cbt/%d/%02d/%010d", $_ % 10, int($_ / 10) % 100, $_ } 1 .. 16;

run_tests();

__DATA__

=== TEST 1: two workers (reuseport spreads the connections): one count, no gaps, no repeats
--- main_config
    worker_processes 2;
--- listen_options: reuseport
--- config eval
"client_body_temp_path \$TEST_NGINX_SERVROOT/cbt 1 2;\n" . $main::Loc
--- request eval
[@main::Posts]
--- response_headers_like eval
[@main::Names]



=== TEST 2: a reload goes on counting
--- config eval
"client_body_temp_path \$TEST_NGINX_SERVROOT/cbt2 1 2;\n" . $main::Loc
--- init
post_then_reload()
--- request
POST /on
second
--- response_headers_like
X-File: \S+/cbt2/2/00/0000000002
