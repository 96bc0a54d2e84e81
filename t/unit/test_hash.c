/*
 * Unit tests for core/md5.c and core/sha1.c: the RFC 1321 and FIPS 180 test vectors (incl.
 * a million 'a's), padding boundaries around 55/56/64 bytes, chunked vs one-shot updates,
 * and HMAC-SHA1 against the RFC 2202 vectors.
 */
#include "mg.h"

#include "md5.h"
#include "sha1.h"

#include "tap.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

static const char *md5_hex(const void *data, size_t len)
{
    static char out[2 * MG_MD5_DIGEST_LEN + 1];
    unsigned char d[MG_MD5_DIGEST_LEN];
    mg_md5(data, len, d);
    hex(d, sizeof(d), out);
    return out;
}

static const char *sha1_hex(const void *data, size_t len)
{
    static char out[2 * MG_SHA1_DIGEST_LEN + 1];
    unsigned char d[MG_SHA1_DIGEST_LEN];
    mg_sha1(data, len, d);
    hex(d, sizeof(d), out);
    return out;
}

static const char *hmac_hex(const void *key, size_t klen, const void *msg, size_t mlen)
{
    static char out[2 * MG_SHA1_DIGEST_LEN + 1];
    unsigned char d[MG_SHA1_DIGEST_LEN];
    mg_hmac_sha1(key, klen, msg, mlen, d);
    hex(d, sizeof(d), out);
    return out;
}

static void test_md5_rfc1321(void)
{
    static const struct {
        const char *in, *want;
    } v[] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "1234567890123456789012345678901234567890123456789012345678901234567890123456"
          "7890",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        is_str(md5_hex(v[i].in, strlen(v[i].in)), v[i].want, "md5 \"%.20s\" (%zu bytes)",
               v[i].in, strlen(v[i].in));
    }
}

static void test_sha1_fips180(void)
{
    static const struct {
        const char *in, *want;
    } v[] = {
        { "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
        { "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmn"
          "opqrlmnopqrsmnopqrstnopqrstu",
          "a49b2446a02c645bf419f995b67091253a04a259" },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        is_str(sha1_hex(v[i].in, strlen(v[i].in)), v[i].want, "sha1 \"%.20s\" (%zu bytes)",
               v[i].in, strlen(v[i].in));
    }
}

/* The padding takes one more block when fewer than 9 bytes are left in the last one. */
static void test_boundaries(void)
{
    static const struct {
        size_t n;
        const char *md5, *sha1;
    } v[] = {
        { 55, "ef1772b6dff9a122358552954ad0df65", "c1c8bbdc22796e28c0e15163d20899b65621d65a" },
        { 56, "3b0c8ac703f828b04c6c197006d17218", "c2db330f6083854c99d4b5bfb6e8f29f201be699" },
        { 63, "b06521f39153d618550606be297466d5", "03f09f5b158a7a8cdad920bddc29b81c18a551f5" },
        { 64, "014842d480b571495a4a0363793f7367", "0098ba824b5c16427bd7a1122a5a442a25ec644d" },
        { 65, "c743a45e0d2e6a95cb859adae0248435", "11655326c708d70319be2610e8a57d9a5b959d3b" },
        { 119, "8a7bd0732ed6a28ce75f6dabc90e1613", "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56" },
        { 120, "5f61c0ccad4cac44c75ff505e1f1e537", "f34c1488385346a55709ba056ddd08280dd4c6d6" },
        { 128, "e510683b3f5ffe4093d021808bc6ff70", "ad5b3fdbcb526778c2839d2f151ea753995e26a0" },
    };
    char a[128];
    memset(a, 'a', sizeof(a));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        is_str(md5_hex(a, v[i].n), v[i].md5, "md5 of %zu 'a's", v[i].n);
        is_str(sha1_hex(a, v[i].n), v[i].sha1, "sha1 of %zu 'a's", v[i].n);
    }
}

/* A million 'a's fed in uneven pieces, so every partial-block path runs. */
static void test_million(void)
{
    static char a[1000];
    memset(a, 'a', sizeof(a));
    mg_md5_t m;
    mg_sha1_t s;
    mg_md5_init(&m);
    mg_sha1_init(&s);
    size_t left = 1000000, step = 1;
    while (left) {
        size_t n = mg_min(step, left);
        mg_md5_update(&m, a, n);
        mg_sha1_update(&s, a, n);
        left -= n;
        step = step % 983 + 7; /* 1 .. 989, never past a[] */
    }
    mg_md5_update(&m, NULL, 0);
    mg_sha1_update(&s, NULL, 0);
    unsigned char dm[MG_MD5_DIGEST_LEN], ds[MG_SHA1_DIGEST_LEN];
    char out[2 * MG_SHA1_DIGEST_LEN + 1];
    mg_md5_final(&m, dm);
    hex(dm, sizeof(dm), out);
    is_str(out, "7707d6ae4e027c70eea2a935c2296f21", "md5 of a million 'a's, chunked");
    mg_sha1_final(&s, ds);
    hex(ds, sizeof(ds), out);
    is_str(out, "34aa973cd4c4daa4f61eeb2bdbad27316534016f", "sha1 of a million 'a's, chunked");

    static char big[1000000];
    memset(big, 'a', sizeof(big));
    is_str(md5_hex(big, sizeof(big)), "7707d6ae4e027c70eea2a935c2296f21",
           "md5 of a million 'a's, one call");
    is_str(sha1_hex(big, sizeof(big)), "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
           "sha1 of a million 'a's, one call");

    /* a context can be reused after final */
    mg_md5_init(&m);
    mg_md5_update(&m, "abc", 3);
    mg_md5_final(&m, dm);
    hex(dm, sizeof(dm), out);
    is_str(out, "900150983cd24fb0d6963f7d28e17f72", "md5 context reused after init");
}

static void test_hmac_rfc2202(void)
{
    unsigned char k[80], d[50];

    memset(k, 0x0b, 20);
    is_str(hmac_hex(k, 20, "Hi There", 8), "b617318655057264e28bc0b6fb378c8ef146be00",
           "hmac-sha1 RFC 2202 case 1");
    is_str(hmac_hex("Jefe", 4, "what do ya want for nothing?", 28),
           "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", "hmac-sha1 RFC 2202 case 2");
    memset(k, 0xaa, 20);
    memset(d, 0xdd, 50);
    is_str(hmac_hex(k, 20, d, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
           "hmac-sha1 RFC 2202 case 3");
    for (int i = 0; i < 25; i++) {
        k[i] = (unsigned char)(i + 1);
    }
    memset(d, 0xcd, 50);
    is_str(hmac_hex(k, 25, d, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
           "hmac-sha1 RFC 2202 case 4");
    memset(k, 0x0c, 20);
    is_str(hmac_hex(k, 20, "Test With Truncation", 20),
           "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04", "hmac-sha1 RFC 2202 case 5");
    memset(k, 0xaa, 80);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    is_str(hmac_hex(k, 80, m6, strlen(m6)), "aa4ae5e15272d00e95705637ce8a3b55ed402112",
           "hmac-sha1 RFC 2202 case 6 (80-byte key)");
    const char *m7 = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
    is_str(hmac_hex(k, 80, m7, strlen(m7)), "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
           "hmac-sha1 RFC 2202 case 7 (80-byte key, 73-byte data)");
    is_str(hmac_hex(NULL, 0, NULL, 0), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d",
           "hmac-sha1 empty key and message");
}

int main(void)
{
    test_md5_rfc1321();
    test_sha1_fips180();
    test_boundaries();
    test_million();
    test_hmac_rfc2202();
    return done_testing();
}
