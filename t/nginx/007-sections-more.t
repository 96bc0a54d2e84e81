# OpenResty's Test::Nginx::Socket driving the server, more sections a module author's tests
# use: timeout with abort and ignore_response, init (Perl run before the server starts),
# user_files in subdirectories, wait, curl, no_check_leak, $TEST_NGINX_SERVER_PORT and
# $TEST_NGINX_SERVER_ROOT in the config. Run by `make test-nginx`.

use Cwd ();
use File::Basename ();
BEGIN {
    $ENV{TEST_NGINX_BINARY} ||= Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..')
        . '/objs/moongate';
    if (!eval { require Test::Nginx::Socket; 1 }) {
        print "1..0 # SKIP Test::Nginx::Socket not on \@INC (make test-nginx TEST_NGINX_LIB=...)\n";
        exit 0;
    }
}
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: timeout with abort: the client gives up on a slow handler, the server logs nothing bad
--- config
    location = /slow {
        content_by_lua_block {
            ngx.sleep(1.5)
            ngx.say("late")
        }
    }
--- request
GET /slow
--- timeout: 0.3
--- abort
--- ignore_response
--- no_error_log
[error]

=== TEST 2: timeout: a handler that answers within it
--- config
    location = /fast {
        content_by_lua_block {
            ngx.sleep(0.05)
            ngx.say("in time")
        }
    }
--- request
GET /fast
--- timeout: 3
--- response_body
in time

=== TEST 3: init runs Perl after the server root is made and before the server starts; user_files in html/ and a subdirectory
--- init
    open my $fh, '>', "$Test::Nginx::Util::HtmlDir/from-init.txt" or die $!;
    print $fh "written by init\n";
    close $fh;
--- user_files
>>> sub/page.html
<p>page</p>
>>> plain.txt
plain
--- config
    location /t {
        content_by_lua_block {
            local a = ngx.location.capture("/sub/page.html")
            local b = ngx.location.capture("/plain.txt")
            local c = ngx.location.capture("/from-init.txt")
            ngx.print(a.status, " ", a.body, b.status, " ", b.body, c.status, " ", c.body)
        }
    }
--- request
GET /t
--- response_body
200 <p>page</p>
200 plain
200 written by init

=== TEST 4: wait: a timer that logs after the response is checked after the pause
--- config
    location = /later {
        content_by_lua_block {
            ngx.timer.at(0.1, function() ngx.log(ngx.WARN, "timer fired") end)
            ngx.say("scheduled")
        }
    }
--- request
GET /later
--- wait: 0.5
--- response_body
scheduled
--- error_log
timer fired

=== TEST 5: curl sends the request (the harness runs the curl binary)
--- config
    location = /c {
        content_by_lua_block {
            ngx.say(ngx.var.request_method, " ", ngx.var.http_x_c or "-", " ", ngx.req.http_version())
        }
    }
--- curl
--- request
GET /c
--- more_headers
X-C: via-curl
--- response_body
GET via-curl 1.1
--- no_check_leak

=== TEST 6: $TEST_NGINX_* variables in config and the server_port Test::Nginx chose
--- config
    location = /port {
        content_by_lua_block {
            ngx.say(ngx.var.server_port == "$TEST_NGINX_SERVER_PORT", " ", ngx.var.document_root == "$TEST_NGINX_SERVER_ROOT/html")
        }
    }
--- request
GET /port
--- response_body
true true
