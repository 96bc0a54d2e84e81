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
#   "--- fd_check eval": [N, LO, HI, ROUNDS]: after ROUNDS (default 1) requests to each of N
#       hosts (each its own log file), the server holds LO to HI descriptors more than before
#       them (/proc/PID/fd).
#   "--- expire_check eval": [N, INACTIVE]: N hosts, then one more host every 50 ms until the
#       N descriptors are gone (bounded); they must not go before INACTIVE seconds.
#   "--- owner eval": { file => user }: the file belongs to that user (checked as root only).
#   "--- rename_logs eval": files renamed to FILE.old once the requests are done, then USR1
#       (awaited in the error log, of the master and its worker with master_process on);
#       "--- then_get eval": [[host, uri], ...] requested after it.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/153-access-log-extras.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;
use Time::HiRes ();

plan 'no_plan';

add_block_preprocessor(sub {
    system('rm', '-rf', glob("$LogDir/*.log*"), "$LogDir/vh");
    mkdir "$LogDir/vh";
    chmod 0777, "$LogDir/vh"; # for workers that run as another user
});

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
    my ($n, $lo, $hi, $rounds) = @$spec;
    my $pid = Test::Moongate::read_pid();
    my $before = fd_count($pid);
    # (none read -- no pid, a wrong path -- would pass "0 to 0 more" on 0 - 0)
    ok($before > 0, "$name - the server's descriptors are read") or return;
    my $ok = 0;
    for my $r (1 .. $rounds // 1) {
        for my $i (1 .. $n) {
            $ok++ if http_get("h$i.example", "/") =~ m{^HTTP/1\.1 200 };
        }
    }
    is($ok, $n * ($rounds // 1), "$name - requests answered");
    my $more = fd_count($pid) - $before;
    ok($more >= $lo && $more <= $hi, "$name - descriptors held: $lo to $hi more")
        or diag("$more more");
    my @logs = glob("$LogDir/vh/h*.example.log");
    is(scalar @logs, $n, "$name - one log file per host");
}

sub expire_check {
    my ($name, $spec) = @_;
    my ($n, $inactive) = @$spec;
    my $pid = Test::Moongate::read_pid();
    my $before = fd_count($pid);
    ok($before > 0, "$name - the server's descriptors are read") or return;
    my $start = Time::HiRes::time();
    http_get("h$_.example", "/") for 1 .. $n;
    is(fd_count($pid) - $before, $n, "$name - $n descriptors cached");
    my $gone;
    while (Time::HiRes::time() < $start + $inactive + 5) {
        Time::HiRes::sleep(0.05);
        http_get("tick.example", "/");
        if (fd_count($pid) - $before <= 1) {
            $gone = Time::HiRes::time() - $start;
            last;
        }
    }
    ok(defined $gone, "$name - inactive descriptors closed");
    cmp_ok($gone // 0, '>=', $inactive, "$name - not before ${inactive}s");
}

sub rename_then_get {
    my ($files, $gets, $procs) = @_;
    rename "$ServRoot/$_", "$ServRoot/$_.old" for @$files;
    kill 'USR1', Test::Moongate::read_pid();
    my $deadline = Time::HiRes::time() + 5;
    my $seen = 0;
    while ($seen < $procs && Time::HiRes::time() < $deadline) {
        open my $fh, '<', $ErrLogFile or last;
        $seen = grep { /reopening logs/ } <$fh>;
        Time::HiRes::sleep(0.01) if $seen < $procs;
    }
    ok($seen >= $procs, "USR1 handled by $procs process(es)");
    like(http_get(@$_), qr{^HTTP/1\.1 }, "GET $_->[1] (host $_->[0]) answered") for @$gets;
}

add_known_sections(qw(log_files running_files gz_members reopen_logs fd_check expire_check
                      rename_logs then_get owner));
Test::Moongate::stop_stale_server();
for my $block (blocks()) {
    local $Test::Moongate::NoClean = 1;
    run_test($block) or do { Test::Moongate::stop_server(); next };
    my $name = $block->name;
    check_files($name, $block->running_files, 1) if $block->running_files;
    reopen_logs($block->reopen_logs) if $block->reopen_logs;
    fd_check($name, $block->fd_check) if $block->fd_check;
    expire_check($name, $block->expire_check) if $block->expire_check;
    # with a master, it and the worker each say "reopening logs"
    rename_then_get($block->rename_logs, $block->then_get || [],
                    ($block->main_config // '') =~ /master_process\s+on/ ? 2 : 1)
        if $block->rename_logs;
    Test::Moongate::stop_server();
    check_files($name, $block->log_files, 0) if $block->log_files;
    if (my $o = $block->owner) {
        for my $f (sort keys %$o) {
            SKIP: {
                skip("$name - owner of $f: not root", 1) if $> != 0;
                my $uid = (getpwnam($o->{$f}))[2];
                is((stat "$ServRoot/$f")[4], $uid, "$name - $f belongs to $o->{$f}");
            }
        }
    }
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




=== TEST 13: a path with $host: a file per host, relative to the prefix
--- http_config
    log_format short '$host $uri $status';
--- config
    access_log logs/vh/$host.log short;
--- request eval
["GET /", "GET /nofile", "GET /"]
--- more_headers eval
["Host: a.example", "Host: b.example", "Host: a.example"]
--- error_code eval
[200, 404, 200]
--- user_files
>>> index.html
hi
--- log_files eval
{ 'logs/vh/a.example.log' => qr{\Aa\.example /index\.html 200\na\.example /index\.html 200\n\z},
  'logs/vh/b.example.log' => qr{\Ab\.example /nofile 404\n\z} }



=== TEST 14: the request's root must exist, or nothing is written
--- http_config
    log_format short '$uri';
--- config
    location /noroot/ {
        root /nonexistent;
        access_log logs/vh/$host.log short;
        return 200 "ok\n";
    }
--- request
GET /noroot/x
--- error_code: 200
--- error_log eval
qr/\[error\] \d+#\d+: \*\d+ testing "\/nonexistent" existence failed \(2: No such file or directory\) while logging request, client: 127\.0\.0\.1, server: localhost, request: "GET \/noroot\/x HTTP\/1\.1", host: "localhost"/
--- log_files eval
{ 'logs/vh/localhost.log' => undef }



=== TEST 15: a root that is a file is not a directory
--- http_config
    log_format short '$uri';
--- config
    location /fileroot/ {
        root html/index.html;
        access_log logs/vh/$host.log short;
        return 200 "ok\n";
    }
--- request
GET /fileroot/x
--- error_code: 200
--- user_files
>>> index.html
hi
--- error_log eval
qr/\[error\] .*testing "[^"]+\/html\/index\.html" existence failed \(20: Not a directory\) while logging request/
--- log_files eval
{ 'logs/vh/localhost.log' => undef }



=== TEST 16: a directory that does not exist: nginx's [crit] open() line
--- config
    access_log logs/nodir/$host.log;
--- request
GET /nofile
--- error_code: 404
--- error_log eval
qr/\[crit\] \d+#\d+: \*\d+ open\(\) "[^"]+\/logs\/nodir\/localhost\.log" failed \(2: No such file or directory\) while logging request/



=== TEST 17: without open_log_file_cache, each line opens and closes its file
--- config
    location / {
        root html;
        access_log logs/vh/$host.log;
    }
--- user_files
>>> index.html
hi
--- request
GET /
--- fd_check eval
[10, 0, 0]



=== TEST 18: open_log_file_cache max=3: at most three descriptors stay, the latest hosts'
(the block's own request cached one more name before the count starts)
--- http_config
    open_log_file_cache max=3 inactive=1m;
--- config
    location / {
        root html;
        access_log logs/vh/$host.log;
    }
--- user_files
>>> index.html
hi
--- request
GET /
--- fd_check eval
[20, 2, 3]



=== TEST 19: min_uses=2: a file used once is not kept; twice, it is
--- http_config
    open_log_file_cache max=10 min_uses=2;
--- config
    location / {
        root html;
        access_log logs/vh/$host.log;
    }
--- user_files
>>> index.html
hi
--- request
GET /
--- fd_check eval
[4, 4, 4, 2]



=== TEST 20: inactive=1s: descriptors not used for a second are closed by later lookups
--- http_config
    open_log_file_cache max=10 inactive=1s;
--- config
    location / {
        root html;
        access_log logs/vh/$host.log;
        location = /nolog { access_log off; }
    }
--- user_files
>>> index.html
hi
--- request
GET /nolog
--- error_code: 404
--- expire_check eval
[3, 1]



=== TEST 21: a location's "off" wins over the server's cache
--- config
    open_log_file_cache max=10;
    location / {
        open_log_file_cache off;
        root html;
        access_log logs/vh/$host.log;
    }
--- user_files
>>> index.html
hi
--- request
GET /
--- fd_check eval
[5, 0, 0]



=== TEST 22: a worker opens the file, as its user
--- main_config
    master_process on;
    user nobody nogroup;
--- config
    location / {
        root html;
        access_log logs/vh/$host.log;
    }
--- user_files
>>> index.html
hi
--- request
GET /
--- log_files eval
{ 'logs/vh/localhost.log' => qr{"GET / HTTP/1\.1" 200} }
--- owner eval
{ 'logs/vh/localhost.log' => 'nobody' }



=== TEST 23: a cached descriptor is trusted for "valid": after a rename, lines go to the old file
--- http_config
    open_log_file_cache max=10 valid=1m;
    log_format short '$uri';
--- config
    access_log logs/vh/$host.log short;
--- request
GET /first
--- error_code: 404
--- rename_logs eval
['logs/vh/localhost.log']
--- then_get eval
[['localhost', '/second']]
--- log_files eval
{ 'logs/vh/localhost.log.old' => qr{\A/first\n/second\n\z}, 'logs/vh/localhost.log' => undef }



=== TEST 24: valid=0 checks the name every time: after a rename (logrotate), a new file
nginx loses that line instead ("[crit] stat() ... failed"): its cache drops the node and only
the next line opens the new file. moongate opens it for this line.
--- moongate_only
--- http_config
    open_log_file_cache max=10 valid=0;
    log_format short '$uri';
--- config
    access_log logs/vh/$host.log short;
--- request
GET /first
--- error_code: 404
--- rename_logs eval
['logs/vh/localhost.log']
--- then_get eval
[['localhost', '/second']]
--- log_files eval
{ 'logs/vh/localhost.log.old' => qr{\A/first\n\z}, 'logs/vh/localhost.log' => qr{\A/second\n\z} }



=== TEST 25: names with variables cannot be buffered
--- config
    access_log logs/vh/$host.log combined buffer=4k;
--- must_die
--- error_log eval
qr/\[emerg\] .*buffered logs cannot have variables in name in \S+:\d+/



=== TEST 26: nor gzip'ed
--- config
    access_log logs/vh/$host.log combined gzip;
--- must_die
--- error_log eval
qr/\[emerg\] .*buffered logs cannot have variables in name in \S+:\d+/



=== TEST 27: flush= without a buffer names the full path
--- config
    access_log logs/vh/$host.log combined flush=1s;
--- must_die
--- error_log eval
qr/\[emerg\] .*no buffer is defined for access_log "\/\S+\/logs\/vh\/\$host\.log" in \S+:\d+/



=== TEST 28: an unknown variable
--- config
    access_log logs/vh/$nosuchvar.log;
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "nosuchvar" variable/



=== TEST 29: open_log_file_cache needs max
--- http_config
    open_log_file_cache inactive=10s;
--- must_die
--- error_log eval
qr/\[emerg\] .*"open_log_file_cache" must have "max" parameter in \S+:\d+/



=== TEST 30: max=0 is no max
--- http_config
    open_log_file_cache max=0;
--- must_die
--- error_log eval
qr/\[emerg\] .*"open_log_file_cache" must have "max" parameter in \S+:\d+/



=== TEST 31: a bad value
--- http_config
    open_log_file_cache max=10 inactive=soon;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid "open_log_file_cache" parameter "inactive=soon" in \S+:\d+/



=== TEST 32: an unknown parameter
--- http_config
    open_log_file_cache max=10 size=1;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid "open_log_file_cache" parameter "size=1" in \S+:\d+/



=== TEST 33: "off" with other parameters is off
--- http_config
    open_log_file_cache off max=1;
--- request
GET /
--- user_files
>>> index.html
hi



=== TEST 34: twice at one level
--- http_config
    open_log_file_cache off;
    open_log_file_cache max=1;
--- must_die
--- error_log eval
qr/\[emerg\] .*"open_log_file_cache" directive is duplicate in \S+:\d+/



=== TEST 35: not in "if"
--- config
    location / {
        if ($arg_x) {
            open_log_file_cache off;
        }
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"open_log_file_cache" directive is not allowed here in \S+:\d+/



=== TEST 36: at most four parameters
--- http_config
    open_log_file_cache max=1 inactive=1s min_uses=1 valid=1s off;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid number of arguments in "open_log_file_cache" directive in \S+:\d+/



=== TEST 37: without a cache the name is opened per line: after a rename, a new file
--- http_config
    log_format short '$uri';
--- config
    access_log logs/vh/$host.log short;
--- request
GET /first
--- error_code: 404
--- rename_logs eval
['logs/vh/localhost.log']
--- then_get eval
[['localhost', '/second']]
--- log_files eval
{ 'logs/vh/localhost.log.old' => qr{\A/first\n\z}, 'logs/vh/localhost.log' => qr{\A/second\n\z} }



=== TEST 38: USR1 with a worker: its gzip buffer goes to the old file, later lines to the new
--- main_config
    master_process on;
    worker_processes 1;
--- http_config
    log_format short '$uri';
--- config
    access_log logs/w.log.gz short gzip;
--- request eval
["GET /before1", "GET /before2"]
--- error_code eval
[404, 404]
--- rename_logs eval
['logs/w.log.gz']
--- then_get eval
[['localhost', '/after']]
--- log_files eval
{ 'logs/w.log.gz.old' => qr{\A/before1\n/before2\n\z}, 'logs/w.log.gz' => qr{\A/after\n\z} }



=== TEST 39: USR1 with a worker: a buffered plain log too, and the new file is the worker user's
--- main_config
    master_process on;
    worker_processes 1;
    user nobody nogroup;
--- http_config
    log_format short '$uri';
--- config
    access_log logs/b.log short buffer=4k;
--- request
GET /before
--- error_code: 404
--- rename_logs eval
['logs/b.log']
--- then_get eval
[['localhost', '/after']]
--- log_files eval
{ 'logs/b.log.old' => qr{\A/before\n\z}, 'logs/b.log' => qr{\A/after\n\z} }
--- owner eval
{ 'logs/b.log' => 'nobody' }
