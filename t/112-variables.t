# The built-in variables, one or a few per block, shown through "return" and
# "add_header ... always", and the "$var" / "${var}" syntax of complex values.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/112-variables.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use IO::Socket::INET;
use Sys::Hostname ();

our $IsNginx = Test::Moongate::binary() =~ m{(?:nginx|openresty)[^/]*$} ? 1 : 0;
our $Hostname = Sys::Hostname::hostname();

# One request on its own connection to the test server; the whole response.
sub get_raw {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $Test::Moongate::ServerPort,
                                  Proto => 'tcp', Timeout => 3)
        or return "connect failed: $!";
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $resp = '';
    local $SIG{ALRM} = sub { die "timeout\n" };
    eval {
        alarm 5;
        while (sysread($s, my $buf, 65536)) { $resp .= $buf }
        alarm 0;
    };
    alarm 0;
    return $resp;
}

plan 'no_plan';

run_tests();

__DATA__

=== TEST 1: $uri is decoded and normalized, $request_uri is as sent, $args raw
--- config
    location /a {
        return 200 "uri=$uri\ndocument_uri=$document_uri\nrequest_uri=$request_uri\nargs=$args\nquery_string=$query_string\n";
    }
--- request
GET /a%20b/./c//d?x=1&y=%20z
--- response_body
uri=/a b/c/d
document_uri=/a b/c/d
request_uri=/a%20b/./c//d?x=1&y=%20z
args=x=1&y=%20z
query_string=x=1&y=%20z



=== TEST 2: $is_args with and without a query; an empty query
--- config
    location /t { return 200 "[$is_args][$args]\n"; }
--- request eval
["GET /t?a=b", "GET /t", "GET /t?"]
--- response_body eval
["[?][a=b]\n", "[][]\n", "[][]\n"]



=== TEST 3: $arg_NAME: the first occurrence, names without case, not decoded
--- config
    location /t { return 200 "foo=[$arg_foo] bar=[$arg_bar] empty=[$arg_empty] flag=[$arg_flag] none=[$arg_none] enc=[$arg_enc]\n"; }
--- request
GET /t?FOO=1&foo=2&bar=a+b&empty=&flag&enc=%41%20
--- response_body
foo=[1] bar=[a+b] empty=[] flag=[] none=[] enc=[%41%20]



=== TEST 4: $arg_ with an upper-case name in the config
--- config
    location /t { return 200 "[$arg_Token]\n"; }
--- request
GET /t?token=abc
--- response_body
[abc]



=== TEST 5: $http_NAME: dashes are underscores, any case
--- config
    location /t { return 200 "[$http_x_foo_bar][$http_user_agent][$http_missing][$HTTP_X_FOO_BAR]\n"; }
--- more_headers
X-Foo-Bar: fb
User-Agent: tester/1.0
--- request
GET /t
--- response_body
[fb][tester/1.0][][fb]



=== TEST 6: $http_NAME of a repeated header: joined with ", " (nginx 1.23+; 1.22 gives the first)
--- config
    location /t { return 200 "[$http_x_multi]\n"; }
--- more_headers
X-Multi: one
X-Multi: two
x-multi: three
--- request
GET /t
--- response_body eval
$main::IsNginx ? "[one]\n" : "[one, two, three]\n"



=== TEST 7: $http_cookie joins several Cookie lines with "; "
--- config
    location /t { return 200 "[$http_cookie]\n"; }
--- more_headers
Cookie: a=1
Cookie: b=2; c=3
--- request
GET /t
--- response_body
[a=1; b=2; c=3]



=== TEST 8: $cookie_NAME from any Cookie line; a missing one is empty
--- config
    location /t { return 200 "a=[$cookie_a] b=[$cookie_b] c=[$cookie_c] d=[$cookie_d]\n"; }
--- more_headers
Cookie: a=1; b=two words
Cookie: c=3
--- request
GET /t
--- response_body
a=[1] b=[two words] c=[3] d=[]



=== TEST 9: $host: lowercased Host without its port; $http_host: as sent
--- config
    location /t { return 200 "$host|$http_host\n"; }
--- more_headers
Host: WWW.Example.Com:8080
--- request
GET /t
--- response_body
www.example.com|WWW.Example.Com:8080



=== TEST 10: $hostname is the machine's host name
--- config
    location /t { return 200 "$hostname\n"; }
