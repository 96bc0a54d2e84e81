# access_log beyond plain files (t/150 has those): "gzip[=level]" (each buffer written as a
# gzip member of its own, so zcat reads the file whole, flush= and USR1 included), paths with
# variables (opened per request under the prefix, after nginx's check that the request's root
# exists) and open_log_file_cache (descriptors kept per worker: their count stays bounded
# over many files), log_subrequest, and nginx's -t messages.
#
# Sections this file reads, besides Test::Nginx's:
#   "--- log_files eval": { file under the server root => qr// | undef (absent or empty) },
#       checked once the server has stopped; a file ending in ".gz" (or ".gz.old") is read
#       through zcat.
#   "--- running_files eval": the same, awaited (bounded) while the server still runs.
#   "--- gz_members eval": { file => N }: the gzip file holds at least N members.
#   "--- reopen_logs eval": files renamed to FILE.old before USR1 (waiting for the new ones).
#   "--- fd_check eval": [N, M]: after N requests to N different files, the server holds at
#       most M descriptors more than before them (/proc/PID/fd).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/153-access-log-extras.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;
use Time::HiRes ();

plan 'no_plan';

add_block_preprocessor(sub { system('rm', '-rf', glob("$LogDir/*.log*"), "$LogDir/vh") });

sub read_log {
    my $path = shift;
    return undef unless -e $path;
    return '' unless -s $path;
    if ($path =~ /\.gz(?:\.old)?$/) {
        my ($code, $out, $err) = run_cmd('zcat', $path);
        return $code == 0 ? $out : "zcat failed: $err";
    }
    return do { local (@ARGV, $/) = $path; <> };
}

sub check_files {
    my ($name, $files, $wait) = @_;
    for my $f (sort keys %$files) {
        my $want = $files->{$f};
        my $deadline = Time::HiRes::time() + ($wait ? 5 : 0);
        my $got;
        while (1) {
            $got = read_log("$ServRoot/$f");
            last if !$wait || (defined $got && $got =~ $want);
            last if Time::HiRes::time() > $deadline;
            Time::HiRes::sleep(0.02);
        }
        if (!defined $want) {
            ok(!defined $got || $got eq '', "$name - $f absent or empty") or diag("got: $got");
        } else {
            like($got // '', $want, "$name - $f matches");
        }
    }
}

# gzip members, counted by their headers as zcat reads them
sub gz_members {
    my $path = shift;
    my $data = do { local (@ARGV, $/) = $path; <> } // '';
    my $n = 0;
    my $off = 0;
    require Compress::Zlib;
    while ($off < length $data) {
        my ($i, $status) = Compress::Zlib::inflateInit(-WindowBits => 16 + 15);
        my $rest = substr($data, $off);
        my $before = length $rest;
        my ($out, $st) = $i->inflate($rest);
        last unless defined $out && $st == Compress::Zlib::Z_STREAM_END();
        $n++;
        $off += $before - length $rest;
    }
    return $n;
}

sub reopen_logs {
    my $files = shift;
    my $pid = Test::Moongate::read_pid() or return fail("no pid to send USR1 to");
    rename "$ServRoot/$_", "$ServRoot/$_.old" for @$files;
    kill 'USR1', $pid;
    my $deadline = Time::HiRes::time() + 5;
    until (!grep { !-e "$ServRoot/$_" } @$files) {
        return fail("USR1 did not reopen @$files") if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.01);
    }
    pass("USR1 reopened @$files");
}

sub fd_count { my @fds = glob("/proc/$_[0]/fd/*"); scalar @fds }

sub http_get {
    my ($host, $uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort,
                                  Proto => 'tcp', Timeout => 5) or return '';
    print $s "GET $uri HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n";
    local $/;
    return <$s> // '';
}

sub fd_check {
    my ($name, $spec) = @_;
    my ($n, $max) = @$spec;
    my $pid = Test::Moongate::read_pid();
    http_get("warm", "/"); # the first request's own allocations are not the cache's
    my $before = fd_count($pid);
    my $ok = 0;
    for my $i (1 .. $n) {
        $ok++ if http_get("h$i.example", "/") =~ m{^HTTP/1\.1 200 };
    }
    is($ok, $n, "$name - $n requests answered");
    my $after = fd_count($pid);
    cmp_ok($after - $before, '<=', $max, "$name - descriptors held: at most $max more")
        or diag("before $before, after $after");
    my @logs = glob("$LogDir/vh/h*.example.log");
    is(scalar @logs, $n, "$name - one log file per host");
}

