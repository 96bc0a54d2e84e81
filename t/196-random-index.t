# random_index (ngx_http_random_index_module): a URI ending in "/" is redirected internally to
# a random regular file of the directory (dot files, directories and other non-files skipped,
# links followed), before the index module; an empty directory leaves the request to index;
# a missing directory is a 404 with nginx's opendir() line; the directive's errors.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/196-random-index.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;
use POSIX ();

plan 'no_plan';

# GET a path on a connection of its own; the body, or undef on any failure
sub get_body {
    my $path = shift;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort, Timeout => 3)
        or return undef;
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    return $r =~ /\A HTTP\/1\.\d \s 200 .*? \r\n\r\n (.*) \z/xs ? $1 : undef;
}

# every answer of $n requests for $path, counted
sub answers {
    my ($path, $n) = @_;
    my %seen;
    $seen{ get_body($path) // 'FAILED' }++ for 1 .. $n;
    return \%seen;
}

run_tests();

__DATA__

=== TEST 1: the only regular file: dot files and subdirectories do not count
--- config
    location /r/ { random_index on; }
--- user_files
>>> r/one
one
>>> r/.hidden
hidden
>>> r/sub/inner
inner
--- request eval
[("GET /r/") x 5]
--- response_body eval
[("one\n") x 5]



=== TEST 2: each of several files is picked (64 requests, 3 files)
--- config
    location /r/ { random_index on; }
--- user_files
>>> r/a
a
>>> r/b
b
>>> r/c
c
--- init
my $seen = main::answers('/r/', 64);
Test::More::is(join(',', sort keys %$seen), "a\n,b\n,c\n", 'random_index: every file was picked');
--- request
GET /r/
--- response_body_like: \A[abc]\n\z



=== TEST 3: symbolic links count by what they lead to; a fifo and a dangling link do not
--- config
    location /l/ { random_index on; }
--- user_files
>>> elsewhere.txt
linked
>>> l/placeholder/x
x
--- init
symlink("$Test::Moongate::HtmlDir/elsewhere.txt", "$Test::Moongate::HtmlDir/l/link") or die "symlink: $!";
symlink("$Test::Moongate::HtmlDir/nowhere", "$Test::Moongate::HtmlDir/l/dangling") or die "symlink: $!";
POSIX::mkfifo("$Test::Moongate::HtmlDir/l/fifo", 0644) or die "mkfifo: $!";
--- request eval
[("GET /l/") x 5]
--- response_body eval
[("linked\n") x 5]



=== TEST 4: the redirect keeps the arguments and goes through location matching again
--- config
    location /r/ { random_index on; }
    location ~ ^/r/only$ { return 200 "uri=$uri args=$args\n"; }
--- user_files
>>> r/only
file
--- request
GET /r/?a=1&b=2
--- response_body
uri=/r/only args=a=1&b=2



=== TEST 5: a directory with no file is left to the index module
--- config
    location /e/ { random_index on; }
    location /i/ { random_index on; }
--- user_files
>>> e/.only-hidden
h
>>> i/.x
h
>>> i/sub/index.html
not this
--- request eval
["GET /e/", "GET /i/sub/"]
--- error_code eval
[403, 200]
--- response_body_like eval
["403 Forbidden", "\\Anot this\\n\\z"]
--- error_log eval
qr/\[error\] .*directory index of "\S+\/html\/e\/" is forbidden/



=== TEST 6: a missing directory: 404 with nginx's line, the trailing slash dropped
--- config
    location /nodir/ { random_index on; }
--- request
GET /nodir/
--- error_code: 404
--- error_log eval
qr/\[error\] .*opendir\(\) "\S+\/html\/nodir" failed \(2: No such file or directory\)/



=== TEST 7: URIs not ending in "/", random_index off, and methods other than GET, HEAD, POST
--- config
    location /r/ {
        random_index on;
        location /r/off/ { random_index off; }
    }
--- user_files
>>> r/file
file
>>> r/off/index.html
index
--- request eval
["GET /r/file", "HEAD /r/", "GET /r/off/", "DELETE /r/"]
--- error_code eval
[200, 200, 200, 405]
--- response_body_like eval
["\\Afile\\n\\z", "\\A\\z", "\\Aindex\\n\\z", "405 Not Allowed"]



=== TEST 8: random_index is a location directive
--- config
    random_index on;
--- must_die
--- error_log eval
qr/"random_index" directive is not allowed here in \S+:\d+/



=== TEST 9: random_index takes on or off
--- config
    location / { random_index yes; }
--- must_die
--- error_log eval
qr/invalid value "yes" in "random_index" directive, it must be "on" or "off" in \S+:\d+/
