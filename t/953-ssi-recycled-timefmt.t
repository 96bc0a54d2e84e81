# ssi_ignore_recycled_buffers, which nginx has and does not document: a full buffer of a
# proxied body is "recycled" (its producer wants it back), and the SSI output made from it
# is written at once even when it is shorter than postpone_output; with the directive on it
# may be held and gathered with what follows. Seen by a client (a Lua cosocket in the same
# server) reading while the upstream waits for its word. And "config timefmt" giving no
# date: echo of DATE_LOCAL/DATE_GMT prints the errmsg, as nginx.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/953-ssi-recycled-timefmt.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateDrive;

use_bad_conf_blocks();

# /up sends part0 and part1, each followed by 6000 bytes an SSI false branch swallows (so
# whole proxy buffers give a few bytes of output) and a flush, and waits for the driver's
# word after each (3 s at most); Test::MoongateDrive's /drive reads the proxied, SSI-filtered path.
our $Http = $Test::MoongateDrive::Http;

our $Locations = $Test::MoongateDrive::Location . <<'EOF';
    location /up {
        content_by_lua_block {
            ngx.header.content_type = "text/html"
            local pad = '<!--# if expr="$no_such_ssi_var" -->' .. string.rep("x", 6000)
                        .. '<!--# endif -->'
            for i, part in ipairs({"part0", "part1"}) do
                ngx.print("<p>" .. part .. "</p>" .. pad)
                ngx.flush(true)
                for _ = 1, 300 do
                    if ngx.shared.rec:get("go" .. i) then break end
                    ngx.sleep(0.01)
                end
            end
            ngx.print("<p>end</p>")
        }
    }
EOF

run_tests();

__DATA__

=== TEST 1: by default the SSI output of a whole proxy buffer leaves at once
--- http_config eval: $::Http
--- config eval
$::Locations . q{
    location /ssi {
        ssi on;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
    }
}
--- request
GET /drive?p=/ssi
--- response_body
part1 before the end: yes, whole: yes, x left: no



=== TEST 2: ssi_ignore_recycled_buffers on (inherited from server{}): it waits for postpone_output
--- http_config eval: $::Http
--- config eval
$::Locations . q{
    ssi_ignore_recycled_buffers on;
    location /ssi {
        ssi on;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
    }
}
--- request
GET /drive?p=/ssi
--- timeout: 10
--- response_body
part1 before the end: no, whole: yes, x left: no



=== TEST 3: a location's off undoes the server's on
--- http_config eval: $::Http
--- config eval
$::Locations . q{
    ssi_ignore_recycled_buffers on;
    location /ssi {
        ssi on;
        ssi_ignore_recycled_buffers off;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/up;
    }
}
--- request
GET /drive?p=/ssi
--- response_body
part1 before the end: yes, whole: yes, x left: no



=== TEST 4: on, a file whose 32k reads give little output is served whole
nginx holds its copy buffers under the postponed output and waits for send_timeout
(its reads stop); moongate's writer copies what it holds, so nothing waits.
--- moongate_only
--- user_files eval
">>> a.html\nstart\n<!--# if expr=\"\$no_such_ssi_var\" -->" . ("x" x 100000) . "<!--# endif -->end\n"
--- config
    location / {
        ssi on;
        ssi_ignore_recycled_buffers on;
        output_buffers 1 32k;
    }
--- request
GET /a.html
--- response_body
start
end



=== TEST 5: config timefmt="" leaves DATE_LOCAL and DATE_GMT without a value: echo prints the errmsg
--- user_files
>>> a.html
[<!--# config timefmt="" --><!--# echo var="DATE_LOCAL" -->]
[<!--# echo var="date_gmt" -->]
[<!--# config errmsg="no date" --><!--# echo var="DATE_GMT" default="dflt" -->]
[<!--# config timefmt="%Y" --><!--# echo var="no_such_var" -->]
--- config
    location / { ssi on; }
--- request
GET /a.html
--- response_body_like chomp
\A\[\[an error occurred while processing the directive\]\]
\[\[an error occurred while processing the directive\]\]
\[no date\]
\[\(none\)\]
\z



=== TEST 6: ssi_silent_errors prints nothing for it
--- user_files
>>> a.html
[<!--# config timefmt="" --><!--# echo var="DATE_LOCAL" -->]
--- config
    location / { ssi on; ssi_silent_errors on; }
--- request
GET /a.html
--- response_body
[]



=== TEST 7: ssi_ignore_recycled_buffers takes on or off
--- bad_conf
ssi_ignore_recycled_buffers yes;
--- error_log
invalid value "yes" in "ssi_ignore_recycled_buffers" directive, it must be "on" or "off" in %F:1



=== TEST 8: ssi_ignore_recycled_buffers takes one argument
--- include_in: http
--- bad_conf
ssi_ignore_recycled_buffers;
--- error_log
invalid number of arguments in "ssi_ignore_recycled_buffers" directive in %F:1



=== TEST 9: not in a location's if
--- config
    location /t {
        if ($arg_x) {
            ssi_ignore_recycled_buffers on;
        }
    }
--- must_die
--- error_log eval
qr/"ssi_ignore_recycled_buffers" directive is not allowed here in \S+:\d+/
