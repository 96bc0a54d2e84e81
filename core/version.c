/*
 * What moongate says about itself the way nginx does, for the tools that parse nginx's answers:
 * `-v`/`-V` ("nginx version: moongate/X.Y.Z" names the nginx release whose behaviour moongate
 * follows, so OpenResty's Test::Nginx and nginx's test library read a version they know; the
 * configure arguments name the modules it has with nginx's --with-X and --without-X spelling) and
 * which of nginx's modules `load_module` may name (those moongate has built in).
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "config.h"
#include "log.h"
#include "module.h"
#include "version.h"

/* nginx's modules and the moongate module that does their job (NULL: none yet). `dflt`: nginx
 * builds it unless told --without-*; otherwise only with --with-*. `dynamic`: the file name a
 * load_module line names (Debian's dynamic modules, and third-party ones moongate has). */
typedef struct {
    const char *nginx;   /* nginx's configure name, "http_gzip_static" */
    const char *dynamic; /* "ngx_http_lua_module" for load_module, or NULL */
    const char *mg;      /* moongate's module name */
    unsigned dflt : 1;
} nginx_module_t;

static const nginx_module_t nginx_modules[] = {
    {"http_access", NULL, "access", 1},
    {"http_addition", NULL, "addition", 0},
    {"http_auth_basic", NULL, "auth_basic", 1},
    {"http_auth_request", NULL, "auth_request", 0},
    {"http_autoindex", NULL, "autoindex", 1},
    {"http_browser", NULL, "browser", 1},
    {"http_charset", NULL, "charset", 1},
    {"http_dav", NULL, "dav", 0},
    {"http_empty_gif", NULL, "empty_gif", 1},
    {"http_fastcgi", NULL, "fastcgi", 1},
    {"http_flv", NULL, "flv", 0},
    {"http_geo", NULL, "geo", 1},
    {"http_geoip", "ngx_http_geoip_module", NULL, 0},
    {"http_grpc", NULL, "grpc", 1},
    {"http_gunzip", NULL, "gunzip", 0},
    {"http_gzip", NULL, "gzip", 1},
    {"http_gzip_static", NULL, "gzip_static", 0},
    {"http_image_filter", "ngx_http_image_filter_module", NULL, 0},
    {"http_limit_conn", NULL, "limit_conn", 1},
    {"http_limit_req", NULL, "limit_req", 1},
    {"http_map", NULL, "map", 1},
    {"http_memcached", NULL, "memcached", 1},
    {"http_mirror", NULL, "mirror", 1},
    {"http_mp4", NULL, "mp4", 0},
    {"http_perl", "ngx_http_perl_module", NULL, 0},
    {"http_proxy", NULL, "proxy", 1},
    {"http_random_index", NULL, "random_index", 0},
    {"http_realip", NULL, "realip", 0},
    {"http_referer", NULL, "referer", 1},
    {"http_rewrite", NULL, "rewrite", 1},
    {"http_scgi", NULL, "scgi", 1},
    {"http_secure_link", NULL, "secure_link", 0},
    {"http_slice", NULL, "slice", 0},
    {"http_split_clients", NULL, "split_clients", 1},
    {"http_ssi", NULL, "ssi", 1},
    {"http_ssl", NULL, "ssl", 0},
    {"http_stub_status", NULL, "stub_status", 0},
    {"http_sub", NULL, "sub", 0},
    {"http_upstream_hash", NULL, "upstream_hash", 1},
    {"http_upstream_ip_hash", NULL, "upstream_hash", 1},
    {"http_upstream_keepalive", NULL, "upstream", 1},
    {"http_upstream_least_conn", NULL, "upstream_least_conn", 1},
    {"http_upstream_random", NULL, "upstream_random", 1},
    {"http_upstream_zone", NULL, "upstream_zone", 1},
    {"http_userid", NULL, "userid", 1},
    {"http_uwsgi", NULL, "uwsgi", 1},
    {"http_v2", NULL, "http2", 0},
    {"http_xslt", "ngx_http_xslt_filter_module", NULL, 0},
    {"mail", "ngx_mail_module", NULL, 0},
    {"stream", "ngx_stream_module", "stream", 0}, /* "--with-stream", no "_module" */
    {"stream_access", NULL, "access", 1},         /* the access module serves stream too */
    {"stream_geo", NULL, NULL, 1},
    {"stream_geoip", "ngx_stream_geoip_module", NULL, 0},
    {"stream_limit_conn", NULL, "limit_conn", 1},
    {"stream_map", NULL, "map", 1},
    {"stream_realip", NULL, "realip", 0},
    {"stream_return", NULL, "stream_return", 1},
    {"stream_set", NULL, "stream_return", 1},
    {"stream_split_clients", NULL, "split_clients", 1},
    {"stream_ssl", NULL, NULL, 0},
    {"stream_ssl_preread", NULL, NULL, 0},
    {"stream_upstream_hash", NULL, NULL, 1},
    {"stream_upstream_least_conn", NULL, "upstream_least_conn", 1},
    {"stream_upstream_random", NULL, "upstream_random", 1},
    {"stream_upstream_zone", NULL, NULL, 1},
    /* third-party modules OpenResty users load (Debian's libnginx-mod-http-*) */
    {NULL, "ngx_http_lua_module", "lua", 0},
    {NULL, "ndk_http_module", "lua", 0}, /* the Lua module's helper: part of moongate's Lua */
    {NULL, "ngx_http_echo_module", "echo", 0},
    {NULL, "ngx_http_headers_more_filter_module", "headers_more", 0},
    {NULL, "ngx_http_set_misc_module", "set_misc", 0},
};

