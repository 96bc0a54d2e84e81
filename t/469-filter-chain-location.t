# Each location goes through the filters its own configuration uses (issue 16): a location
# without filters answers as it would alone while a sibling turns gzip, sub_filter, addition or
# add_header on; a nested location, an "if" body, a named location and the server level get
# the filters their merged configuration names; the chain is the location's where the head
# is sent (error_page's target, try_files' named location); an upstream's X-Accel-Charset is
# acted on in a location that names no charset; a subrequest is recoded into its main
# request's charset from a location without charset directives.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/469-filter-chain-location.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;

plan 'no_plan';

our $Files = join '', map { ">>> $_/t.html\nhello world\n" } qw(plain gz gz/in sub add if named);
$Files .= ">>> footer.html\nfooter\n>>> t.html\nhello world\n>>> err.html\nerror hello\n";
$Files .= ">>> gzerr/err.html\nerror hello\n>>> main/m.html\nmain\n>>> kraw/k.html\n\xC1\n";

# the siblings: gzip, sub_filter, addition, add_header each in its own location
our $Config = <<'EOF';
    gzip_min_length 1;
    location /plain/ { }
    location /gz/ {
        gzip on;
        location /gz/in/ { }
    }
    location /sub/ { sub_filter hello HELLO; }
    location /add/ { add_after_body /footer.html; }
    location = /footer.html { }
    location /hdr/ { add_header X-Sibling 1; }
    location /if/ {
        if ($arg_z) {
            gzip on;
        }
    }
    location /named/ { try_files /nothing @sub; }
    location @sub { sub_filter hello HELLO; }
    location /plainerr/ { error_page 404 /gzerr/err.html; }
    location /gzerr/ { gzip on; }
    location /gzplain/ {
        gzip on;
        error_page 404 /err.html;
    }
    location = /err.html { }
EOF

run_tests();

__DATA__

=== TEST 1: a location without filters beside gzip, sub_filter, addition, add_header
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /plain/t.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
!Content-Encoding
!X-Sibling
Content-Length: 12
--- response_body
hello world



=== TEST 2: the gzip sibling compresses
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /gz/t.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
!Content-Length
--- response_body_filters: gunzip
--- response_body
hello world



=== TEST 3: a location nested in the gzip one inherits it
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /gz/in/t.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters: gunzip
--- response_body
hello world



=== TEST 4: the sub_filter sibling replaces
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /sub/t.html
--- response_body
HELLO world



=== TEST 5: the addition sibling appends
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /add/t.html
--- response_body
hello world
footer



=== TEST 6: gzip in an "if" body: only the requests that take it are compressed
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /if/t.html?z=1
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters: gunzip
--- response_body
hello world



=== TEST 7: ... and the others are not
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /if/t.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
!Content-Encoding
Content-Length: 12
--- response_body
hello world



=== TEST 8: try_files' named location: its sub_filter
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /named/t.html
--- response_body
HELLO world



=== TEST 9: error_page from a location without gzip into one with it: compressed
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /plainerr/missing.html
--- more_headers
Accept-Encoding: gzip
--- error_code: 404
--- response_headers
Content-Encoding: gzip
--- response_body_filters: gunzip
--- response_body
error hello



=== TEST 10: error_page from a gzip location into one without: not compressed
--- user_files eval: $::Files
--- config eval: $::Config
--- request
GET /gzplain/missing.html
--- more_headers
Accept-Encoding: gzip
--- error_code: 404
--- response_headers
!Content-Encoding
Content-Length: 12
--- response_body
error hello



=== TEST 11: add_header at the server level, a request no location takes
--- user_files
>>> t.html
hello world
--- config
    add_header X-Server 1;
    location /other/ { return 204; }
--- request
GET /t.html
--- response_headers
X-Server: 1
--- response_body
hello world



=== TEST 12: an upstream's X-Accel-Charset labels the response where no location names a charset
--- user_files eval: $::Files
--- http_config
    charset_map koi8-r windows-1251 { C1 C2; }
--- config
    location /up/ { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/plain/; }
    location /plain/ { add_header X-Accel-Charset koi8-r; }
--- request
GET /up/t.html
--- response_headers
Content-Type: text/html; charset=koi8-r
--- response_body
hello world



=== TEST 13: a subrequest from a location without charset directives is recoded into its main request's charset
--- user_files eval: $::Files
--- http_config
    charset_map koi8-r windows-1251 { C1 C2; }
--- config
    location /main/ {
        charset windows-1251;
        source_charset windows-1251;
        add_after_body /kup/k.html;
    }
    location /kup/ { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/kraw/; }
    location /kraw/ {
        types { }
        default_type "text/html; charset=koi8-r";
    }
--- request
GET /main/m.html
--- response_headers
Content-Type: text/html; charset=windows-1251
--- response_body eval
"main\n\xC2\n"