--- request
GET /t
--- response_body eval
"$main::Hostname\n"



=== TEST 11: $server_name, $server_addr, $server_port
--- config
    location /t { return 200 "$server_name $server_addr $server_port\n"; }
--- request
GET /t
--- response_body eval
"localhost 127.0.0.1 $Test::Moongate::ServerPort\n"



=== TEST 12: $remote_addr and a numeric $remote_port
--- config
    location /t { return 200 "$remote_addr $remote_port\n"; }
--- request
GET /t
--- response_body_like chomp
^127\.0\.0\.1 [1-9]\d{0,4}\n\z



=== TEST 13: $request_method, $request, $scheme, $server_protocol, $https
--- config
    location /t { return 200 "$request_method|$request|$scheme|$server_protocol|[$https]\n"; }
--- request
POST /t?q=1
body
--- response_body
POST|POST /t?q=1 HTTP/1.1|http|HTTP/1.1|[]



=== TEST 14: $server_protocol of an HTTP/1.0 request
--- config
    location /t { return 200 "$server_protocol $request\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body
HTTP/1.0 GET /t HTTP/1.0



=== TEST 15: $status in "add_header ... always" of an error page
--- config
    location /t {
        add_header X-Status $status always;
        return 404;
    }
--- request
GET /t
--- error_code: 404
--- response_headers
X-Status: 404



=== TEST 16: $status of a normal answer; add_header without "always" is not on errors
--- config
    location /ok { add_header X-Status $status; return 200 "ok\n"; }
    location /err { add_header X-Status $status; return 500; }
--- request eval
["GET /ok", "GET /err"]
--- error_code eval
[200, 500]
--- response_headers eval
["X-Status: 200", "!X-Status"]



=== TEST 17: $body_bytes_sent and $bytes_sent are 0 while the head is being made
--- config
    location /t {
        add_header X-Body $body_bytes_sent;
        add_header X-Bytes $bytes_sent;
        return 200 "hello\n";
    }
--- request
GET /t
--- response_headers
X-Body: 0
X-Bytes: 0



=== TEST 18: $request_time and $msec formats
--- config
    location /t { return 200 "$request_time $msec\n"; }
--- request
GET /t
--- response_body_like chomp
^\d+\.\d{3} \d{10}\.\d{3}\n\z



=== TEST 19: $time_local and $time_iso8601 formats
--- config
    location /t { return 200 "$time_local|$time_iso8601\n"; }
--- request
GET /t
--- response_body_like chomp
^\d\d/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\n\z



=== TEST 20: $request_length counts the request line and headers
--- config
    location /t { return 200 "$request_length\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nX-Pad: 0123456789\r\nConnection: close\r\n\r\n"
--- response_body eval
length("GET /t HTTP/1.1\r\nHost: localhost\r\nX-Pad: 0123456789\r\nConnection: close\r\n\r\n") . "\n"



=== TEST 21: $content_type and $content_length of a request
--- config
    location /t { return 200 "[$content_type][$content_length]\n"; }
--- more_headers
Content-Type: application/json; charset=utf-8
--- request
POST /t
{"a":1}
--- response_body
[application/json; charset=utf-8][7]



=== TEST 22: $content_type and $content_length are empty without a body
--- config
    location /t { return 200 "[$content_type][$content_length]\n"; }
--- request
GET /t
--- response_body
[][]



=== TEST 23: $connection stays, $connection_requests counts on a keepalive connection
--- config
    location /t { return 200 "$connection:$connection_requests\n"; }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- response_body_like eval
["^(\\d+):1\\n\\z", "^\\d+:2\\n\\z", "^\\d+:3\\n\\z"]



=== TEST 24: a new connection gets a new $connection number
--- config
    location /t { return 200 "$connection\n"; }
--- init
    my ($a) = main::get_raw('/t') =~ /\r\n\r\n(\d+)\n\z/;
    my ($b) = main::get_raw('/t') =~ /\r\n\r\n(\d+)\n\z/;
    Test::More::ok(defined $a && defined $b && $b > $a, "connection numbers grow ($a, $b)");
--- request
GET /t
--- response_body_like chomp
^\d+\n\z



=== TEST 25: $pid is the pid in the pid file
--- config
    location /t { return 200 "$pid\n"; }
--- init
    my $pid = Test::Moongate::read_pid();
    Test::More::like(main::get_raw('/t'), qr/\r\n\r\n\Q$pid\E\n\z/, '$pid matches the pid file');
--- request
GET /t
--- response_body_like chomp
^\d+\n\z



=== TEST 26: $nginx_version is the nginx release moongate follows (as -V and ngx.config.nginx_version)
--- config
    location /t { return 200 "$nginx_version\n"; }
--- request
GET /t
--- response_body eval
"1.22.1\n"



=== TEST 27: $sent_http_NAME in add_header sees the response headers
--- config
    location /t {
        default_type application/x-test;
        add_header X-CT $sent_http_content_type;
        add_header X-Missing "[$sent_http_x_nothing]";
        return 200 "x";
    }
--- request
GET /t
--- response_headers
X-CT: application/x-test
X-Missing: []



=== TEST 28: $sent_http_ of a header set by an earlier add_header
--- config
    location /t {
        add_header X-First one;
        add_header X-Second "after $sent_http_x_first";
        return 200 "x";
    }
--- request
GET /t
--- response_headers
X-First: one
X-Second: after one



=== TEST 29: $document_root, $request_filename, $realpath_root
--- config
    location /r/ {
        root $TEST_NGINX_HTML_DIR/sub/../sub;
        return 200 "$document_root\n$request_filename\n$realpath_root\n";
    }
--- user_files
>>> sub/r/f.txt
x
--- request
GET /r/f.txt
--- response_body eval
"$Test::Moongate::HtmlDir/sub/../sub\n$Test::Moongate::HtmlDir/sub/../sub/r/f.txt\n$Test::Moongate::HtmlDir/sub\n"



=== TEST 30: root with a variable
--- config
    location /v/ {
        root $TEST_NGINX_HTML_DIR/$arg_site;
    }
--- user_files
>>> one/v/f.txt
site one
>>> two/v/f.txt
site two
--- request eval
["GET /v/f.txt?site=one", "GET /v/f.txt?site=two"]
--- response_body eval
["site one\n", "site two\n"]



=== TEST 31: text right after a variable and the ${var} form
--- config
    location /t { return 200 "$uri.txt ${uri}x $uri-y ${arg_a}_b $arg_a_b\n"; }
--- request
GET /t?a=1&a_b=2
--- response_body
/t.txt /tx /t-y 1_b 2



=== TEST 32: a lone "$" at the end and "$$"-free text are fine; the value is not re-expanded
--- config
    location /t { return 200 "[$arg_v]\n"; }
--- request
GET /t?v=$uri
--- response_body
[$uri]



=== TEST 33: unknown variable is a config error
--- config
    location /t { return 200 "$foo\n"; }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "foo" variable/



=== TEST 34: an unclosed ${ is a config error
--- config
    location /t { return 200 "${uri\n"; }
--- must_die
--- error_log
the closing bracket in "uri" variable is missing



=== TEST 35: variable names in the config are case-insensitive
--- config
    location /t { return 200 "$URI $Request_Method\n"; }
--- request
GET /t
--- response_body
/t GET



=== TEST 36: captures $1..$9 from the location regex, empty beyond the groups
--- config
    location ~ ^/c/(\d)(\d)(\d)(\d)(\d)(\d)(\d)(\d)(\d)$ { return 200 "$9$8$7$6$5$4$3$2$1\n"; }
    location ~ ^/d/(x)$ { return 200 "[$1][$2][$9]\n"; }
--- request eval
["GET /c/123456789", "GET /d/x"]
--- response_body eval
["987654321\n", "[x][][]\n"]



=== TEST 37: $uri after an internal redirect by index; $request_uri keeps the original
--- config
    location / { index index.html; }
    location = /dir/index.html { return 200 "$uri $request_uri $document_uri\n"; }
--- user_files
>>> dir/index.html
not served
--- request
GET /dir/
--- response_body
/dir/index.html /dir/ /dir/index.html



=== TEST 38: variables in add_header: literal text, several variables
--- config
    location /t {
        add_header X-Info "m=$request_method;u=$uri;a=$args" always;
        return 204;
    }
--- request
GET /t?k=v
--- error_code: 204
--- response_headers
X-Info: m=GET;u=/t;a=k=v



=== TEST 39: $binary_remote_addr is four bytes for IPv4
--- config
    location /t { return 200 "$binary_remote_addr"; }
--- request
GET /t
--- response_body eval
"\x7f\x00\x00\x01"



=== TEST 40: a header with an empty value makes $http_ empty, not missing
--- config
    location /t { return 200 "[$http_x_empty]\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\nX-Empty:\r\nConnection: close\r\n\r\n"
--- response_body
[]



=== TEST 41: $uri decodes %2F and keeps "+"; $request_uri does not
--- config
    location / { return 200 "$uri $request_uri\n"; }
--- request
GET /a%2Fb+c
--- response_body
/a/b+c /a%2Fb+c



=== TEST 42: $sent_http_location is the Location before it is made absolute
--- config
    location /t {
        add_header X-Loc "$status $sent_http_location" always;
        return 302 /elsewhere;
    }
--- request
GET /t
--- error_code: 302
--- response_headers eval
"X-Loc: 302 /elsewhere
Location: http://localhost:$Test::Moongate::ServerPort/elsewhere"



=== TEST 43: $sent_http_last_modified and $sent_http_content_length of a static file
--- config
    location / {
        add_header X-LM $sent_http_last_modified;
        add_header X-CL $sent_http_content_length;
    }
--- user_files
>>> f.txt 200902132331.30
12345
--- request
GET /f.txt
--- response_headers
X-LM: Fri, 13 Feb 2009 23:31:30 GMT
X-CL: 6



=== TEST 44: $content_length of an explicit empty body
--- config
    location /t { return 200 "[$content_length][$http_content_length]\n"; }
--- raw_request eval
"POST /t HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
--- response_body
[0][0]



=== TEST 45: $realpath_root resolves a symbolic link in the root
--- config
    location /l/ {
        root $TEST_NGINX_HTML_DIR/link;
        return 200 "$realpath_root\n";
    }
--- init
    mkdir "$Test::Moongate::HtmlDir/real";
    symlink "$Test::Moongate::HtmlDir/real", "$Test::Moongate::HtmlDir/link"
        or Test::More::diag("symlink: $!");
--- request
GET /l/x
--- response_body eval
"$Test::Moongate::HtmlDir/real\n"



=== TEST 46: $cookie_NAME parsed as nginx: spaces around "=", "," between pairs, value up to ";"
--- config
    location /t { return 200 "[$cookie_a][$cookie_b][$cookie_c][$cookie_A][$cookie_ab]\n"; }
--- more_headers
Cookie: a = 1 ;b=2,c=3
--- request
GET /t
--- response_body
[1 ][2,c=3][3][1 ][]



=== TEST 47: $status inside the text of "return" is the returned code; $sent_http_connection is known early
--- config
    location /t { return 201 "[$status][$sent_http_connection]\n"; }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- error_code eval
[201, 201]
--- response_body eval
["[201][keep-alive]\n", "[201][close]\n"]



=== TEST 48: $status in the URL of a redirect "return" is its code too
--- config
    location /t { return 302 "/x?s=$status"; }
--- request
GET /t
--- error_code: 302
--- response_headers eval
"Location: http://localhost:$Test::Moongate::ServerPort/x?s=302"



=== TEST 49: $remote_user from Basic credentials
--- config
    location /t { return 200 "[$remote_user]\n"; }
--- request eval
["GET /t", "GET /t"]
--- more_headers
Authorization: Basic dXNlcjE6cGFzczpbd10=
--- response_body eval
["[user1]\n", "[user1]\n"]



=== TEST 50: $remote_user is empty without credentials or with another scheme
--- config
    location /t { return 200 "[$remote_user]\n"; }
--- more_headers
Authorization: Bearer abc
--- request
GET /t
--- response_body
[]



=== TEST 51: $request_id is 32 hex digits, new for each request
--- config
    location /t { return 200 "$request_id $request_id\n"; }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- response_body_like eval
["^([0-9a-f]{32}) \\1\\n\\z", "^[0-9a-f]{32} [0-9a-f]{32}\\n\\z"]



=== TEST 52: variables of modules moongate lacks answer as nginx without them in use
--- config
    location /t { return 200 "[$realip_remote_addr][$proxy_protocol_addr][$limit_rate][$http2][$request_completion][$request_body]\n"; }
--- request
GET /t
--- response_body
[127.0.0.1][][0][][][]



=== TEST 53: $tcpinfo_rtt is a number
--- config
    location /t { return 200 "$tcpinfo_rtt $tcpinfo_snd_cwnd\n"; }
--- request
GET /t
--- response_body_like chomp
^\d+ \d+\n\z
