/*
 * auth_basic, auth_basic_user_file (nginx's ngx_http_auth_basic_module) in the access phase:
 * the user and password of "Authorization: Basic" are checked against an htpasswd file, read
 * again for every request (so changes apply at once), the first line of that user deciding.
 * Passwords: crypt(3) hashes (libcrypt: DES, $1$, $5$, $6$, yescrypt ...), Apache's "$apr1$"
 * MD5 and RFC 2307's {PLAIN}, {SHA} and {SSHA}. A failure answers 401 with
 * `WWW-Authenticate: Basic realm="..."`; a missing file 403, an unreadable one 500.
 */
#include <crypt.h>
#include <fcntl.h>
#include <unistd.h>

#include "http.h"
#include "md5.h"
#include "script.h"
#include "sha1.h"

typedef struct {
    mg_http_complex_value_t *realm; /* NULL: unset; "off" (also as a value) disables */
    mg_http_complex_value_t *user_file;
    mg_str_t user_file_path; /* a constant file name, resolved at config time */
} auth_basic_conf_t;

typedef struct {
    int used;
} auth_basic_main_conf_t;

mg_module_t mg_auth_basic_module;

static void *auth_basic_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(auth_basic_main_conf_t));
}

static void *auth_basic_create_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(auth_basic_conf_t));
}

static const char *auth_basic_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    auth_basic_conf_t *prev = parent, *conf = child;
    if (conf->realm == NULL) {
        conf->realm = prev->realm;
    }
    if (conf->user_file == NULL) {
        conf->user_file = prev->user_file;
        conf->user_file_path = prev->user_file_path;
    }
    return MG_CONF_OK;
}

static const char *auth_basic_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    auth_basic_conf_t *ac = conf;
    int file = cmd->name[10] == '_'; /* auth_basic_user_file */
    mg_http_complex_value_t **cvp = file ? &ac->user_file : &ac->realm;
    if (*cvp) {
        return "is duplicate";
    }
    mg_http_complex_value_t *cv = mg_pcalloc(cf->pool, sizeof(*cv));
    if (mg_http_compile_complex_value(cf, cf->args[1], cv) != MG_OK) {
        return MG_CONF_ERROR;
    }
    *cvp = cv;
    if (file && cv->nparts == 0) {
        ac->user_file_path = mg_conf_full_name(cf->cycle, cf->args[1], 1);
    }
    auth_basic_main_conf_t *mc = mg_http_conf_get_main(cf, mg_auth_basic_module);
    mc->used = 1;
    return MG_CONF_OK;
}

/* ---- password schemes ---- */

static int equal_ct(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) {
        d |= x[i] ^ y[i];
    }
    return d == 0;
}

static int str_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && equal_ct(a, b, alen);
}

static void to64(char *out, unsigned v, int n)
{
    static const char itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    while (n-- > 0) {
        *out++ = itoa64[v & 0x3f];
        v >>= 6;
    }
}

/* Apache's "$apr1$salt$hash": the MD5-based crypt of FreeBSD with another magic string. */
static int check_apr1(mg_str_t pw, const char *hash, size_t hlen)
{
    const char *salt = hash + 6, *end = hash + hlen;
    size_t slen = 0;
    while (salt + slen < end && salt[slen] != '$' && slen < 8) {
        slen++;
    }
    unsigned char alt[MG_MD5_DIGEST_LEN];
    mg_md5_t ctx;
    mg_md5_init(&ctx);
    mg_md5_update(&ctx, pw.data, pw.len);
    mg_md5_update(&ctx, salt, slen);
    mg_md5_update(&ctx, pw.data, pw.len);
    mg_md5_final(&ctx, alt);

    mg_md5_init(&ctx);
    mg_md5_update(&ctx, pw.data, pw.len);
    mg_md5_update(&ctx, "$apr1$", 6);
    mg_md5_update(&ctx, salt, slen);
    for (size_t n = pw.len; n > 0; n -= mg_min(n, MG_MD5_DIGEST_LEN)) {
        mg_md5_update(&ctx, alt, mg_min(n, MG_MD5_DIGEST_LEN));
    }
    for (size_t n = pw.len; n; n >>= 1) {
        mg_md5_update(&ctx, (n & 1) ? "" : pw.data, 1);
    }
    unsigned char fin[MG_MD5_DIGEST_LEN];
    mg_md5_final(&ctx, fin);
    for (int i = 0; i < 1000; i++) {
        mg_md5_init(&ctx);
        if (i & 1) {
            mg_md5_update(&ctx, pw.data, pw.len);
        } else {
            mg_md5_update(&ctx, fin, sizeof(fin));
        }
        if (i % 3) {
            mg_md5_update(&ctx, salt, slen);
        }
        if (i % 7) {
            mg_md5_update(&ctx, pw.data, pw.len);
        }
        if (i & 1) {
            mg_md5_update(&ctx, fin, sizeof(fin));
        } else {
            mg_md5_update(&ctx, pw.data, pw.len);
        }
        mg_md5_final(&ctx, fin);
    }
    char out[22];
    /* the digest's bytes go out in this order, three at a time */
    static const int order[5][3] = {
        {0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5},
    };
    for (int g = 0; g < 5; g++) {
        unsigned v =
            (unsigned)fin[order[g][0]] << 16 | (unsigned)fin[order[g][1]] << 8 | fin[order[g][2]];
        to64(out + g * 4, v, 4);
    }
    to64(out + 20, fin[11], 2);
    const char *stored = salt + slen;
    if (stored < end && *stored == '$') {
        stored++;
    }
    return str_equal(out, sizeof(out), stored, (size_t)(end - stored));
}

