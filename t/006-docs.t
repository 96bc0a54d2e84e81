# docs/directives.md and docs/lua-api.md are what `make docs` makes of the code as it is now
# (tools/docgen.c): a directive or an ngx.* function added, removed or changed without
# `make docs` fails here.
use strict;
use warnings;
use Test::More;
use Test::Moongate ();

plan skip_all => 'the docs are moongate\'s' if $Test::Moongate::Binary =~ /nginx/;

my $root = $Test::Moongate::RepoRoot;
my ($code, $out, $err) = Test::Moongate::run_cmd({ timeout => 300 }, 'make', '-s', '-C', $root,
                                                 'objs/docgen');
is($code, 0, 'objs/docgen builds') or diag("$out$err");

for my $doc (['directives.md'], ['lua-api.md', '--lua']) {
    my ($file, @args) = @$doc;
    my ($c, $text, $e) = Test::Moongate::run_cmd("$root/objs/docgen", @args);
    is($c, 0, "docgen @args runs") or diag($e);
    # a directive with a setter of its own and no entry in its module's defaults (the text, or
    # MG_NO_DEFAULT) makes docgen fail: its default cannot go missing from the reference
    unlike($e, qr/has a setter of its own and no entry/, "docgen @args: every default declared");
    my $kept = Test::Moongate::slurp("$root/docs/$file");
    ok($kept eq $text, "docs/$file is up to date (run `make docs`)") or do {
        my @a = split /\n/, $kept;
        my @b = split /\n/, $text;
        for my $i (0 .. ($#a > $#b ? $#a : $#b)) {
            no warnings 'uninitialized';
            next if $a[$i] eq $b[$i];
            diag("first difference, line " . ($i + 1) . ":\n  docs/$file: $a[$i]\n  now: $b[$i]");
            last;
        }
    };
}

like(Test::Moongate::slurp("$root/docs/directives.md"), qr/^\| `handler` \| location \| 1 \|/m,
     'a directive is listed with its contexts and arguments');
like(Test::Moongate::slurp("$root/docs/directives.md"),
     qr/^\| `keepalive_timeout` \| http, server, location \| 1 to 2 \| /m,
     'keepalive_timeout is listed');
like(Test::Moongate::slurp("$root/docs/lua-api.md"),
     qr/^\| `ngx\.say` \|  \|  \|  \| x \| x \| x \|(  \|){10}$/m,
     'ngx.say: rewrite, access and content only');
like(Test::Moongate::slurp("$root/docs/lua-api.md"),
     qr/^\| `ngx\.balancer\.set_current_peer` \|(  \|){11} x \|(  \|){4}$/m,
     'a function of require "ngx.balancer": balancer_by_lua only');
like(Test::Moongate::slurp("$root/docs/lua-api.md"),
     qr/^\| `ngx\.process\.enable_privileged_agent` \| x \|(  \|){15}$/m,
     'every ngx. module of package.preload: ngx.process, init only for the agent');
like(Test::Moongate::slurp("$root/docs/lua-api.md"), qr/^\| `ngx\.re\.split` \|( x \|){16}$/m,
     'require "ngx.re" adds split to the ngx.re of the table');
like(Test::Moongate::slurp("$root/docs/lua-api.md"),
     qr/^\| `ngx\.ssl\.clienthello\.get_client_hello_server_name` \|(  \|){12} x \|(  \|){3}$/m,
     'the handshake\'s modules: ngx.ssl.clienthello in ssl_client_hello_by_lua only');
like(Test::Moongate::slurp("$root/docs/lua-api.md"),
     qr/^\| `ngx\.ssl\.session\.set_serialized_session` \|(  \|){14} x \|  \|$/m,
     'ngx.ssl.session\'s setter in ssl_session_fetch_by_lua only');
like(Test::Moongate::slurp("$root/docs/lua-api.md"),
     qr/^\| `ngx\.ssl\.server_name` \|  \|( x \|){15}$/m,
     'ngx.ssl.server_name: where there is a request, OpenResty\'s fake one too (nil, "bad request")');

# The default column against nginx's documentation: every directive below has a default on its
# nginx.org page (nginx 1.22's, or the README of the OpenResty module it comes from), so the
# generated reference must show it, not "—": the documented text, or moongate's own value where
# it differs on purpose (%differs, each with why).
my %differs = (
    'core pid' => 'logs/moongate.pid',           # moongate's name for its files
    'core user' => 'nobody nogroup',             # nginx's configure picks nogroup where it exists
    'core lock_file' => 'none (moongate needs no lock file)', # accept_mutex is a shared lock
    'http_core connection_pool_size' => '512',   # nginx's "256|512": 512 on 64-bit platforms
    'http_core client_body_buffer_size' => '8k', # nginx's "8k|16k": two pages, 8k on x86-64
    'proxy proxy_buffer_size' => '4k',           # nginx's "4k|8k": one page, 4k on x86-64
);
my (%shown, $module);
for (split /\n/, Test::Moongate::slurp("$root/docs/directives.md")) {
    $module = $1 if /^## (\S+)/;
    next unless /^\| `([^`]+)` \|/;
    my $name = $1;
    my @cells = split /\s*(?<!\\)\|\s*/, $_;
    (my $dflt = $cells[-1]) =~ s/\\\|/|/g;
    $shown{"$module $name"} //= $dflt;
}
my $n = 0;
while (my $line = <DATA>) {
    chomp $line;
    next unless $line =~ /^(\S+ \S+)\t(.+)$/;
    my ($key, $want) = ($1, $differs{$1} // $2);
    $n++;
    ok(defined $shown{$key} && $shown{$key} ne '—', "$key has a default") or next;
    is($shown{$key}, $want, "$key: the documented default");
}
ok($n > 150, "$n documented defaults checked");

# nginx documents none for these, whatever value moongate's merge keeps inside
for my $key ('core timer_resolution', 'core worker_shutdown_timeout', 'range max_ranges',
             'memcached memcached_gzip_flag', 'stream_proxy proxy_responses', 'proxy proxy_pass',
             'http_core error_page', 'echo echo') {
    is($shown{$key}, '—', "$key: no default, as nginx's page says");
}

done_testing();

__DATA__
core worker_processes	1
core pid	logs/nginx.pid
core error_log	logs/error.log error
core user	nobody nobody
core env	TZ
core worker_priority	0
core lock_file	logs/nginx.lock
core worker_connections	512
thread_pool thread_pool	default threads=32 max_queue=65536
http_core listen	*:80 | *:8000
http_core server_name	""
http_core root	html
http_core types	text/html html; image/gif gif; image/jpeg jpg;
http_core large_client_header_buffers	4 8k
http_core client_body_temp_path	client_body_temp
http_core fastcgi_temp_path	fastcgi_temp
http_core uwsgi_temp_path	uwsgi_temp
http_core scgi_temp_path	scgi_temp
http_core keepalive_timeout	75s
http_core keepalive_time	1h
http_core keepalive_disable	msie6
http_core send_lowat	0
http_core connection_pool_size	256|512
http_core request_pool_size	4k
http_core server_tokens	on
http_core aio	off
http_core directio	off
http_core directio_alignment	512
http_core open_file_cache	off
http_core open_file_cache_valid	60s
http_core disable_symlinks	off
http_core output_buffers	2 32k
http_core limit_rate	0
http_core limit_rate_after	0
http_core error_log	logs/error.log error
ssl ssl	off
ssl ssl_protocols	TLSv1 TLSv1.1 TLSv1.2
ssl ssl_session_cache	none
ssl ssl_ocsp	off
ssl ssl_ocsp_cache	off
http2 http2_chunk_size	8k
dav dav_methods	off
dav dav_access	user:rw
index index	index.html
random_index random_index	off
mirror mirror	off
auth_request auth_request	off
auth_basic auth_basic	off
limit_conn limit_conn_status	503
limit_req limit_req_status	503
realip real_ip_header	X-Real-IP
access_log log_format	combined "..."
access_log access_log	logs/access.log combined
access_log open_log_file_cache	off
set_misc set_base32_alphabet	"0123456789abcdefghijklmnopqrstuv"
map map_hash_max_size	2048
map map_hash_bucket_size	32|64|128
upstream keepalive_requests	1000
upstream keepalive_timeout	60s
upstream keepalive_time	1h
upstream_dynamic resolver_timeout	30s
proxy proxy_set_header	Host $proxy_host; Connection close;
proxy proxy_http_version	1.0
proxy proxy_next_upstream	error timeout
proxy proxy_buffers	8 4k|8k
proxy proxy_cache	off
proxy proxy_cache_key	$scheme$proxy_host$request_uri
proxy proxy_cache_methods	GET HEAD
proxy proxy_cache_min_uses	1
proxy proxy_cache_use_stale	off
proxy proxy_cache_background_update	off
proxy proxy_cache_lock	off
proxy proxy_cache_revalidate	off
proxy proxy_cache_convert_head	on
proxy proxy_redirect	default
proxy proxy_temp_path	proxy_temp
proxy proxy_ssl_name	$proxy_host
proxy proxy_ssl_protocols	TLSv1 TLSv1.1 TLSv1.2
proxy proxy_headers_hash_max_size	512
proxy proxy_headers_hash_bucket_size	64
proxy_cookie proxy_cookie_domain	off
proxy_cookie proxy_cookie_path	off
proxy_cookie proxy_cookie_flags	off
upstream_store proxy_store	off
upstream_store proxy_store_access	user:rw
upstream_store fastcgi_store	off
upstream_store fastcgi_store_access	user:rw
fastcgi fastcgi_next_upstream	error timeout
fastcgi fastcgi_buffers	8 4k|8k
fastcgi fastcgi_cache	off
fastcgi fastcgi_cache_methods	GET HEAD
fastcgi fastcgi_cache_min_uses	1
fastcgi fastcgi_cache_use_stale	off
fastcgi fastcgi_cache_background_update	off
fastcgi fastcgi_cache_lock	off
fastcgi fastcgi_cache_revalidate	off
uwsgi uwsgi_modifier1	0
uwsgi uwsgi_modifier2	0
uwsgi uwsgi_next_upstream	error timeout
uwsgi uwsgi_buffers	8 4k|8k
uwsgi uwsgi_cache	off
uwsgi uwsgi_cache_methods	GET HEAD
uwsgi uwsgi_cache_min_uses	1
uwsgi uwsgi_cache_use_stale	off
uwsgi uwsgi_cache_background_update	off
uwsgi uwsgi_cache_lock	off
uwsgi uwsgi_cache_revalidate	off
scgi scgi_next_upstream	error timeout
scgi scgi_buffers	8 4k|8k
scgi scgi_cache	off
scgi scgi_cache_methods	GET HEAD
scgi scgi_cache_min_uses	1
scgi scgi_cache_use_stale	off
scgi scgi_cache_background_update	off
scgi scgi_cache_lock	off
scgi scgi_cache_revalidate	off
memcached memcached_next_upstream	error timeout
grpc grpc_set_header	Content-Length $content_length;
grpc grpc_next_upstream	error timeout
grpc grpc_ssl_name	host from grpc_pass
grpc grpc_ssl_protocols	TLSv1 TLSv1.1 TLSv1.2
browser modern_browser_value	1
browser ancient_browser_value	1
gzip gzip_comp_level	1
gzip gzip_buffers	32 4k|16 8k
gzip gzip_types	text/html
gzip gzip_proxied	off
ssi ssi_types	text/html
charset charset	off
charset charset_types	text/html text/xml text/plain text/vnd.wap.wml application/javascript application/rss+xml
sub sub_filter_types	text/html
addition addition_types	text/html
gunzip gunzip_buffers	32 4k|16 8k
userid userid_service	IP address of the server
userid userid_domain	none
userid userid_path	/
userid userid_expires	off
userid userid_flags	off
userid userid_p3p	none
userid userid_mark	off
headers expires	off
echo echo_status	200
lua lua_package_path	the content of LUA_PATH or Lua's compiled-in defaults
lua lua_package_cpath	the content of LUA_CPATH or Lua's compiled-in defaults
lua lua_load_resty_core	on
lua lua_capture_error_log	none
lua lua_code_cache	on
lua lua_ssl_protocols	TLSv1 TLSv1.1 TLSv1.2
stream_core error_log	logs/error.log error
stream_log access_log	off
stream_proxy proxy_timeout	10m
stream_proxy proxy_connect_timeout	60s
stream_proxy_ssl proxy_ssl_name	host from proxy_pass
stream_proxy_ssl proxy_ssl_protocols	TLSv1 TLSv1.1 TLSv1.2
stream_lua lua_package_path	the content of LUA_PATH or Lua's compiled-in defaults
stream_lua lua_package_cpath	the content of LUA_CPATH or Lua's compiled-in defaults
stream_lua lua_load_resty_core	on
stream_lua lua_code_cache	on
stream_lua lua_ssl_protocols	TLSv1 TLSv1.1 TLSv1.2
stream_core server_name	""
set_misc set_misc_base32_padding	on
http_core sendfile	off
http_core client_max_body_size	1m
http_core client_body_timeout	60s
http_core client_header_timeout	60s
http_core send_timeout	60s
http_core tcp_nopush	off
http_core tcp_nodelay	on
http_core keepalive_requests	1000
static etag	on
not_modified if_modified_since	exact
http_core default_type	text/plain
http_core chunked_transfer_encoding	on
http_core client_body_buffer_size	8k|16k
http_core server_names_hash_max_size	512
http_core types_hash_max_size	1024
proxy proxy_connect_timeout	60s
proxy proxy_read_timeout	60s
proxy proxy_send_timeout	60s
proxy proxy_buffering	on
proxy proxy_buffer_size	4k|8k
gzip gzip	off
gzip gzip_min_length	20
gzip gzip_http_version	1.1
gzip gzip_vary	off
ssl ssl_session_timeout	5m
ssl ssl_ciphers	HIGH:!aNULL:!MD5
core daemon	on
core master_process	on