add_known_sections(qw(log_files running_files gz_members reopen_logs fd_check));
Test::Moongate::stop_stale_server();
for my $block (blocks()) {
    local $Test::Moongate::NoClean = 1;
    run_test($block) or do { Test::Moongate::stop_server(); next };
    my $name = $block->name;
    check_files($name, $block->running_files, 1) if $block->running_files;
    reopen_logs($block->reopen_logs) if $block->reopen_logs;
    fd_check($name, $block->fd_check) if $block->fd_check;
    Test::Moongate::stop_server();
    check_files($name, $block->log_files, 0) if $block->log_files;
    if (my $m = $block->gz_members) {
        cmp_ok(gz_members("$ServRoot/$_"), '>=', $m->{$_}, "$name - $_ has $m->{$_}+ members")
            for sort keys %$m;
    }
}

__DATA__

=== TEST 1: gzip: the buffer leaves as a gzip member at exit; zcat reads the lines
--- http_config
    log_format short '$request_method $uri $status';
--- config
    access_log logs/a.log.gz short gzip;
--- request eval
["GET /nofile", "GET /", "GET /again"]
--- error_code eval
[404, 200, 404]
--- user_files
>>> index.html
hi
--- log_files eval
{ 'logs/a.log.gz' => qr{\AGET /nofile 404\nGET /index\.html 200\nGET /again 404\n\z} }
--- gz_members eval
{ 'logs/a.log.gz' => 1 }



=== TEST 2: a buffer smaller than two lines: a member per line, all read in order
--- http_config
    log_format short '$uri $status ................................';
--- config
    access_log logs/b.log.gz short buffer=64 gzip=9;
--- request eval
["GET /n1", "GET /n2", "GET /n3", "GET /n4"]
--- error_code eval
[404, 404, 404, 404]
--- log_files eval
{ 'logs/b.log.gz' => qr{\A/n1 404 \.+\n/n2 404 \.+\n/n3 404 \.+\n/n4 404 \.+\n\z} }
--- gz_members eval
{ 'logs/b.log.gz' => 4 }



=== TEST 3: a line longer than the buffer is a member of its own
--- http_config
    log_format long '$arg_x';
--- config
    access_log logs/c.log.gz long buffer=100 gzip;
--- request eval
["GET /nofile?x=short", "GET /nofile?x=" . ("y" x 300)]
--- error_code eval
[404, 404]
--- log_files eval
{ 'logs/c.log.gz' => qr{\Ashort\ny{300}\n\z} }
--- gz_members eval
{ 'logs/c.log.gz' => 2 }



=== TEST 4: flush= writes the buffer while the server runs
--- http_config
    log_format short '$uri';
--- config
    access_log logs/d.log.gz short gzip flush=100ms;
--- request
GET /nofile
--- error_code: 404
--- running_files eval
{ 'logs/d.log.gz' => qr{\A/nofile\n\z} }



=== TEST 5: USR1: the old file gets its member before the new one is opened
--- http_config
    log_format short '$uri';
--- config
    access_log logs/e.log.gz short gzip;
--- request eval
["GET /before1", "GET /before2"]
--- error_code eval
[404, 404]
--- reopen_logs eval
['logs/e.log.gz']
--- log_files eval
{ 'logs/e.log.gz.old' => qr{\A/before1\n/before2\n\z}, 'logs/e.log.gz' => undef }



=== TEST 6: the same file with and without gzip conflicts
--- config
    access_log logs/f.log combined gzip;
    access_log logs/f.log combined buffer=64k;
--- must_die
--- error_log eval
qr/\[emerg\] .*access_log "logs\/f\.log" already defined with conflicting parameters in \S+:\d+/



=== TEST 7: another level conflicts too
--- config
    access_log logs/f.log combined gzip=2 buffer=4k;
    access_log logs/f.log combined gzip buffer=4k;
--- must_die
--- error_log eval
qr/\[emerg\] .*access_log "logs\/f\.log" already defined with conflicting parameters in \S+:\d+/



=== TEST 8: levels are 1 to 9
--- config
    access_log logs/f.log combined gzip=10;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid compression level "10" in \S+:\d+/



=== TEST 9: level 0
--- config
    access_log logs/f.log combined gzip=0;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid compression level "0" in \S+:\d+/



=== TEST 10: not a level
--- config
    access_log logs/f.log combined gzip=fast;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid compression level "fast" in \S+:\d+/



=== TEST 11: not gzip
--- config
    access_log logs/f.log combined gzipped;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "gzipped" in \S+:\d+/



=== TEST 12: nginx's buffer sizes have no "g"
--- config
    access_log logs/f.log combined buffer=1g;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid buffer size "1g" in \S+:\d+/