/* {SHA}base64(sha1(pw)) and {SSHA}base64(sha1(pw salt) salt) */
static int check_sha(mg_request_t *r, mg_str_t pw, mg_str_t data, int salted)
{
    unsigned char *dec = mg_pnalloc(r->pool, mg_base64_decoded_len(data.len) + 1);
    size_t n;
    if (mg_base64_decode(data, dec, &n) != MG_OK || n < MG_SHA1_DIGEST_LEN ||
        (!salted && n != MG_SHA1_DIGEST_LEN)) {
        return 0;
    }
    unsigned char digest[MG_SHA1_DIGEST_LEN];
    mg_sha1_t ctx;
    mg_sha1_init(&ctx);
    mg_sha1_update(&ctx, pw.data, pw.len);
    mg_sha1_update(&ctx, dec + MG_SHA1_DIGEST_LEN, n - MG_SHA1_DIGEST_LEN);
    mg_sha1_final(&ctx, digest);
    return equal_ct(digest, dec, MG_SHA1_DIGEST_LEN);
}

/* 1: the password matches, 0: it does not, MG_ERROR: crypt(3) failed (logged). */
static mg_int_t check_password(mg_request_t *r, mg_str_t pw, char *hash, size_t hlen)
{
    mg_str_t h = {hlen, hash};
    if (hlen >= 6 && memcmp(hash, "$apr1$", 6) == 0) {
        return check_apr1(pw, hash, hlen);
    }
    if (hlen >= 7 && memcmp(hash, "{PLAIN}", 7) == 0) {
        return str_equal(pw.data, pw.len, hash + 7, hlen - 7);
    }
    if (hlen >= 5 && memcmp(hash, "{SHA}", 5) == 0) {
        return check_sha(r, pw, (mg_str_t){hlen - 5, hash + 5}, 0);
    }
    if (hlen >= 6 && memcmp(hash, "{SSHA}", 6) == 0) {
        return check_sha(r, pw, (mg_str_t){hlen - 6, hash + 6}, 1);
    }
    char *key = mg_pstrdup(r->pool, pw.data, pw.len);
    char *salt = mg_pstrdup(r->pool, h.data, h.len);
    errno = 0;
    const char *out = crypt(key, salt);
    if (out == NULL) {
        mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "crypt() failed");
        return MG_ERROR;
    }
    /* an unknown or broken hash gives a failure token ("*0"), which matches nothing */
    return str_equal(out, strlen(out), hash, hlen);
}

/* ---- the handler ---- */

static mg_int_t challenge(mg_request_t *r, mg_str_t realm)
{
    char *v = mg_psprintf(r->pool, "Basic realm=\"%.*s\"", (int)realm.len, realm.data);
    mg_http_add_header_out(r, "WWW-Authenticate", 16, v, strlen(v));
    return MG_HTTP_UNAUTHORIZED;
}

typedef struct {
    char *buf; /* the current line, grown as needed */
    size_t len, cap;
    mg_uint_t line;
} line_buf_t;

