/*
 * ssl_ocsp, ssl_ocsp_responder, ssl_ocsp_cache (nginx >= 1.19): with ssl_verify_client, a
 * verified client certificate (ssl_ocsp leaf) or each certificate of its chain but the trust
 * anchor (on) is asked of its OCSP responder once the handshake is over, before the
 * connection's first request is read (ssl.c waits with the connection's reading off). The
 * answers are kept in ssl_ocsp_cache's shared zone until their nextUpdate. A certificate that
 * is not "good", or whose status could not be had, leaves its reason in c->ssl->ocsp_error:
 * the requests then fail with 495 and $ssl_client_verify says "FAILED:<reason>".
 */
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "shm.h"
#include "shm_table.h"
#include "ssl.h"
#include "ssl_stapling.h"

#define CACHE_NO_NEXT_UPDATE 3600 /* s an answer without nextUpdate is kept */
#define CERTID_MAX 256            /* bytes of a DER OCSP_CERTID used as a cache key */

extern mg_module_t mg_http_ssl_module; /* the owner of the zones, as of the session caches */

struct mg_http_ssl_ocsp_conf_s {
    int leaf;
    mg_ocsp_responder_t *responder; /* ssl_ocsp_responder; NULL: each certificate's own */
    mg_resolver_t *resolver;
    mg_msec_t resolver_timeout;
    mg_shm_table_t *cache; /* NULL: off */
};

typedef struct {
    int64_t expires;
    int32_t status; /* V_OCSP_CERTSTATUS_* */
} cached_t;

/* One connection's check, in its pool. */
typedef struct {
    mg_connection_t *c;
    const mg_http_ssl_ocsp_conf_t *oc;
    STACK_OF(X509) * chain;  /* a reference on each */
    int i, n;                /* the certificate asked now, how many are asked */
    X509 *issuer;            /* chain[i]'s (a reference) */
    mg_ocsp_responder_t own; /* chain[i]'s authorityInfoAccess URL */
    mg_ocsp_fetch_t *fetch;
    unsigned char id[CERTID_MAX];
    size_t id_len; /* 0: not cacheable */
    int status;
    mg_conn_handler_pt done;
} check_t;

const char *mg_http_ssl_set_ocsp_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_shm_table_t **field = (mg_shm_table_t **)((char *)conf + cmd->offset);
    if (*field != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    mg_str_t a = cf->args[1];
    if (mg_str_eq(a, "off")) {
        *field = NULL;
        return MG_CONF_OK;
    }
    const char *colon = a.len > 7 ? memchr(a.data + 7, ':', a.len - 7) : NULL;
    if (a.len <= 7 || memcmp(a.data, "shared:", 7) != 0 || colon == NULL || colon == a.data + 7) {
        mg_conf_error(cf, 0, "invalid OCSP cache \"%s\"", a.data);
        return MG_CONF_ERROR;
    }
    mg_str_t name = {(size_t)(colon - a.data - 7), a.data + 7};
    mg_str_t sz = {(size_t)(a.data + a.len - colon - 1), (char *)colon + 1};
    int64_t size = mg_parse_size(sz);
    if (size < 0) {
        mg_conf_error(cf, 0, "invalid OCSP cache \"%s\"", a.data);
        return MG_CONF_ERROR;
    }
    if (size < 8 * 4096) {
        mg_conf_error(cf, 0, "OCSP cache \"%s\" is too small", a.data);
        return MG_CONF_ERROR;
    }
    /* a zone of the same name in another server is the same cache; an ssl_session_cache
     * zone of that name is another use (a tag of its own, as nginx) */
    static const mg_module_t ocsp_cache_tag = {.name = "ssl_ocsp_cache"};
    mg_shm_zone_t *zone = mg_shm_zone_add(cf, name, (size_t)size, &ocsp_cache_tag);
    if (zone == NULL) {
        return MG_CONF_ERROR;
    }
    char what[300];
    snprintf(what, sizeof(what), "OCSP cache \"%.*s\"", (int)mg_min(name.len, 256), name.data);
    *field = mg_shm_table_attach(zone->addr, zone->size, sizeof(cached_t), what,
                                 (mg_str_t)mg_string("ocsp"));
    if (*field == NULL) {
        mg_conf_error(cf, 0, "OCSP cache \"%s\" is too small", a.data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

mg_http_ssl_ocsp_conf_t *mg_http_ssl_ocsp_conf(mg_conf_t *cf, int leaf, mg_str_t responder,
                                               mg_shm_table_t *cache, mg_resolver_t *resolver,
                                               mg_msec_t resolver_timeout, const char *where)
{
    mg_http_ssl_ocsp_conf_t *oc = mg_pcalloc(cf->pool, sizeof(mg_http_ssl_ocsp_conf_t));
    oc->leaf = leaf;
    oc->cache = cache;
    oc->resolver = resolver;
    oc->resolver_timeout = resolver_timeout;
    if (responder.len) {
        oc->responder = mg_pcalloc(cf->pool, sizeof(mg_ocsp_responder_t));
        char *url = mg_pstrdup(cf->pool, responder.data, responder.len);
        const char *why = "invalid URL prefix";
        mg_int_t rc = mg_ocsp_responder_parse(cf->pool, url, oc->responder, &why);
        if (rc != MG_OK) {
            /* nginx shows the URL without its scheme once the prefix was right */
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "%s in OCSP responder \"%s\" in \"ssl_ocsp_responder\" in %s", why,
                         rc == MG_DECLINED ? url : url + 7, where);
            return NULL;
        }
        /* nginx resolves the name now, with the system's resolver, not `resolver` */
        if (mg_ocsp_responder_resolve(cf->pool, oc->responder) != MG_OK) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "host not found in OCSP responder \"%s\" in \"ssl_ocsp_responder\" in %s",
                         url + 7, where);
            return NULL;
        }
        oc->responder->resolver = resolver;
        oc->responder->resolver_timeout = resolver_timeout;
    }
    return oc;
}

