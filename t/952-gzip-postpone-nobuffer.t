# The two gzip directives nginx has and does not document. postpone_gzipping SIZE: the
# response's first bytes are kept (zlib not started) until more than SIZE came, a flush or the
# end. gzip_no_buffer: when the filter has used all its input, what zlib gave so far leaves
# at once instead of waiting for a full buffer. Seen from inside the handler: after each
# ngx.print, did any body byte reach the socket ($body_bytes_sent, written synchronously when
# the socket takes it)? Plus gzip's buffers going out at once (nginx's recycled buffers), so
# gzip_buffers smaller in all than postpone_output still serve a large body.
#
#   TEST_MOONGATE_BINARY=/usr/sbin/nginx prove -I t/lib t/952-gzip-postpone-nobuffer.t

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Moongate;
use Test::MoongateBody;

use_bad_conf_blocks();

our $Noise = do {
    open my $f, '<', '/dev/urandom' or die; binmode $f;
    read($f, my $d, 100000) == 100000 or die; $d
};

# probe(key, data, sizes, flush_after, numbers): prints the pieces of the data ("noise": the
# random file, else that many "a"), and records after each whether body bytes were sent
# ("sent"/"held"), or how many (numbers); /r?k=key says it.
our $Probe = <<'EOF';
    lua_shared_dict rec 1m;
    init_by_lua_block {
        function probe(key, data, sizes, flush_after, numbers)
            local d
            if data == "noise" then
                local f = assert(io.open(ngx.var.document_root .. "/noise.bin", "rb"))
                d = f:read("*a")
                f:close()
            end
            local pos, seen = 1, {}
            for i, n in ipairs(sizes) do
                ngx.print(d and d:sub(pos, pos + n - 1) or string.rep("a", n))
                pos = pos + n
                if flush_after == i then
                    ngx.flush(true)
                end
                local sent = tonumber(ngx.var.body_bytes_sent)
                seen[#seen + 1] = numbers and sent or (sent > 0 and "sent" or "held")
            end
            ngx.shared.rec:set(key, table.concat(seen, " "))
        end
    }
EOF

our $Report = 'location /r { gzip off; content_by_lua_block { ngx.say(ngx.shared.rec:get(ngx.var.arg_k)) } }';

run_tests();

__DATA__

=== TEST 1: postpone_gzipping 64k: 40000 bytes are kept, past 64k compression starts; the body is whole
--- http_config eval: $::Probe
--- config eval
qq{
    gzip on;
    gzip_types application/octet-stream;
    location /t {
        postpone_gzipping 64k;
        default_type application/octet-stream;
        content_by_lua_block { probe("t", "noise", {40000, 40000}) }
    }
    $::Report
}
--- user_files eval
">>> noise.bin\n$::Noise"
--- request eval
["GET /t", "GET /r?k=t"]
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
[\&::gunzip, sub { $_[0] }]
--- response_body eval
[substr($::Noise, 0, 80000), "held sent\n"]



=== TEST 2: without postpone_gzipping (0, the default) the first 40000 bytes leave at once
--- http_config eval: $::Probe
--- config eval
qq{
    gzip on;
    gzip_types application/octet-stream;
    location /t {
        default_type application/octet-stream;
        content_by_lua_block { probe("t", "noise", {40000, 40000}) }
    }
    $::Report
}
--- user_files eval
">>> noise.bin\n$::Noise"
--- request eval
["GET /t", "GET /r?k=t"]
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
[\&::gunzip, sub { $_[0] }]
--- response_body eval
[substr($::Noise, 0, 80000), "sent sent\n"]



=== TEST 3: a flush ends the wait: 1000 bytes and ngx.flush(true) go out under a 64k postpone_gzipping
--- http_config eval: $::Probe
--- config eval
qq{
    gzip on;
    gzip_types application/octet-stream;
    location /t {
        postpone_gzipping 64k;
        default_type application/octet-stream;
        content_by_lua_block { probe("t", "noise", {1000, 1000}, 1) }
    }
    $::Report
}
--- user_files eval
">>> noise.bin\n$::Noise"
--- request eval
["GET /t", "GET /r?k=t"]
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
[\&::gunzip, sub { $_[0] }]
--- response_body eval
[substr($::Noise, 0, 2000), "sent sent\n"]



=== TEST 4: a response that ends under the limit is held to its end and compressed once
--- http_config eval: $::Probe
--- config eval
qq{
    gzip on;
    gzip_types application/octet-stream;
    location /t {
        postpone_gzipping 100k;
        default_type application/octet-stream;
        content_by_lua_block { probe("t", "noise", {30000, 30000, 30000}) }
    }
    $::Report
}
--- user_files eval
">>> noise.bin\n$::Noise"
--- request eval
["GET /t", "GET /r?k=t"]
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
[\&::gunzip, sub { $_[0] }]
--- response_body eval
[substr($::Noise, 0, 90000), "held held held\n"]



=== TEST 5: postpone_gzipping is inherited from http{}; a location's 0 turns it off
--- http_config eval: $::Probe . "    postpone_gzipping 64k;\n"
--- config eval
qq{
    gzip on;
    gzip_types application/octet-stream;
    default_type application/octet-stream;
    location /t { content_by_lua_block { probe("t", "noise", {40000, 40000}) } }
    location /t0 {
        postpone_gzipping 0;
        content_by_lua_block { probe("t0", "noise", {40000, 40000}) }
    }
    $::Report
}
--- user_files eval
">>> noise.bin\n$::Noise"
--- request eval
["GET /t", "GET /t0", "GET /r?k=t", "GET /r?k=t0"]
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
[\&::gunzip, \&::gunzip, sub { $_[0] }, sub { $_[0] }]
--- response_body eval
[substr($::Noise, 0, 80000), substr($::Noise, 0, 80000), "held sent\n", "sent sent\n"]



=== TEST 6: gzip buffers go out at once: gzip_buffers 2 256 (less than postpone_output) serve 100000 bytes
--- user_files eval
">>> noise.bin\n$::Noise"
--- config
    location / {
        gzip on;
        gzip_types *;
        gzip_buffers 2 256;
    }
--- request
GET /noise.bin
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_filters eval
\&::gunzip
--- response_body eval
$::Noise
--- no_error_log
[alert]



=== TEST 7: gzip_no_buffer off (the default): what zlib gave (the gzip header) waits for more
--- http_config eval: $::Probe
--- config eval
qq{
    gzip on;
    gzip_types text/plain;
    postpone_output 0;
    location /t {
        default_type text/plain;
        content_by_lua_block { probe("t", "text", {2000, 2000}, nil, true) }
    }
    $::Report
}
--- request eval
["GET /t", "GET /r?k=t"]
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
[\&::gunzip, sub { $_[0] }]
--- response_body eval
["a" x 4000, "0 0\n"]



=== TEST 8: gzip_no_buffer on (inherited from server{}): the gzip header leaves with the first piece (one 10-byte chunk); zlib is not flushed, so the second piece adds nothing
Debian's nginx 1.22.1 sends that piece again from its reused buffer (the gzip header twice,
then "zero size buf in writer" and a cut response): moongate does what its code means.
--- moongate_only
--- http_config eval: $::Probe
--- config eval
qq{
    gzip on;
    gzip_types text/plain;
    gzip_no_buffer on;
    postpone_output 0;
    location /t {
        default_type text/plain;
        content_by_lua_block { probe("t", "text", {2000, 2000}, nil, true) }
    }
    $::Report
}
--- request eval
["GET /t", "GET /r?k=t"]
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
[\&::gunzip, sub { $_[0] }]
--- response_body eval
["a" x 4000, "15 15\n"]
--- no_error_log
[alert]