/* The user's line decides: MG_OK (match), 0 (mismatch or no such user, logged), or a status. */
static mg_int_t check_file(mg_request_t *r, const char *path, mg_str_t user, mg_str_t pw,
                           mg_str_t realm)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        mg_log_error(err == ENOENT ? MG_LOG_ERR : MG_LOG_CRIT, &r->connection->log, err,
                     "open() \"%s\" failed", path);
        return err == ENOENT ? MG_HTTP_FORBIDDEN : MG_HTTP_INTERNAL_SERVER_ERROR;
    }
    char chunk[4096];
    line_buf_t lb = {.cap = 256};
    lb.buf = mg_pnalloc(r->pool, lb.cap);
    off_t offset = 0;
    mg_int_t rc = MG_DECLINED;
    for (int eof = 0; rc == MG_DECLINED && !eof;) {
        ssize_t got = pread(fd, chunk, sizeof(chunk), offset);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            mg_log_error(MG_LOG_CRIT, &r->connection->log, errno, "pread() \"%s\" failed", path);
            rc = MG_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }
        offset += got;
        eof = got == 0;
        for (ssize_t i = 0; i < got || (eof && i == 0); i++) {
            if (!eof && chunk[i] != '\n') {
                if (lb.len == lb.cap) {
                    char *nb = mg_pnalloc(r->pool, lb.cap * 2);
                    memcpy(nb, lb.buf, lb.len);
                    lb.buf = nb;
                    lb.cap *= 2;
                }
                lb.buf[lb.len++] = chunk[i];
                continue;
            }
            /* a whole line (or the last one, without its LF) */
            lb.line++;
            char *line = lb.buf;
            size_t len = lb.len;
            lb.len = 0;
            if (len == 0 || line[0] == '#' || line[0] == '\r') {
                continue;
            }
            char *colon = memchr(line, ':', len);
            if (colon == NULL || colon == line) {
                mg_log_error(MG_LOG_WARN, &r->connection->log, 0,
                             "malformed line %lu in \"%s\" skipped: no \"user:password\"",
                             (unsigned long)lb.line, path);
                continue;
            }
            if ((size_t)(colon - line) != user.len || memcmp(line, user.data, user.len) != 0) {
                continue;
            }
            /* the password ends at the next ':' (a comment follows) or the line's end */
            char *hash = colon + 1, *end = line + len;
            char *stop = hash;
            while (stop < end && *stop != ':' && *stop != '\r') {
                stop++;
            }
            mg_int_t ok = check_password(r, pw, hash, (size_t)(stop - hash));
            if (ok == MG_ERROR) {
                rc = MG_HTTP_INTERNAL_SERVER_ERROR;
            } else if (ok) {
                rc = MG_OK;
            } else {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "user \"%.*s\": password mismatch",
                             (int)user.len, user.data);
                rc = challenge(r, realm);
            }
            break;
        }
    }
    close(fd);
    if (rc == MG_DECLINED) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "user \"%.*s\" was not found in \"%s\"",
                     (int)user.len, user.data, path);
        rc = challenge(r, realm);
    }
    return rc;
}

static mg_int_t auth_basic_handler(mg_request_t *r)
{
    auth_basic_conf_t *ac = mg_http_get_loc_conf(r, mg_auth_basic_module);
    if (ac->realm == NULL || ac->user_file == NULL) {
        return MG_DECLINED;
    }
    mg_str_t realm = mg_http_complex_value(r, ac->realm);
    if (mg_str_eq(realm, "off")) {
        return MG_DECLINED;
    }
    mg_str_t user, pw;
    if (mg_http_auth_basic_user(r, &user, &pw) != MG_OK) {
        mg_log_error(MG_LOG_INFO, &r->connection->log, 0,
                     "no user/password was provided for basic authentication");
        return challenge(r, realm);
    }
    const char *path = ac->user_file_path.data;
    if (path == NULL) {
        mg_str_t v = mg_http_complex_value(r, ac->user_file);
        mg_str_t prefix = r->connection->cycle->conf_prefix;
        if (v.len && v.data[0] == '/') {
            prefix.len = 0;
        }
        path = mg_psprintf(r->pool, "%.*s%.*s", (int)prefix.len, prefix.data, (int)v.len, v.data);
    }
    return check_file(r, path, user, pw, realm);
}

static mg_int_t auth_basic_init(mg_conf_t *cf)
{
    auth_basic_main_conf_t *mc = mg_http_conf_get_main(cf, mg_auth_basic_module);
    if (mc->used) {
        mg_http_add_phase_handler(cf, MG_HTTP_ACCESS_PHASE, auth_basic_handler);
    }
    return MG_OK;
}

#define AUTH_CTX (MG_HTTP_ANY_LOC | MG_CTX_LMT)

static const mg_command_t auth_basic_commands[] = {
    {"auth_basic", AUTH_CTX, MG_ARGS(1, 1), auth_basic_set, MG_LOC_CONF, 0, NULL},
    {"auth_basic_user_file", AUTH_CTX, MG_ARGS(1, 1), auth_basic_set, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t auth_basic_defaults[] = {
    {"auth_basic", "off"},
    {"auth_basic_user_file", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_auth_basic_module = {
    .name = "auth_basic",
    .commands = auth_basic_commands,
    .defaults = auth_basic_defaults,
    .create_main_conf = auth_basic_create_main_conf,
    .create_loc_conf = auth_basic_create_conf,
    .merge_loc_conf = auth_basic_merge_conf,
    .init = auth_basic_init,
};