static void check_free(void *data)
{
    check_t *k = data;
    if (k->fetch) {
        mg_ocsp_fetch_cancel(k->fetch);
        k->fetch = NULL;
    }
    X509_free(k->issuer);
    k->issuer = NULL;
    sk_X509_pop_free(k->chain, X509_free);
    k->chain = NULL;
}

static const char *reason(int status)
{
    if (status == V_OCSP_CERTSTATUS_REVOKED) {
        return "certificate revoked";
    }
    return "certificate status unknown";
}

static const char *cached_status(check_t *k, int *status)
{
    mg_shm_table_t *t = k->oc->cache;
    if (t == NULL || k->id_len == 0) {
        return NULL;
    }
    const char *found = NULL;
    mg_shm_table_lock(t, &k->c->log);
    uint32_t hash = mg_shm_table_hash(t, (const char *)k->id, k->id_len);
    cached_t *e = mg_shm_table_find(t, (const char *)k->id, k->id_len, hash);
    if (e && e->expires > (int64_t)mg_now.sec) {
        *status = e->status;
        found = "";
        mg_shm_table_touch(t, e);
    } else if (e) {
        mg_shm_table_remove(t, e);
    }
    mg_shm_table_unlock(t);
    return found;
}

static void cache_store(check_t *k, int status, time_t valid)
{
    mg_shm_table_t *t = k->oc->cache;
    if (t == NULL || k->id_len == 0) {
        return;
    }
    mg_shm_table_lock(t, &k->c->log);
    uint32_t hash = mg_shm_table_hash(t, (const char *)k->id, k->id_len);
    cached_t *e = mg_shm_table_find(t, (const char *)k->id, k->id_len, hash);
    if (e == NULL) {
        /* full: the expired first, then the least recently used make room */
        while ((e = mg_shm_table_insert(t, (const char *)k->id, k->id_len, hash)) == NULL) {
            cached_t *old = mg_shm_table_oldest(t);
            if (old == NULL) {
                break;
            }
            mg_shm_table_remove(t, old);
        }
    }
    if (e) {
        e->status = status;
        e->expires = valid ? (int64_t)valid : (int64_t)mg_now.sec + CACHE_NO_NEXT_UPDATE;
    }
    mg_shm_table_unlock(t);
}

static const char *check_answer(void *data, const unsigned char *der, size_t len, char *err,
                                size_t errlen)
{
    check_t *k = data;
    SSL *ssl = k->c->ssl->ssl;
    X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
    time_t valid;
    if (mg_ocsp_check(der, len, sk_X509_value(k->chain, k->i), k->issuer, k->chain, store,
                      OCSP_TRUSTOTHER, &k->status, &valid, err, errlen) != NULL) {
        return err;
    }
    cache_store(k, k->status, valid);
    return NULL;
}

static mg_int_t next(check_t *k);

static void finish(check_t *k)
{
    mg_connection_t *c = k->c;
    check_free(k);
    k->done(c);
}

static void answered(void *data, int ok)
{
    check_t *k = data;
    k->fetch = NULL;
    if (!ok) {
        k->c->ssl->ocsp_error = "certificate status request failed";
        finish(k);
        return;
    }
    if (k->status != V_OCSP_CERTSTATUS_GOOD) {
        k->c->ssl->ocsp_error = reason(k->status);
        finish(k);
        return;
    }
    k->i++;
    if (next(k) == MG_OK) {
        finish(k);
    }
}