=== TEST 9: gzip_no_buffer under postpone_gzipping 3000: nothing leaves before the limit is passed
--- moongate_only
--- http_config eval: $::Probe
--- config eval
qq{
    gzip on;
    gzip_types text/plain;
    gzip_no_buffer on;
    postpone_gzipping 3000;
    postpone_output 0;
    location /t {
        default_type text/plain;
        content_by_lua_block { probe("t", "text", {2000, 2000}, nil, true) }
    }
    $::Report
}
--- request eval
["GET /t", "GET /r?k=t"]
--- more_headers
Accept-Encoding: gzip
--- response_body_filters eval
[\&::gunzip, sub { $_[0] }]
--- response_body eval
["a" x 4000, "0 15\n"]



=== TEST 10: gzip_no_buffer takes on or off
--- bad_conf
gzip_no_buffer maybe;
--- error_log
invalid value "maybe" in "gzip_no_buffer" directive, it must be "on" or "off" in %F:1



=== TEST 11: gzip_no_buffer takes one argument
--- include_in: http
--- bad_conf
gzip_no_buffer on off;
--- error_log
invalid number of arguments in "gzip_no_buffer" directive in %F:1



=== TEST 12: postpone_gzipping takes a size
--- include_in: location
--- bad_conf
postpone_gzipping 10q;
--- error_log
"postpone_gzipping" directive invalid value in %F:1



=== TEST 13: postpone_gzipping takes one argument
--- bad_conf
postpone_gzipping;
--- error_log
invalid number of arguments in "postpone_gzipping" directive in %F:1



=== TEST 14: neither is allowed in a location's if (gzip is)
--- config
    location /t {
        if ($arg_x) {
            gzip on;
            gzip_no_buffer on;
        }
    }
--- must_die
--- error_log eval
qr/"gzip_no_buffer" directive is not allowed here in \S+:\d+/



=== TEST 15: nor in the main context
--- main_config
    postpone_gzipping 1k;
--- must_die
--- error_log eval
qr/"postpone_gzipping" directive is not allowed here in \S+:\d+/
