# A site configured as a Debian user writes one: every standard HTTP module of issue 12 in one
# http{} block (map, geo, split_clients, limit_req, limit_conn, realip, access, auth_basic,
# auth_request, satisfy, limit_except, stub_status, sub_filter, addition, empty_gif, referer,
# secure_link, mirror, userid, browser, charset, ssi, gunzip, gzip, gzip_static, slice,
# random_index, limit_rate, dav, flv, mp4, access_log paths with variables and
# open_log_file_cache, the hash sizes, proxy with an upstream pool in a shared zone and its
# cookie rewriting), started as it is and then asked what a visitor would ask: each answer
# shows its module did its part.
#
#   prove -I t/lib t/014-real-world-config.t
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/014-real-world-config.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Digest::MD5 ();
use IO::Compress::Gzip ();
use MIME::Base64 ();
use Mp4File qw(mp4_test_files);

plan 'no_plan';

our $port2 = env_port('TEST_NGINX_PORT2');
$ENV{TEST_NGINX_MIME_TYPES} = "$Test::Moongate::RepoRoot/conf/mime.types";
$ENV{TEST_NGINX_SITE_LOG} = "$Test::Moongate::LogDir/site.log";
$ENV{TEST_NGINX_LOG_DIR} = $Test::Moongate::LogDir;
unlink glob("$Test::Moongate::LogDir/video-*.log");

my %mp4 = mp4_test_files();
our $Mp4 = $mp4{'e.mp4'};
our $Flv = "FLV\x01\x05\0\0\0\x09\0\0\0\0" . join('', map { chr($_ % 256) } 0 .. 199);

# secure_link: a link valid until 2100, made as the site's application would make it
our $Expires = 4102444800;
our $Md5 = MIME::Base64::encode_base64url(Digest::MD5::md5("$Expires/dl/file.txt s3cret"));

my $gz;
IO::Compress::Gzip::gzip(\"stored compressed text\n" => \$gz) or die;
our $Gz = $gz;

our $Files = <<"EOF" . ">>> gz/doc.txt.gz\n$Gz";
>>> video/clip.mp4
$Mp4
>>> video/clip.flv
$Flv
>>> index.html
<html>home</html>
>>> 404.html
custom not found
>>> static/site.css
body { color: red; }
>>> static/site.css.gz
not really gzip, but gzip_static sends it as it is
>>> images/logo.txt
logo
>>> dl/file.txt
secret file
>>> ssi/page.html
<p>variant <!--# echo var="variant_ok" --> api <!--# include virtual="/api/v7/inc" --></p>
>>> add/body.txt
the body
>>> add/top.txt
top
>>> strict/once.txt
once
>>> rand/one.html
one
>>> slow/data.txt
@{['z' x 3000]}
>>> private/members.txt
members only
>>> protected/doc.txt
protected doc
>>> htpasswd
ann:{PLAIN}annPw
EOF

our $HttpConfig = <<'EOF';
    include $TEST_NGINX_MIME_TYPES;
    server_names_hash_bucket_size 64;
    server_names_hash_max_size 1024;
    types_hash_max_size 2048;
    variables_hash_max_size 1024;
    map_hash_bucket_size 64;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    server_tokens off;

    log_format main '$remote_addr "$request" $status $body_bytes_sent bot=$is_bot '
                    'trusted=$trusted zone=$zone_name lr=$limit_req_status';
    access_log $TEST_NGINX_SITE_LOG main;
    open_log_file_cache max=100 inactive=20s valid=1m min_uses=1;

    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_comp_level 6;
    gzip_min_length 10;
    gzip_types text/css application/json;

    map $http_user_agent $is_bot {
        default 0;
        "~*(bot|crawler|spider)" 1;
    }
    map $uri $api_version {
        default none;
        "~^/api/(?<v>v[0-9]+)/" $v;
    }
    geo $trusted {
        default 0;
        127.0.0.0/8 1;
        10.0.0.0/8 1;
    }
    geo $remote_addr $zone_name {
        ranges;
        default world;
        127.0.0.1-127.0.0.255 loopback;
        192.168.0.0-192.168.255.255 office;
    }
    split_clients "${remote_addr}site" $variant {
        50% a;
        *   b;
    }
    map $variant $variant_ok {
        a yes;
        b yes;
        default no;
    }

    limit_req_zone $binary_remote_addr zone=perip:1m rate=100000r/s;
    limit_req_zone $server_name zone=strict:1m rate=1r/m;
    limit_conn_zone $binary_remote_addr zone=addr:1m;
    limit_req_status 429;

    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;

    upstream app {
        zone app 64k;
        random two least_conn;
        server 127.0.0.1:$TEST_NGINX_PORT2 max_conns=100;
        keepalive 8;
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_PORT2;
        server_name app.internal;
        access_log off;
        location / {
            return 200 "app $request_uri xff=$http_x_forwarded_for\n";
        }
        location = /auth {
            if ($http_x_token = "good") {
                add_header X-User ann;
                return 204;
            }
            return 401;
        }
        location = /mirrored {
            return 200;
        }
        location /files/ {
            alias $TEST_NGINX_HTML_DIR/slow/;
        }
    }