/* The certificate i's issuer and cache key. */
static void prepare(check_t *k, X509 *cert)
{
    X509_free(k->issuer);
    k->issuer = NULL;
    k->id_len = 0;
    if (k->i + 1 < sk_X509_num(k->chain)) {
        k->issuer = sk_X509_value(k->chain, k->i + 1);
        X509_up_ref(k->issuer);
    } else {
        /* a resumed session knows the peer's certificate only */
        k->issuer = mg_ocsp_find_issuer(SSL_get_SSL_CTX(k->c->ssl->ssl), cert);
    }
    if (k->issuer == NULL) {
        return;
    }
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, k->issuer);
    int n = id ? i2d_OCSP_CERTID(id, NULL) : 0;
    if (n > 0 && n <= CERTID_MAX) {
        unsigned char *p = k->id;
        k->id_len = (size_t)i2d_OCSP_CERTID(id, &p);
    }
    OCSP_CERTID_free(id);
}

/* Goes through the certificates from i on: MG_OK when all were answered (from the cache, or
 * one failed: ocsp_error set), MG_AGAIN when a responder is asked. */
static mg_int_t next(check_t *k)
{
    mg_connection_t *c = k->c;
    for (; k->i < k->n; k->i++) {
        X509 *cert = sk_X509_value(k->chain, k->i);
        prepare(k, cert);
        if (k->issuer == NULL) {
            mg_log_error(MG_LOG_ERR, &c->log, 0, "no issuer for certificate #%d", k->i);
            c->ssl->ocsp_error = "certificate status request failed";
            return MG_OK;
        }
        int status;
        if (cached_status(k, &status)) {
            if (status != V_OCSP_CERTSTATUS_GOOD) {
                c->ssl->ocsp_error = reason(status);
                return MG_OK;
            }
            continue;
        }
        const mg_ocsp_responder_t *rp = k->oc->responder;
        if (rp == NULL) {
            STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
            const char *why = "no OCSP responder URL in certificate";
            mg_int_t rc = MG_ERROR;
            if (urls && sk_OPENSSL_STRING_num(urls) > 0) {
                const char *url = sk_OPENSSL_STRING_value(urls, 0);
                rc = mg_ocsp_responder_parse(c->pool, url, &k->own, &why);
                if (rc == MG_DECLINED) {
                    why = "invalid URL prefix in OCSP responder";
                }
            }
            X509_email_free(urls);
            if (rc != MG_OK) {
                mg_log_error(MG_LOG_ERR, &c->log, 0, "%s", why);
                c->ssl->ocsp_error = "certificate status request failed";
                return MG_OK;
            }
            k->own.resolver = k->oc->resolver;
            k->own.resolver_timeout = k->oc->resolver_timeout;
            rp = &k->own;
        }
        mg_ocsp_ask_t ask = {.responder = rp,
                             .cert = cert,
                             .issuer = k->issuer,
                             .log = &c->log,
                             .check = check_answer,
                             .done = answered,
                             .data = k};
        k->fetch = mg_ocsp_fetch_start(c->server, &ask);
        return MG_AGAIN;
    }
    return MG_OK;
}

mg_int_t mg_http_ssl_ocsp_validate(mg_connection_t *c, const mg_http_ssl_ocsp_conf_t *oc,
                                   mg_conn_handler_pt done)
{
    SSL *ssl = c->ssl->ssl;
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK) {
        return MG_OK; /* nothing to ask, or the request fails anyway */
    }
    check_t *k = mg_pcalloc(c->pool, sizeof(check_t));
    k->c = c;
    k->oc = oc;
    k->done = done;
    STACK_OF(X509) *verified = SSL_get0_verified_chain(ssl);
    if (verified && sk_X509_num(verified) > 0) {
        k->chain = X509_chain_up_ref(verified);
        /* the last is the trust anchor: nobody is asked about it */
        k->n = oc->leaf ? 1 : sk_X509_num(k->chain) - 1;
        if (k->n > sk_X509_num(k->chain) - 1) {
            k->n = sk_X509_num(k->chain) - 1;
        }
    } else {
        k->chain = sk_X509_new_null();
        X509_up_ref(cert);
        sk_X509_push(k->chain, cert);
        k->n = 1;
    }
    mg_pool_cleanup_add(c->pool, check_free, k);
    if (next(k) == MG_AGAIN) {
        return MG_AGAIN;
    }
    check_free(k);
    return MG_OK;
}
