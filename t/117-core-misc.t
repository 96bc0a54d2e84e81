# Core directives of the response and the request's end: msie_padding (nginx's six comment
# lines after an error page for MSIE and Chrome), msie_refresh (MSIE gets a refresh page for a
# 301/302), server_tokens on|off|build (and, as NGINX Plus, any other string: moongate only),
# log_subrequest (subrequests in the access log, by their own location's setting),
# auth_delay (a 401 from the access phase held back, whoever denied), and
# subrequest_output_buffer_size (checked; as in nginx, Lua captures are not bound by it).
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/117-core-misc.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Time::HiRes ();

plan 'no_plan';

our $MSIE = 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)';
our $CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0 Safari/537.36';
our $OPERA = 'Opera/9.80 (compatible; MSIE 7.0; Windows NT 6.0)';
our $PAD = "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" x 6;
our $Name = $Binary =~ m{nginx[^/]*$} ? 'nginx' : 'moongate';

# the signature at the end of an error page, whatever the server
sub page_end { my $sig = shift; "<hr><center>$sig</center>\r\n</body>\r\n</html>\r\n" }

# "--- nginx_only: why": a block about what nginx does where moongate differs on purpose
add_known_sections('nginx_only');
add_block_preprocessor(sub {
    my $b = shift;
    $b->set_value(moongate_skip => $b->nginx_only) if defined $b->nginx_only && $Name ne 'nginx';
});

$ENV{MG_TEST_SINGLE_KEPT} = 'kept';
$ENV{MG_TEST_SINGLE_DROPPED} = 'dropped';

run_tests();

__DATA__

=== TEST 1: msie_padding (on by default): MSIE and Chrome get six comment lines after an error page
--- config
    location /t { return 404; }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t HTTP/1.0"]
--- more_headers eval
["User-Agent: $::MSIE", "User-Agent: $::CHROME", "User-Agent: $::OPERA", "User-Agent: curl/8", "User-Agent: $::MSIE"]
--- error_code eval
[404, 404, 404, 404, 404]
--- response_body_like eval
["</html>\\r\\n" . quotemeta($::PAD) . "\\z", "</html>\\r\\n" . quotemeta($::PAD) . "\\z", "</html>\\r\\n\\z", "</html>\\r\\n\\z",
 "</html>\\r\\n" . quotemeta($::PAD) . "\\z"]



=== TEST 2: msie_padding: not for redirects, not where it is off, not for an error_page's page
--- config
    location /r { return 302 /x; }
    location /t { msie_padding off; return 404; }
    location /e { error_page 404 /page; return 404; }
    location /page { return 200 "page\n"; }
--- request eval
["GET /r", "GET /t", "GET /e"]
--- more_headers eval
["User-Agent: $::MSIE", "User-Agent: $::MSIE", "User-Agent: $::MSIE"]
--- error_code eval
[302, 404, 404]
--- response_body_like eval
["</html>\\r\\n\\z", "</html>\\r\\n\\z", "\\Apage\\n\\z"]



