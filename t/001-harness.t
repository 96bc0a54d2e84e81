# Self-test of t/lib/Test/Moongate.pm: the response parser on canned bytes,
# failure detection and cleanup through child test files, then a data
# section exercising every section the harness understands.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/001-harness.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use File::Temp ();
use Time::HiRes ();

my $parser_tests = 14;
my $child_tests = 31;
plan tests => $parser_tests + $child_tests + 55;

# ---------------------------------------------------------------------------
# the response parser, no server needed

sub parse { [Test::Moongate::parse_responses($_[0], $_[1] || ['GET'], 1)] }

my $r = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello");
is($r->[0]{body}, 'hello', 'parser: Content-Length body');
is(Test::Moongate::header_value($r->[0], 'x-a'), '1, 2', 'parser: repeated header joined');

$r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           . "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n");
is($r->[0]{body}, 'abcde', 'parser: chunked body with extension and trailer');
ok($r->[0]{complete} && !$r->[0]{error}, 'parser: chunked body complete');

$r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
like($r->[0]{error} // '', qr/malformed chunk/, 'parser: malformed chunk size flagged');

$r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n");
like($r->[0]{error} // '', qr/not followed by CRLF/, 'parser: chunk without CRLF flagged');

$r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
like($r->[0]{error} // '', qr/truncated/, 'parser: truncated chunked body flagged');

$r = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
like($r->[0]{error} // '', qr/truncated body/, 'parser: short Content-Length body flagged');

$r = parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
           . "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nB", ['GET', 'GET']);
is(join(',', map { "$_->{status}$_->{body}" } @$r), '200A,404B', 'parser: pipelined responses');

$r = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
is($r->[0]{status}, 201, 'parser: interim 100 response skipped');

$r = parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", ['HEAD']);
ok($r->[0]{complete} && $r->[0]{body} eq '' && !$r->[0]{error}, 'parser: HEAD has no body');

$r = parse("HTTP/1.0 200 OK\r\n\r\nuntil eof");
is($r->[0]{body}, 'until eof', 'parser: body delimited by EOF');

$r = parse("garbage\r\n\r\n");
like($r->[0]{error} // '', qr/bad status line/, 'parser: bad status line flagged');

my ($req) = Test::Moongate::build_request("  POST /p\nbody\n", "Host: h\nX-A: 1", 0);
is($req, "POST /p HTTP/1.1\r\nConnection: close\r\nHost: h\r\nX-A: 1\r\n"
         . "Content-Length: 4\r\n\r\nbody", 'request builder');

# ---------------------------------------------------------------------------
# failure detection and cleanup: run child test files and look at the result

my $n_child = 0;

sub run_child {
    my ($data, %env) = @_;
    my $prelude = delete $env{PRELUDE} // '';
    $n_child++;
    my $file = File::Temp->new(SUFFIX => '.t');
    print $file "use lib '$FindBin::Bin/lib';\nuse Test::Moongate;\n"
        . "plan 'no_plan';\n$prelude\nrun_tests();\n__DATA__\n$data";
    close $file;
    local $ENV{TEST_MOONGATE_SERVROOT} = "$ServRoot-child$n_child";
    local $ENV{TEST_MOONGATE_PORT};
    local $ENV{TEST_MOONGATE_NO_CLEAN};
    local $ENV{TEST_MOONGATE_LOG_WAIT} = 0.2;
    local @ENV{keys %env} = values %env;
    return run_cmd({ timeout => 60 }, $^X, $file->filename);
}

my ($code, $out, $err) = run_child(<<'EOT');
=== TEST 1: passes
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
EOT
is($code, 0, 'child: a passing file exits 0') or diag($out, $err);
like($out, qr/^ok 2 - TEST 1: passes - response_body/m, 'child: assertion names');

($code, $out, $err) = run_child(<<'EOT');
=== TEST 1: wrong body
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
not ok
EOT
isnt($code, 0, 'child: wrong body fails the file');
like($out, qr/^not ok 2 - TEST 1: wrong body - response_body/m, 'child: wrong body reported');

($code, $out, $err) = run_child(<<'EOT');
=== TEST 1: wrong status, missing header, log hit and miss
--- request
GET /no-such-file
--- error_code: 201
--- response_headers
X-Missing: 1
--- error_log
this text never appears in the log
--- no_error_log
No such file or directory
EOT
isnt($code, 0, 'child: wrong expectations fail the file');
is(scalar(() = $out =~ /^not ok/mg), 4, 'child: four failures reported') or diag($out);

($code, $out, $err) = run_child(<<'EOT');
=== TEST 1: config error without must_die
--- config
    no_such_directive 1;
--- request
GET /t
--- response_body
x
--- no_error_log
[alert]
EOT
isnt($code, 0, 'child: a server that cannot start fails the file');
is(scalar(() = $out =~ /^not ok/mg), 3, 'child: every assertion of that block fails')
    or diag($out);
like($err, qr/server failed to start/, 'child: startup failure explained');

($code, $out, $err) = run_child(<<'EOT');
=== TEST 1: must_die with a valid config
--- config
    location /t { return 200; }
--- must_die
EOT
isnt($code, 0, 'child: must_die with a valid config fails');

# Test::MoongateProc's waits given nothing to wait for (a pid list read wrong, a pid that never
# came) fail instead of passing at once
($code, $out, $err) = run_child(<<'EOT', PRELUDE => <<'EOP');
=== TEST 1: passes
--- config
    location /t { return 200; }
--- request
GET /t
EOT
use Test::MoongateProc;
my @none;
ok(wait_gone(1, @none), 'the old workers exit');
ok(wait_gone(1, undef, 0), 'the old worker exits');
EOP
isnt($code, 0, 'child: wait_gone with no pid fails the file');
like($out, qr/^not ok 1 - wait_gone: no pid to wait for$/m, 'child: an empty list is refused')
    or diag($out);
like($out, qr/^not ok 3 - wait_gone: not a pid: undef, 0$/m, 'child: so are undef and 0')
    or diag($out);

# a pattern Perl rejects fails its check and the file goes on
($code, $out, $err) = run_child(<<'EOT');
=== TEST 1: bad pattern
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body_like
o(k

=== TEST 2: after it
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body_like
^ok$
EOT
isnt($code, 0, 'child: a bad regex fails the file');
like($out, qr/^not ok 2 - TEST 1: bad pattern - response_body_like/m,
     'child: the bad regex is a failed check') or diag($out);
like($out, qr/^ok 4 - TEST 2: after it - response_body_like/m,
     'child: the next block runs') or diag($out);

# a section name the harness does not know (a typo) fails its block, which is not run
($code, $out, $err) = run_child(<<'EOT');
=== TEST 1: typo
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- respone_body
ok

=== TEST 2: runs
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
EOT
isnt($code, 0, 'child: an unknown section fails the file');
like($out, qr/^not ok 1 - TEST 1: typo - unknown section "--- respone_body"$/m,
     'child: the failure names the block and the section') or diag($out);
unlike($out, qr/TEST 1: typo - status/, 'child: that block is not run');
like($out, qr/^ok 3 - TEST 2: runs - response_body/m, 'child: the next block runs');

# sections a file declares, Test::Nginx's ignored ones, and a block a preprocessor skips
($code, $out, $err) = run_child(<<'EOT', PRELUDE => <<'EOP');
=== TEST 1: declared and ignored sections
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- mine: 1
--- no_check_leak
--- skip_nginx: 2: < 0.1
--- response_body
ok

=== TEST 2: skipped
--- skip_me
--- request
GET /t
EOT
add_known_sections(qw(mine skip_me));
add_block_preprocessor(sub {
    $_[0]->set_value(moongate_skip => 'no frobnicator here') if defined $_[0]->{skip_me};
});
EOP
is($code, 0, 'child: declared and ignored sections pass') or diag($out, $err);
like($out, qr/^ok 3 # skip TEST 2: skipped: no frobnicator here$/m,
     'child: a skipped block is one skip with its reason') or diag($out);

# the server must be gone when the test file dies in the middle of a block
my $pidout = File::Temp->new;
($code, $out, $err) = run_child(<<'EOT', MG_PIDOUT => $pidout->filename);
=== TEST 1: dies
--- init
    open my $fh, '>', $ENV{MG_PIDOUT} or die;
    print $fh Test::Moongate::read_pid();
    close $fh;
    die "boom\n";
--- request
GET /
EOT
my $pid = Test::Moongate::slurp($pidout->filename);
isnt($code, 0, 'child: a dying test file fails');
ok($pid =~ /^\d+$/ && !Test::Moongate::process_alive($pid),
   'child: server stopped after the test file died') or diag("pid '$pid'");

# a block that dies before anything is checked (a bad user_files date) fails and the next runs:
# the file does not end as "1..0", a skip
($code, $out, $err) = run_child(<<'EOT');
=== TEST 1: bad date
--- user_files eval
[["a.txt", "a", "1600000000"]]
--- request
GET /a.txt

=== TEST 2: runs
--- config
    location /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
EOT
isnt($code, 0, 'child: a block that dies fails the file');
like($out, qr/^not ok 1 - TEST 1: bad date - died: .*bad user_files date/m,
     'child: the die is a failed check naming the block') or diag($out);
like($out, qr/^ok 3 - TEST 2: runs - response_body/m, 'child: the next block runs') or diag($out);

# ... and when it gets SIGTERM
{
    my $file = File::Temp->new(SUFFIX => '.t');
    print $file "use lib '$FindBin::Bin/lib';\nuse Test::Moongate;\nplan 'no_plan';\n"
        . "run_tests();\n__DATA__\n=== TEST 1: sleeps\n--- init\n"
        . "open my \$fh, '>', '$pidout' or die; print \$fh Test::Moongate::read_pid();"
        . " close \$fh; sleep 30;\n--- request\nGET /\n";
    close $file;
    unlink $pidout->filename;
    local $ENV{TEST_MOONGATE_SERVROOT} = "$ServRoot-child-term";
    local $ENV{TEST_MOONGATE_PORT};
    my $child = fork;
    if ($child == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec $^X, $file->filename; }
        POSIX::_exit(127);
    }
    my $deadline = Time::HiRes::time() + 10;
    Time::HiRes::sleep(0.01)
        until (-s $pidout->filename && Test::Moongate::slurp($pidout->filename) =~ /^\d+$/)
              || Time::HiRes::time() > $deadline;
    my $spid = Test::Moongate::slurp($pidout->filename);
    ok($spid =~ /^\d+$/ && Test::Moongate::process_alive($spid), 'child: server running')
        or diag("pid '$spid'");
    kill 'TERM', $child;
    waitpid($child, 0);
    isnt($?, 0, 'child: SIGTERM fails the file');
    ok($spid =~ /^\d+$/ && !Test::Moongate::process_alive($spid),
       'child: server stopped after SIGTERM');
}

($code, $out, $err) = run_child(<<'EOT', TEST_MOONGATE_NO_CLEAN => 1);
=== TEST 1: no clean
--- config
    location /t { return 200; }
--- request
GET /t
EOT
my $kept = Test::Moongate::slurp("$ServRoot-child$n_child/logs/moongate.pid");
ok($code == 0 && $kept =~ /^(\d+)$/ && Test::Moongate::process_alive($1),
   'child: TEST_MOONGATE_NO_CLEAN leaves the server running') or diag($out, $err);
kill 'KILL', $1 if $kept =~ /^(\d+)$/;

File::Path::remove_tree(glob "$ServRoot-child*");

# ---------------------------------------------------------------------------

# blocks without a config get one from here (TEST 17 relies on it)
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => qq{location /pre { return 200 "pre\n"; }})
        unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: return with a body
--- config
    location /t {
        return 200 "hi\n";
    }
--- request
GET /t
--- response_body
hi



=== TEST 2: missing file: 404 and the open() error in the log
--- request
GET /no/such/file.html
--- error_code: 404
--- error_log eval
qr{open\(\) ".*/html/no/such/file\.html" failed \(2: No such file or directory\)}
--- no_error_log
[alert]
[crit]



=== TEST 3: response headers, present and absent
--- config
    location /t {
        add_header X-Foo "bar baz";
        return 200 "x";
    }
--- request
GET /t
--- response_headers
X-Foo: bar baz
Content-Type: text/plain
!X-Bar
X-Bar:
--- response_body chomp
x



=== TEST 4: headers and body by regex
--- config
    location /t {
        return 200 "hello, world\n";
    }
--- request
GET /t
--- response_headers_like
Date: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT
Content-Length: \d+
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n
--- raw_response_headers_unlike: Transfer-Encoding
--- response_body_like chomp
^hello, \w+$
--- response_body_unlike: goodbye



=== TEST 5: raw request, HTTP/1.0, bytes sent as given
--- config
    location /t {
        return 200 "$server_protocol\n";
    }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
HTTP/1.0



=== TEST 6: raw request in pieces with a delay between them
--- config
    location /t {
        return 200 "$http_x_late\n";
    }
--- raw_request eval
["GET /t HTTP/1.1\r\nHost: localhost\r\n", "X-Late: yes\r\nConnection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.01
--- response_body
yes



=== TEST 7: pipelined requests on one connection
--- config
    location /a { return 200 "a\n"; }
    location /b { return 404; }
    location /c { return 200 "c:$http_connection\n"; }
--- pipelined_requests eval
["GET /a", "GET /b", "GET /c"]
--- error_code eval
[200, 404, 200]
--- response_body_like eval
["^a\n\\z", "404 Not Found", "^c:close\n\\z"]



=== TEST 8: several requests, one connection each
--- config
    location /a { return 200 "a:$http_connection\n"; }
    location /b { return 200 "b:$http_connection\n"; }
--- request eval
["GET /a", "GET /b"]
--- response_body eval
["a:close\n", "b:close\n"]



=== TEST 9: user files are served, with their mtime
--- user_files
>>> index.html
<p>index</p>
>>> dir/old.txt 200902132331.30
old
--- request
GET /dir/old.txt
--- response_headers
Last-Modified: Fri, 13 Feb 2009 23:31:30 GMT
Content-Length: 4
--- response_body
old



=== TEST 10: index file of a user files directory
--- user_files
>>> index.html
<p>index</p>
--- request
GET /
--- response_body
<p>index</p>



=== TEST 11: more_headers add and override the defaults
--- config
    location /t {
        return 200 "$http_x_foo $host $http_connection\n";
    }
--- more_headers
X-Foo: 42
Host: example.com
--- request
GET /t
--- response_body
42 example.com close



=== TEST 12: request body from the request section
--- config
    location /t {
        return 200 "$request_method $http_content_length\n";
    }
--- request
POST /t
hello
--- response_body
POST 5



=== TEST 13: HEAD has headers but no body
--- config
    location /t {
        return 200 "hi\n";
    }
--- request
HEAD /t
--- response_headers
Content-Length: 3
--- response_body



=== TEST 14: config error: unknown directive
--- config
    foo bar;
--- must_die
--- error_log
unknown directive "foo"



=== TEST 15: port and servroot interpolation
--- config eval
"location /t { return 200 \"$Test::Moongate::ServerPort:\$server_port:\$TEST_NGINX_SERVER_PORT\\n\"; }"
--- request
GET /t
--- response_body eval
"$Test::Moongate::ServerPort:$Test::Moongate::ServerPort:$Test::Moongate::ServerPort\n"



=== TEST 16: http_config, main_config and per-block log_level
--- main_config
    env MOONGATE_HARNESS_TEST;
--- http_config
    add_header X-Http-Level yes always;
--- log_level: crit
--- request
GET /missing
--- error_code: 404
--- response_headers
X-Http-Level: yes
--- no_error_log
No such file



=== TEST 17: a block preprocessor supplied the config
--- request
GET /pre
--- response_body
pre