static int have(const char *mg)
{
    if (mg == NULL) {
        return 0;
    }
    for (size_t i = 0; mg_modules[i]; i++) {
        if (strcmp(mg_modules[i]->name, mg) == 0) {
            return 1;
        }
    }
    return 0;
}

/* What nginx logs at notice once the first configuration is read (its os_status): the version
 * as -v names it, the compiler where -V names one, the system, the open files limit. */
void mg_version_log_status(mg_log_t *log)
{
    mg_log_error(MG_LOG_NOTICE, log, 0,
                 MOONGATE_NAME "/" MG_NGINX_VERSION " (" MOONGATE_VER "%s%s%s)",
                 MG_BUILD[0] ? " (" : "", MG_BUILD, MG_BUILD[0] ? ")" : "");
    mg_log_error(MG_LOG_NOTICE, log, 0, "built by %s", MG_CC);
    struct utsname u;
    if (uname(&u) == 0) {
        mg_log_error(MG_LOG_NOTICE, log, 0, "OS: %s %s", u.sysname, u.release);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        mg_log_error(MG_LOG_NOTICE, log, 0, "getrlimit(RLIMIT_NOFILE): %lld:%lld",
                     rl.rlim_cur == RLIM_INFINITY ? -1LL : (long long)rl.rlim_cur,
                     rl.rlim_max == RLIM_INFINITY ? -1LL : (long long)rl.rlim_max);
    }
}

void mg_version_print(FILE *out, int configure)
{
    /* with --build=NAME, as nginx's: the name after the version */
    fprintf(out, "nginx version: " MOONGATE_NAME "/" MG_NGINX_VERSION " (" MOONGATE_VER "%s%s%s)\n",
            MG_BUILD[0] ? " (" : "", MG_BUILD, MG_BUILD[0] ? ")" : "");
    if (!configure) {
        return;
    }
    fprintf(out, "built by %s\n", MG_CC);
    /* as nginx: the library it runs with is named when it is not the one it was built with */
    const char *running = OpenSSL_version(OPENSSL_VERSION);
    if (strcmp(running, OPENSSL_VERSION_TEXT) == 0) {
        fprintf(out, "built with %s\n", OPENSSL_VERSION_TEXT);
    } else {
        fprintf(out, "built with %s (running with %s)\n", OPENSSL_VERSION_TEXT, running);
    }
    fprintf(out, "TLS SNI support enabled\nconfigure arguments:%s%s", MG_CONFIGURE[0] ? " " : "",
            MG_CONFIGURE);
    /* debug logging is built in by default: say so as nginx's -V does (tools look for it) */
    if (MG_DEBUG && strstr(MG_CONFIGURE, "--with-debug") == NULL) {
        fputs(" --with-debug", out);
    }
    for (size_t i = 0; i < mg_nelems(nginx_modules); i++) {
        const nginx_module_t *m = &nginx_modules[i];
        if (m->nginx == NULL) {
            continue;
        }
        int has = have(m->mg);
        /* the stream modules are only there with the stream layer, as nginx's */
        if (strncmp(m->nginx, "stream_", 7) == 0 && !have("stream")) {
            continue;
        }
        if (has && strcmp(m->nginx, "stream") == 0) {
            fprintf(out, " --with-stream");
        } else if (has && !m->dflt) {
            fprintf(out, " --with-%s_module", m->nginx);
        } else if (!has && m->dflt) {
            fprintf(out, " --without-%s_module", m->nginx);
        }
    }
    fprintf(out, "\n");
}

int mg_version_builtin(const char *dynamic_name)
{
    for (size_t i = 0; i < mg_nelems(nginx_modules); i++) {
        const nginx_module_t *m = &nginx_modules[i];
        if (m->dynamic && strcmp(m->dynamic, dynamic_name) == 0) {
            return have(m->mg);
        }
    }
    return 0;
}