EOF

our $Config = <<'EOF';
    root $TEST_NGINX_HTML_DIR;
    index index.html;
    charset utf-8;
    charset_types text/plain text/html;
    error_page 404 /404.html;
    limit_req zone=perip burst=20 nodelay;
    limit_conn addr 50;

    location / {
        try_files $uri $uri/ =404;
    }
    location = /404.html {
        internal;
    }
    location /static/ {
        expires 30d;
        add_header Cache-Control public;
        gzip_static on;
    }
    location /api/ {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header Accept-Encoding "";
        add_header X-Api $api_version;
        add_header X-Region $zone_name;
        sub_filter "app " "APP ";
        sub_filter_types text/plain;
        proxy_cookie_path /app/ /;
        proxy_cookie_flags ~ secure samesite=lax;
        proxy_ignore_headers X-Accel-Expires;
    }
    location /private/ {
        satisfy any;
        allow 10.0.0.0/8;
        deny all;
        auth_basic "members";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/htpasswd;
    }
    location /protected/ {
        auth_request /_auth;
        auth_request_set $auth_user $upstream_http_x_user;
        add_header X-Auth-User $auth_user;
    }
    location = /_auth {
        internal;
        proxy_pass http://app/auth;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Token $http_x_token;
    }
    location = /status {
        stub_status;
        allow 127.0.0.1;
        deny all;
        access_log off;
    }
    location = /pixel.gif {
        empty_gif;
    }
    location /images/ {
        valid_referers none blocked server_names *.example.com;
        if ($invalid_referer) {
            return 403;
        }
    }
    location /dl/ {
        secure_link $arg_md5,$arg_expires;
        secure_link_md5 "$secure_link_expires$uri s3cret";
        if ($secure_link = "") {
            return 403;
        }
        if ($secure_link = "0") {
            return 410;
        }
    }
    location = /track {
        userid on;
        userid_name uid;
        userid_path /;
        userid_expires 365d;
        return 200 "tracked\n";
    }
    location = /browser {
        ancient_browser "MSIE 6.0";
        modern_browser gecko 1.0;
        modern_browser unlisted;
        if ($ancient_browser) {
            return 200 "ancient\n";
        }
        return 200 "modern\n";
    }
    location /ssi/ {
        ssi on;
    }
    location /add/ {
        add_before_body /add/top.txt;
        addition_types text/plain;
    }
    location /gz/ {
        gzip_static always;
        gunzip on;
    }
    location /slice/ {
        slice 1k;
        proxy_set_header Range $slice_range;
        proxy_pass http://app/files/;
    }
    location /rand/ {
        random_index on;
    }
    location /slow/ {
        limit_rate_after 1k;
        limit_rate 1m;
    }
    location /strict/ {
        limit_req zone=strict;
    }
    location = /mirror {
        mirror /_mirror;
        proxy_pass http://app/mirror-main;
    }
    location = /_mirror {
        internal;
        proxy_pass http://app/mirrored;
    }
    location /video/ {
        mp4;
        mp4_buffer_size 1m;
        mp4_max_buffer_size 5m;
        access_log $TEST_NGINX_LOG_DIR/video-$host.log main;
        location ~ \.flv$ {
            flv;
        }
    }
    location /dav/ {
        dav_methods PUT DELETE MKCOL COPY MOVE;
        create_full_put_path on;
        dav_access user:rw group:r all:r;
        limit_except GET PUT {
            deny all;
        }
    }
    location /upload/ {
        limit_except GET {
            deny all;
        }
        return 200 "upload area\n";
    }
EOF

run_tests();

# the access log got the map, geo, realip and limit_req values of each request
{
    open my $fh, '<', $ENV{TEST_NGINX_SITE_LOG} or die "site.log: $!";
    my $log = join '', <$fh>;
    like($log, qr{^127\.0\.0\.1 "GET / HTTP/1\.1" 200 \d+ bot=1 trusted=1 zone=loopback lr=PASSED$}m,
         'access log: map, geo and limit_req values');
    like($log, qr{^192\.168\.1\.20 "GET /api/v7/items HTTP/1\.1" 200 \d+ bot=0 trusted=0 zone=office lr=PASSED$}m,
         'access log: the address realip set');
    like($log, qr{^127\.0\.0\.1 "GET /strict/once\.txt HTTP/1\.1" 429 \d+ bot=0 trusted=1 zone=loopback lr=REJECTED$}m,
         'access log: the request limit_req refused');
    open my $vh, '<', "$Test::Moongate::LogDir/video-localhost.log" or die "video log: $!";
    my $video = join '', <$vh>;
    like($video, qr{^127\.0\.0\.1 "GET /video/clip\.mp4\?start=4\.5 HTTP/1\.1" 200 \d+ }m,
         'a log named by a variable got its line');
    unlike($log, qr{/video/}, 'and the site log did not');
}