=== TEST 3: msie_refresh: MSIE gets a refresh page instead of a 302, the URL as given and escaped
--- config
    msie_refresh on;
    location /t { return 302 "/x?a=<b>&c='d'\"e\"|{f}"; }
    location /u { return 301 http://example.com/y; }
    location /v { rewrite ^ /zz redirect; }
--- request eval
["GET /t", "GET /u", "GET /v?q=1", "GET /t"]
--- more_headers eval
["User-Agent: $::MSIE", "User-Agent: $::MSIE", "User-Agent: $::MSIE", "User-Agent: $::CHROME"]
--- error_code eval
[200, 200, 200, 302]
--- response_headers eval
["Content-Type: text/html\n!Location", "!Location", "!Location", "Location: http://localhost:$Test::Moongate::ServerPort/x?a=<b>&c='d'\"e\"|{f}"]
--- response_body_like eval
["\\A<html><head><meta http-equiv=\"Refresh\" content=\"0; URL=/x\\?a=%3Cb%3E&c=%27d%27%22e%22%7C%7Bf}\"></head><body></body></html>\\r\\n\\z",
 "\\A<html><head><meta http-equiv=\"Refresh\" content=\"0; URL=http://example.com/y\"></head><body></body></html>\\r\\n\\z",
 "URL=/zz\\?q=1\"",
 "302 Found"]



=== TEST 4: msie_refresh is off by default, and only for 301 and 302
--- config
    location /t { return 302 /x; }
    location /u { msie_refresh on; return 307 /x; }
--- request eval
["GET /t", "GET /u"]
--- more_headers eval
["User-Agent: $::MSIE", "User-Agent: $::MSIE"]
--- error_code eval
[302, 307]
--- response_headers_like eval
["Location: http://localhost:\\d+/x", "Location: http://localhost:\\d+/x"]



=== TEST 5: server_tokens off and build (without a --build name build is on)
--- config
    location /on { return 404; }
    location /off { server_tokens off; return 404; }
    location /build { server_tokens build; return 404; }
--- request eval
["GET /on", "GET /off", "GET /build"]
--- error_code eval
[404, 404, 404]
--- response_headers_like eval
["Server: (?:nginx|moongate)/\\d+\\.\\d+\\.\\d+", "Server: (?:nginx|moongate)", "Server: (?:nginx|moongate)/\\d+\\.\\d+\\.\\d+"]
--- response_body_like eval
["<hr><center>(?:nginx|moongate)/\\d+\\.\\d+\\.\\d+</center>", "<hr><center>(?:nginx|moongate)</center>",
 "<hr><center>(?:nginx|moongate)/\\d+\\.\\d+\\.\\d+</center>"]



=== TEST 6: server_tokens: any other value is a string for the header and the pages (NGINX Plus's), variables too
--- moongate_only
--- config
    location /t { server_tokens "Acme $host"; return 404; }
    location /none { server_tokens ""; return 404; }
--- request eval
["GET /t", "GET /none"]
--- error_code eval
[404, 404]
--- response_headers eval
["Server: Acme localhost", "!Server"]
--- response_body_like eval
["<hr><center>Acme localhost</center>", "<hr><center></center>"]



=== TEST 7: server_tokens: Debian's nginx (no NGINX Plus) refuses a string
--- nginx_only: moongate takes a string (TEST 6)
--- config
    server_tokens acme;
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid value "acme" in .*:\d+/



=== TEST 8: log_subrequest on: Lua captures, auth_request and mirror subrequests are logged with their own URI and status, before the request
--- http_config
    log_format sub "SUB $request_uri $uri $status";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log sub;
    log_subrequest on;
    location /cap { content_by_lua_block { local r = ngx.location.capture("/r404"); ngx.say(r.status) } }
    location /auth { auth_request /r204; empty_gif; }
    location /mirror { mirror /r204; empty_gif; }
    location /r404 { return 404; }
    location /r204 { return 204; }
    location /quiet { log_subrequest off; content_by_lua_block { ngx.print("q") } }
    location /capquiet { content_by_lua_block { local r = ngx.location.capture("/quiet"); ngx.say(r.body) } }
--- request eval
["GET /cap", "GET /auth", "GET /mirror", "GET /capquiet"]
--- error_code eval
[200, 200, 200, 200]
--- grep_error_log eval
qr/SUB .*/
--- grep_error_log_out
SUB /cap /r404 404
SUB /cap /cap 200
SUB /auth /r204 204
SUB /auth /auth 200
SUB /mirror /r204 204
SUB /mirror /mirror 200
SUB /capquiet /capquiet 200



=== TEST 9: log_subrequest off (the default): only the request itself
--- http_config
    log_format sub "SUB $request_uri $uri $status";
--- config
    access_log $TEST_NGINX_LOG_DIR/error.log sub;
    location /cap { content_by_lua_block { local r = ngx.location.capture("/r404"); ngx.say(r.status) } }
    location /r404 { return 404; }
--- request
GET /cap
--- grep_error_log eval
qr/SUB .*/
--- grep_error_log_out
SUB /cap /cap 200



=== TEST 10: auth_delay: a 401 of auth_basic, auth_request or Lua waits; a 403 does not
--- config
    auth_delay 800ms;
    location /basic { auth_basic "x"; auth_basic_user_file $TEST_NGINX_HTML_DIR/htpasswd; }
    location /auth { auth_request /deny; empty_gif; }
    location /deny { return 401; }
    location /lua { access_by_lua_block { ngx.exit(401) } }
    location /forbidden { deny all; }
--- user_files
>>> htpasswd
user:$apr1$q5rbzA7k$KdsNoiLnKTTXIZD3JNwC/.
--- request
GET /forbidden
--- init
for my $u ('/basic', '/auth', '/lua') {
    my $t0 = Time::HiRes::time();
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort) or die $!;
    print $s "GET $u HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s>;
    my $dt = Time::HiRes::time() - $t0;
    Test::More::like($r, qr/^HTTP\/1\.1 401 /, "$u: 401");
    Test::More::ok($dt >= 0.7, "$u: after auth_delay (${dt}s)");
}
--- error_code: 403
--- error_log
delaying unauthorized request, client: 127.0.0.1, server: localhost, request: "GET /basic HTTP/1.0"
delaying unauthorized request, client: 127.0.0.1, server: localhost, request: "GET /auth HTTP/1.0"
delaying unauthorized request, client: 127.0.0.1, server: localhost, request: "GET /lua HTTP/1.0"
--- no_error_log
delaying unauthorized request, client: 127.0.0.1, server: localhost, request: "GET /forbidden



=== TEST 11: auth_delay under satisfy any; a client leaving meanwhile is noticed
The client leaves after 1 s, far inside the 10 s delay however late a loaded machine runs it.
--- config
    location /t {
        auth_delay 10s;
        satisfy any;
        deny all;
        auth_basic "x";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/htpasswd;
    }
--- user_files
>>> htpasswd
user:$apr1$q5rbzA7k$KdsNoiLnKTTXIZD3JNwC/.
--- request
GET /t
--- timeout: 1
--- abort
--- error_log
delaying unauthorized request
client prematurely closed connection



=== TEST 12: auth_delay and subrequest_output_buffer_size: bad values
--- config
    auth_delay 1x;
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_delay" directive invalid value in .*:\d+/



=== TEST 13: subrequest_output_buffer_size: a bad size
--- config
    subrequest_output_buffer_size 1x;
--- must_die
--- error_log eval
qr/\[emerg\] .*"subrequest_output_buffer_size" directive invalid value in .*:\d+/



=== TEST 14: subrequest_output_buffer_size does not bound a Lua capture (nginx's captures keep the whole body)
--- config
    subrequest_output_buffer_size 1k;
    location /cap { content_by_lua_block { local r = ngx.location.capture("/big"); ngx.say(r.status, " ", #r.body, " ", tostring(r.truncated)) } }
    location /big { content_by_lua_block { ngx.print(string.rep("x", 10000)) } }
--- request
GET /cap
--- response_body
200 10000 false



=== TEST 15: env in a single process (master_process off): its own environment is the workers' would be
--- main_config
    env MG_TEST_SINGLE_KEPT;
    env MG_TEST_SINGLE_SET=yes;
--- config
    location /t {
        content_by_lua_block {
            ngx.say(os.getenv("MG_TEST_SINGLE_KEPT"), " ", os.getenv("MG_TEST_SINGLE_DROPPED"), " ",
                    os.getenv("MG_TEST_SINGLE_SET"), " ", os.getenv("PATH"))
        }
    }
--- request
GET /t
--- response_body
kept nil yes nil



=== TEST 16: sizes take k and m, not g (nginx's sizes): client_body_buffer_size 1g is refused
--- config
    client_body_buffer_size 1g;
--- must_die
--- error_log eval
qr/\[emerg\] .*"client_body_buffer_size" directive invalid value in .*:\d+/



=== TEST 17: ... while an offset takes g: client_max_body_size 1g lets a body through
--- config
    location /t { client_max_body_size 1g; return 200 "ok\n"; }
--- request
POST /t
hello
--- response_body
ok



=== TEST 18: large_client_header_buffers: a bad number or size is refused naming neither, as nginx
--- config
    large_client_header_buffers 4 1g;
--- must_die
--- error_log eval
qr/\[emerg\] .*"large_client_header_buffers" directive invalid value in .*:\d+/



=== TEST 19: large_client_header_buffers: a zero count
--- config
    large_client_header_buffers 0 8k;
--- must_die
--- error_log eval
qr/\[emerg\] .*"large_client_header_buffers" directive invalid value in .*:\d+/
