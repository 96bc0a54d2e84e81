# open_file_cache, _valid, _min_uses, _errors and disable_symlinks (ngx_http_core_module).
# The cache keeps descriptors and file facts per process: a file replaced or removed on disk
# is still served from its cached descriptor until open_file_cache_valid runs out, a failure
# is remembered with open_file_cache_errors on, and the descriptors it holds are counted in
# /proc/PID/fd (max, inactive, min_uses, and all of them closed when a reload frees the
# generation). disable_symlinks walks the path with openat(): a link is 403 (its last name)
# or 404 (a directory on the way), with nginx's log lines; if_not_owner and from=.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/126-open-file-cache.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBackend;
use Time::HiRes ();

plan 'no_plan';

# a GET on a connection of its own, read to its end: (status, body)
sub get {
    my $path = shift;
    my $s = client_connect();
    client_send($s, "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my ($data) = client_read($s, undef, 3);
    close $s;
    my ($status) = $data =~ m{\AHTTP/1\.1 (\d+)};
    my $i = index($data, "\r\n\r\n");
    return ($status // 0, $i < 0 ? '' : substr($data, $i + 4));
}

sub html { "$ENV{TEST_NGINX_SERVROOT}/html/$_[0]" }

sub put {
    my ($name, $text) = @_;
    open my $f, '>', html("$name.new") or die "$name: $!";
    print $f $text;
    close $f;
    rename html("$name.new"), html($name) or die "rename $name: $!";    # a new file, not the old one rewritten
}

# the server process's open descriptors (the single process, master_process off)
sub count_fds {
    my $pid = Test::Moongate::read_pid();
    opendir my $d, "/proc/$pid/fd" or return -1;
    return scalar grep { /^\d+$/ } readdir $d;
}

# ... once they stay the same for 100 ms (2 s at most): a client connection the server has
# not seen closed yet (the harness's start-up probe) is not counted
sub fds {
    my $deadline = Time::HiRes::time() + 2;
    my $n = count_fds();
    while (Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.1);
        my $m = count_fds();
        return $m if $m == $n;
        $n = $m;
    }
    return $n;
}

# wait (5 s at most) for the descriptors to come back to n
sub fds_back_to {
    my $n = shift;
    my $deadline = Time::HiRes::time() + 5;
    my $got;
    while (($got = count_fds()) != $n && Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.05);
    }
    return $got;
}

run_tests();

__DATA__

=== TEST 1: a file replaced on disk is served from the cached descriptor until _valid runs out;
without the cache, the new one at once
--- config
    location /c/ { alias $TEST_NGINX_SERVROOT/html/; open_file_cache max=10; open_file_cache_valid 1s; }
--- user_files
>>> f
old
--- init
my @r = main::get('/c/f');
Test::More::is("@r", "200 old\n", 'first: the file');
main::put('f', "new\n");
@r = main::get('/c/f');
Test::More::is("@r", "200 old\n", 'replaced: still the cached one');
@r = main::get('/f');
Test::More::is("@r", "200 new\n", 'replaced: without the cache, the new one');
Time::HiRes::sleep(2.1);
--- request
GET /c/f
--- response_body
new



=== TEST 2: a removed file is still served until _valid runs out
--- config
    location /c/ { alias $TEST_NGINX_SERVROOT/html/; open_file_cache max=10; open_file_cache_valid 1m; }
--- user_files
>>> gone
still here
--- init
my @r = main::get('/c/gone');
Test::More::is("@r", "200 still here\n", 'first: the file');
unlink main::html('gone');
@r = main::get('/gone');
Test::More::is($r[0], 404, 'without the cache: 404');
--- request
GET /c/gone
--- response_body
still here



=== TEST 3: open_file_cache_errors on: a missing file stays missing for _valid, and each
request logs it
--- config
    location /e/ {
        alias $TEST_NGINX_SERVROOT/html/;
        open_file_cache max=10;
        open_file_cache_errors on;
    }
--- init
my @r = main::get('/e/late');
Test::More::is($r[0], 404, 'first: 404');
main::put('late', "here now\n");
@r = main::get('/late');
Test::More::is("@r", "200 here now\n", 'without the cache: the file');
--- request
GET /e/late
--- error_code: 404
--- grep_error_log eval: qr/open\(\) "\S+\/late" failed \(2: No such file or directory\)/
--- grep_error_log_out eval
"open() \"$ENV{TEST_NGINX_SERVROOT}/html/late\" failed (2: No such file or directory)\n" x 2