__DATA__

=== TEST 1: the site starts and each module answers
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files eval: $::Files
--- request eval
[
 "GET /",
 "GET /nothing-here",
 "GET /static/site.css",
 "GET /api/v7/items",
 "GET /private/members.txt",
 "GET /protected/doc.txt",
 "GET /protected/doc.txt",
 "GET /status",
 "GET /pixel.gif",
 "GET /images/logo.txt",
 "GET /dl/file.txt?md5=$::Md5&expires=$::Expires",
 "GET /dl/file.txt?md5=AAAAAAAAAAAAAAAAAAAAAA&expires=$::Expires",
 "GET /track",
 "GET /browser",
 "GET /ssi/page.html",
 "GET /add/body.txt",
 "GET /gz/doc.txt",
 "GET /slice/data.txt",
 "GET /rand/",
 "GET /slow/data.txt",
 "GET /strict/once.txt",
 "GET /strict/once.txt",
 "GET /mirror",
 "POST /upload/x\nbody",
 "GET /upload/x",
 "GET /video/clip.mp4?start=4.5",
 "GET /video/clip.flv?start=113",
 "PUT /dav/new/dir/page.txt\nput by dav",
 "GET /dav/new/dir/page.txt",
 "DELETE /dav/new/dir/page.txt",
]
--- more_headers eval
[
 "User-Agent: Googlebot/2.1",
 "",
 "Accept-Encoding: gzip",
 "X-Forwarded-For: 192.168.1.20",
 "Authorization: Basic " . MIME::Base64::encode_base64("ann:annPw", ""),
 "X-Token: good",
 "X-Token: bad",
 "",
 "",
 "Referer: http://evil.test/",
 "",
 "",
 "",
 "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
]
--- error_code eval
[200, 404, 200, 200, 200, 200, 401, 200, 200, 403, 200, 403, 200, 200, 200, 200, 200,
 200, 200, 200, 200, 429, 200, 403, 200, 200, 200, 201, 200, 403]
--- response_headers eval
[
 "Content-Type: text/html; charset=utf-8",
 "Content-Type: text/html; charset=utf-8",
 "Content-Encoding: gzip\nVary: Accept-Encoding",
 "X-Api: v7\nX-Region: office",
 "Content-Type: text/plain; charset=utf-8",
 "X-Auth-User: ann",
 "",
 "",
 "Content-Type: image/gif\nContent-Length: 43",
 "",
 "",
 "",
 "",
 "",
 "",
 "",
 "!Content-Encoding",
 "",
 "",
 "Content-Length: 3001",
 "",
 "",
 "",
 "",
 "",
 "Content-Type: video/mp4",
 "Content-Type: video/x-flv\nContent-Length: 114",
 "",
 "",
 "",
]
--- response_headers_like eval
[
 "", "", "Expires: .+ GMT", "", "", "", "", "", "", "", "", "",
 "Set-Cookie: uid=[A-Za-z0-9+/]{22}==; expires=.+; path=/",
 "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
]
--- response_body_like eval
[
 "^<html>home</html>\$",
 "^custom not found\$",
 "not really gzip",
 "^APP /api/v7/items xff=192\\.168\\.1\\.20, 192\\.168\\.1\\.20\$",
 "^members only\$",
 "^protected doc\$",
 "401 Authorization Required",
 "^Active connections: \\d+ \\nserver accepts handled requests\\n \\d+ \\d+ \\d+ \\nReading: \\d+ Writing: \\d+ Waiting: \\d+ \\n\$",
 "^GIF89a",
 "403 Forbidden",
 "^secret file\$",
 "403 Forbidden",
 "^tracked\$",
 "^ancient\$",
 "^<p>variant yes api APP /api/v7/inc xff=127\\.0\\.0\\.1\\n</p>\$",
 "^top\\nthe body\$",
 "^stored compressed text\$",
 "^z{3000}\$",
 "^one\$",
 "^z{3000}\$",
 "^once\$",
 "429 Too Many Requests",
 "^app /mirror-main xff=\$",
 "403 Forbidden",
 "^upload area\$",
 "^\\0\\0\\0.ftyp",
 "^FLV\\x01\\x05\\0\\0\\0\\x09\\0\\0\\0\\0\\x64\\x65",
 "^\$",
 "^put by dav\$",
 "403 Forbidden",
]
--- error_log
access forbidden by rule
--- no_error_log
[crit]
[alert]
[emerg]
