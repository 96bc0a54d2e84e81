# What the h2 benches over TLS share (h2-instr.sh, h2-syscalls.sh), sourced after lib.sh's
# bench_init: the files served (64 KiB, 1 KiB), a certificate, write_conf NAME PORT (TLS h2 with a
# proxied location to a plain upstream server at PORT + 1 and two Lua locations; nginx loads
# Debian's libnginx-mod-http-lua) and CASES ("name|path|streams per connection"). H2C=1: the
# server listens in cleartext (h2 by prior knowledge, as h2load sends it to an http:// URL);
# SCHEME is the URL's. ONLY=REGEX keeps the cases whose name matches (grep -E).

need_pkg h2load nghttp2-client
need_pkg openssl openssl
mkdir -p "$WORK/html"
head -c 65536 /dev/urandom >"$WORK/html/64k.bin"
head -c 1024 /dev/urandom >"$WORK/html/1k.bin"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || die "openssl failed"

NGINX_LUA_MODULES=/usr/lib/nginx/modules
[ -f $NGINX_LUA_MODULES/ngx_http_lua_module.so ] || die "libnginx-mod-http-lua is not installed"

write_conf() { # name port (the upstream listener is port + 1)
    local up=$(($2 + 1)) main= tls=" ssl"
    [ "${H2C:-0}" = 1 ] && tls=
    case "$1" in *nginx) main="load_module $NGINX_LUA_MODULES/ndk_http_module.so;
load_module $NGINX_LUA_MODULES/ngx_http_lua_module.so;" ;; esac
    conf_write "$1" 1024 "$main" <<EOC
http {
    init_by_lua_block { big = string.rep("x", 65536) }
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    upstream back { server 127.0.0.1:$up; keepalive 32; }
    server {
        listen 127.0.0.1:$2$tls http2;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        http2_max_concurrent_streams 128;
        root $WORK/html;
        location /proxy/ {
            proxy_pass http://back/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location = /lua64k { content_by_lua_block { ngx.print(big) } }
        location = /lua { content_by_lua_block { ngx.say("hello") } }
        location = /ok { return 200 "ok"; }
    }
    server {
        listen 127.0.0.1:$up;
        root $WORK/html;
    }
}
EOC
}

# name|path|streams: h2load -c1 -mSTREAMS -nN
CASES=("64k, 1 stream|/64k.bin|1" "64k, 100 streams|/64k.bin|100" "1k, 1 stream|/1k.bin|1"
    "1k, 100 streams|/1k.bin|100" "proxied 64k, 10|/proxy/64k.bin|10" "lua 64k, 10|/lua64k|10"
    "lua hello, 100|/lua|100" "return ok, 1|/ok|1" "return ok, 100|/ok|100")
if [ -n "${ONLY:-}" ]; then
    kept=()
    for c in "${CASES[@]}"; do
        grep -qE -- "$ONLY" <<<"${c%%|*}" && kept+=("$c")
    done
    CASES=("${kept[@]}")
fi
SCHEME=https
[ "${H2C:-0}" = 1 ] && SCHEME=http