=== TEST 4: open_file_cache_errors off (the default): a failure is not remembered
--- config
    location /e/ { alias $TEST_NGINX_SERVROOT/html/; open_file_cache max=10; }
--- init
my @r = main::get('/e/late2');
Test::More::is($r[0], 404, 'first: 404');
main::put('late2', "here now\n");
--- request
GET /e/late2
--- response_body
here now



=== TEST 5: max=2: however many files were served, the cache holds two descriptors
--- config
    location /c/ { alias $TEST_NGINX_SERVROOT/html/; open_file_cache max=2; }
--- user_files
>>> m1
1
>>> m2
2
>>> m3
3
>>> m4
4
>>> m5
5
--- init
main::get('/warm-up');
my $base = main::fds();
main::get('/c/m1');
Test::More::is(main::fds(), $base + 1, 'one file: one more descriptor');
main::get("/c/m$_") for 2 .. 5;
Test::More::is(main::fds(), $base + 2, 'five files: two more descriptors');
main::get('/m1') for 1 .. 3;
Test::More::is(main::fds(), $base + 2, 'without the cache: none kept');
--- request
GET /c/m5
--- response_body
5



=== TEST 6: open_file_cache_min_uses 2: a descriptor is kept from the second use on
--- config
    location /c/ {
        alias $TEST_NGINX_SERVROOT/html/;
        open_file_cache max=10;
        open_file_cache_min_uses 2;
    }
--- user_files
>>> u
u
--- init
main::get('/warm-up');
my $base = main::fds();
main::get('/c/u');
Test::More::is(main::fds(), $base, 'first use: not kept');
main::get('/c/u');
Test::More::is(main::fds(), $base + 1, 'second use: kept');
main::get('/c/u');
Test::More::is(main::fds(), $base + 1, 'third use: the same one');
--- request
GET /c/u
--- response_body
u



=== TEST 7: inactive=1s: entries unused for that long go at the next lookup
--- config
    location /c/ { alias $TEST_NGINX_SERVROOT/html/; open_file_cache max=10 inactive=1s; }
--- user_files
>>> i1
1
>>> i2
2
>>> i3
3
--- init
main::get('/warm-up');
my $base = main::fds();
main::get("/c/i$_") for 1 .. 2;
Test::More::is(main::fds(), $base + 2, 'two files: two descriptors');
Time::HiRes::sleep(2.2);
main::get('/c/i3');
Test::More::is(main::fds(), $base + 1, 'after inactive: only the new one');
--- request
GET /c/i3
--- response_body
3



=== TEST 8: a reload frees the old generation's cache: its descriptors are closed
--- config
    location /c/ { alias $TEST_NGINX_SERVROOT/html/; open_file_cache max=10; }
--- user_files
>>> r1
1
>>> r2
2
--- init
main::get('/warm-up');
my $base = main::fds();
main::get("/c/r$_") for 1 .. 2;
Test::More::is(main::fds(), $base + 2, 'two files: two descriptors');
kill 'HUP', Test::Moongate::read_pid();
Test::More::is(main::fds_back_to($base), $base, 'after the reload: none left');
--- request
GET /c/r1
--- response_body
1
--- moongate_only
nginx keeps a single process's old generation (and its cache) for 30 s or more after a reload



=== TEST 9: disable_symlinks on: a link as the last name is 403, as a directory on the way 404,
with nginx's lines; plain files and directories are served
--- config
    location /on/ { alias $TEST_NGINX_SERVROOT/html/; disable_symlinks on; }
--- init
mkdir main::html('real');
main::put('real/f', "real\n");
symlink 'real/f', main::html('lf');
symlink 'real', main::html('ld');
--- request eval
["GET /on/real/f", "GET /on/lf", "GET /on/ld/f", "GET /lf", "GET /on/none"]
--- error_code eval
[200, 403, 404, 200, 404]
--- error_log eval
[qr/\[error\] .*openat\(\) "\S+\/html\/lf" failed \(40: Too many levels of symbolic links\), client: 127\.0\.0\.1, server: localhost, request: "GET \/on\/lf HTTP\/1\.1"/,
 qr/openat\(\) "\S+\/html\/ld\/f" failed \(20: Not a directory\)/,
 qr/openat\(\) "\S+\/html\/none" failed \(2: No such file or directory\)/]



=== TEST 10: disable_symlinks if_not_owner: a link owned by the target's owner is followed
--- config
    location /own/ { alias $TEST_NGINX_SERVROOT/html/; disable_symlinks if_not_owner; }
--- init
mkdir main::html('real');
main::put('real/f', "real\n");
main::put('real/g', "other owner\n");
chown 65534, -1, main::html('real/g');
symlink 'real/f', main::html('lf');
symlink 'real/g', main::html('lg');
symlink 'real', main::html('ld');
--- request eval
["GET /own/lf", "GET /own/ld/f", "GET /own/lg"]
--- error_code eval
[200, 200, 403]
--- error_log eval
qr/openat\(\) "\S+\/html\/lg" failed \(40: Too many levels of symbolic links\)/



=== TEST 11: from=$document_root: links in the root itself are trusted, not below it
--- config
    location /from/ {
        root $TEST_NGINX_SERVROOT/html/rootlink;
        disable_symlinks on from=$document_root;
    }
--- init
mkdir main::html('realroot');
mkdir main::html('realroot/from');
main::put('realroot/from/f', "through the root's link\n");
symlink 'f', main::html('realroot/from/lf');
symlink 'realroot', main::html('rootlink');
--- request eval
["GET /from/f", "GET /from/lf"]
--- error_code eval
[200, 403]
--- response_body_like eval
["\\Athrough the root's link\n\\z", "403 Forbidden"]



=== TEST 12: the index module walks as static does: an index under a linked directory
--- config
    location /on/ { alias $TEST_NGINX_SERVROOT/html/; disable_symlinks on; }
--- init
mkdir main::html('real');
main::put('real/index.html', "index\n");
symlink 'real', main::html('ld');
--- request eval
["GET /on/real/", "GET /on/ld/"]
--- error_code eval
[200, 404]
--- error_log eval
qr/"\S+\/html\/ld\/index\.html" is not found \(20: Not a directory\)/



=== TEST 13: disable_symlinks with the cache: the verdict is cached with the descriptor
--- config
    location /c/ {
        alias $TEST_NGINX_SERVROOT/html/;
        disable_symlinks on;
        open_file_cache max=10;
        open_file_cache_errors on;
    }
--- init
mkdir main::html('real');
main::put('real/f', "real\n");
symlink 'real/f', main::html('lf');
--- request eval
["GET /c/lf", "GET /c/lf", "GET /c/real/f"]
--- error_code eval
[403, 403, 200]



=== TEST 14: bad open_file_cache parameters
--- config
    open_file_cache max=10 inactive=500ms;
--- must_die
--- error_log eval
qr/invalid "open_file_cache" parameter "inactive=500ms" in \S+:\d+/



=== TEST 15: open_file_cache without max
--- config
    open_file_cache inactive=10s;
--- must_die
--- error_log eval
qr/"open_file_cache" must have the "max" parameter in \S+:\d+/



=== TEST 16: open_file_cache_valid in milliseconds
--- config
    open_file_cache_valid 500ms;
--- must_die
--- error_log eval
qr/"open_file_cache_valid" directive invalid value in \S+:\d+/



=== TEST 17: open_file_cache_min_uses not a number
--- config
    open_file_cache_min_uses x;
--- must_die
--- error_log eval
qr/"open_file_cache_min_uses" directive invalid number in \S+:\d+/



=== TEST 18: disable_symlinks off with from=
--- config
    disable_symlinks off from=/x;
--- must_die
--- error_log eval
qr/"from=" cannot be used with "off" parameter in \S+:\d+/



=== TEST 19: disable_symlinks with from= alone
--- config
    disable_symlinks from=/x;
--- must_die
--- error_log eval
qr/"disable_symlinks" must have "off", "on" or "if_not_owner" parameter in \S+:\d+/



=== TEST 20: disable_symlinks with an unknown parameter
--- config
    disable_symlinks yes;
--- must_die
--- error_log eval
qr/invalid parameter "yes" in \S+:\d+/



=== TEST 21: open_file_cache off, then max= at the same level
--- config
    open_file_cache off;
    open_file_cache max=10;
--- must_die
--- error_log eval
qr/"open_file_cache" directive is duplicate in \S+:\d+/
