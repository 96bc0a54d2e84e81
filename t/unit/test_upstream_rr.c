/*
 * The balancers driven directly: fake groups of peers, fake requests, a fake clock
 * (mg_now.monotonic). Round robin (nginx's smooth weighted sequence), max_fails/fail_timeout
 * marking and recovery, backup peers, least_conn, hash stability and the consistent ring.
 * upstream_hash.c and upstream_least_conn.c are #included for their balancer tables.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "http.h"
#include "script.h"
#include "upstream_rr.h"

#include "../../modules/upstream_hash.c"
#include "../../modules/upstream_least_conn.c"

#include "tap.h"

static mg_pool_t *pool;

static mg_upstream_group_t *group(const mg_upstream_balancer_t *b, const char *spec)
{
    /* spec: "a:5 b:1 c:1 d:1:backup" -> peers named a.. with weights */
    mg_upstream_group_t *g = mg_pcalloc(pool, sizeof(*g));
    mg_array_init(&g->peers, pool, 4, sizeof(mg_upstream_peer_t));
    mg_array_init(&g->backup, pool, 4, sizeof(mg_upstream_peer_t));
    g->balancer = b;
    char *s = mg_pnalloc(pool, strlen(spec) + 1);
    strcpy(s, spec);
    int n = 0;
    for (char *tok = strtok(s, " "); tok; tok = strtok(NULL, " "), n++) {
        char *w = strchr(tok, ':');
        int backup = strstr(tok, ":backup") != NULL;
        int down = strstr(tok, ":down") != NULL;
        if (w) {
            *w++ = '\0';
        }
        mg_upstream_peer_t *p = mg_array_push(backup ? &g->backup : &g->peers);
        struct sockaddr_in *sin = (struct sockaddr_in *)&p->sockaddr;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(0x7f000001);
        sin->sin_port = htons((uint16_t)(8000 + n));
        p->socklen = sizeof(*sin);
        p->name = mg_pstr(pool, tok, strlen(tok));
        char server[64];
        snprintf(server, sizeof(server), "%s.example:%d", tok, 8000 + n);
        p->server = mg_pstr(pool, server, strlen(server));
        p->weight = w ? atoi(w) : 1;
        if (p->weight == 0) {
            p->weight = 1;
        }
        p->max_fails = 1;
        p->fail_timeout = 10000;
        p->down = down;
        p->backup = backup;
    }
    return g;
}

static mg_connection_t conn;
static struct sockaddr_storage conn_addr; /* conn.sockaddr's memory (a pointer since the
                                             client's address went to the connection's pool) */

static mg_upstream_pick_t *pick_new(mg_upstream_group_t *g)
{
    mg_request_t *r = mg_pcalloc(pool, sizeof(mg_request_t));
    r->pool = pool;
    conn.sockaddr = (struct sockaddr *)&conn_addr;
    r->connection = &conn;
    mg_upstream_pick_t *pk = mg_pcalloc(pool, sizeof(*pk));
    pk->r = r;
    pk->group = g;
    if (g->balancer->init_request(r, pk) != MG_OK) {
        return NULL;
    }
    return pk;
}

/* One request that gets one peer and reports `outcome`; the peer's name or "-" (busy). */
static const char *one(mg_upstream_group_t *g, int outcome)
{
    mg_upstream_pick_t *pk = pick_new(g);
    if (g->balancer->get_peer(pk) != MG_OK) {
        return "-";
    }
    const char *name = pk->peer->name.data;
    g->balancer->free_peer(pk, outcome);
    return name;
}

static void sequence(mg_upstream_group_t *g, int n, char *out)
{
    for (int i = 0; i < n; i++) {
        const char *name = one(g, MG_PEER_OK);
        out[i] = name[0];
    }
    out[n] = '\0';
}

static void test_rr(void)
{
    char seq[64];
    mg_upstream_group_t *g = group(&mg_upstream_round_robin, "a:5 b:1 c:1");
    mg_upstream_rr_init_group(NULL, g);
    sequence(g, 14, seq);
    is_strn(seq, strlen(seq), "aabacaaaabacaa", "smooth WRR 5,1,1 is nginx's a,a,b,a,c,a,a (twice)");
    is_int(g->max_tries, 3, "max_tries = non-down peers");

    g = group(&mg_upstream_round_robin, "a b c");
    mg_upstream_rr_init_group(NULL, g);
    sequence(g, 6, seq);
    is_strn(seq, strlen(seq), "abcabc", "equal weights alternate");

    g = group(&mg_upstream_round_robin, "a b:down c");
    mg_upstream_rr_init_group(NULL, g);
    sequence(g, 4, seq);
    is_strn(seq, strlen(seq), "acac", "a down peer is never chosen");
    is_int(g->max_tries, 2, "max_tries skips down peers");

    /* retries within one request: each peer once, then busy */
    g = group(&mg_upstream_round_robin, "a b c");
    mg_upstream_rr_init_group(NULL, g);
    mg_upstream_pick_t *pk = pick_new(g);
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        ok(g->balancer->get_peer(pk) == MG_OK, "try %d gets a peer", i + 1);
        seen |= 1 << (pk->peer->name.data[0] - 'a');
        g->balancer->free_peer(pk, MG_PEER_NEXT);
    }
    is_int(seen, 7, "three tries, three different peers");
    is_int((long long)pk->tries, 3, "pick->tries counts them");
    is_int(g->balancer->get_peer(pk), MG_BUSY, "fourth try: busy");

    /* single peer: max_fails ignored, one try per request */
    g = group(&mg_upstream_round_robin, "a");
    mg_upstream_rr_init_group(NULL, g);
    for (int i = 0; i < 3; i++) {
        one(g, MG_PEER_FAILED);
    }
    is_strn(one(g, MG_PEER_OK), 1, "a", "a single peer is never marked down");
    is_int(g->max_tries, 1, "single peer: one try");
    pk = pick_new(g);
    g->balancer->get_peer(pk);
    g->balancer->free_peer(pk, MG_PEER_FAILED);
    is_int(g->balancer->get_peer(pk), MG_BUSY, "single peer: no second try in one request");
}

static void test_fails(void)
{
    mg_now.monotonic = 1000000;
    mg_upstream_group_t *g = group(&mg_upstream_round_robin, "a b");
    mg_upstream_peer_t *a = g->peers.elts;
    mg_upstream_rr_init_group(NULL, g);
    a[0].max_fails = 2;
    a[0].fail_timeout = 10000;

    /* a fails twice */
    mg_upstream_pick_t *pk = pick_new(g);
    g->balancer->get_peer(pk);
    is_strn(pk->peer->name.data, 1, "a", "first pick a");
    g->balancer->free_peer(pk, MG_PEER_FAILED);
    ok(mg_upstream_peer_usable(&a[0]), "one failure of max_fails=2: still usable");
    is_strn(one(g, MG_PEER_OK), 1, "b", "b next");
    is_strn(one(g, MG_PEER_FAILED), 1, "a", "a again, fails");
    ok(!mg_upstream_peer_usable(&a[0]), "two failures: a is out");
    char seq[16];
    sequence(g, 4, seq);
    is_strn(seq, 4, "bbbb", "only b while a is out");

    mg_now.monotonic += 9000;
    ok(!mg_upstream_peer_usable(&a[0]), "still out within fail_timeout");
    mg_now.monotonic += 2000;
    ok(mg_upstream_peer_usable(&a[0]), "usable after fail_timeout");
    /* one trial try: failing it puts a out again at once */
    int got_a = 0;
    for (int i = 0; i < 3 && !got_a; i++) {
        pk = pick_new(g);
        g->balancer->get_peer(pk);
        got_a = pk->peer == &a[0];
        g->balancer->free_peer(pk, got_a ? MG_PEER_FAILED : MG_PEER_OK);
    }
    ok(got_a, "a given a trial try after fail_timeout");
    ok(!mg_upstream_peer_usable(&a[0]), "a failed trial: out again");

    mg_now.monotonic += 11000;
    a[1].fails = 0;
    got_a = 0;
    for (int i = 0; i < 3 && !got_a; i++) {
        got_a = one(g, MG_PEER_OK)[0] == 'a';
    }
    ok(got_a, "a tried again after the next fail_timeout");
    is_int((long long)a[0].fails, 0, "a successful trial clears fails");
    ok(mg_upstream_peer_usable(&a[0]), "a is back");

    /* max_fails=0: never marked */
    g = group(&mg_upstream_round_robin, "a b");
    mg_upstream_rr_init_group(NULL, g);
    a = g->peers.elts;
    a[0].max_fails = 0;
    for (int i = 0; i < 6; i++) {
        one(g, MG_PEER_FAILED);
    }
    ok(mg_upstream_peer_usable(&a[0]), "max_fails=0: never out");

    /* MG_PEER_NEXT is not a failure */
    g = group(&mg_upstream_round_robin, "a b");
    mg_upstream_rr_init_group(NULL, g);
    a = g->peers.elts;
    for (int i = 0; i < 4; i++) {
        one(g, MG_PEER_NEXT);
    }
    ok(mg_upstream_peer_usable(&a[0]) && a[0].fails == 0, "MG_PEER_NEXT does not count");
}

static void test_backup(void)
{
    mg_now.monotonic = 5000000;
    mg_upstream_group_t *g = group(&mg_upstream_round_robin, "a b x:backup y:backup");
    mg_upstream_rr_init_group(NULL, g);
    mg_upstream_peer_t *p = g->peers.elts;
    char seq[16];
    sequence(g, 4, seq);
    is_strn(seq, 4, "abab", "backups unused while a primary is usable");
    is_int(g->max_tries, 4, "max_tries counts backups");
    p[0].down = 1;
    sequence(g, 2, seq);
    is_strn(seq, 2, "bb", "one primary left: still no backup");
    p[1].fails = 1; /* b failed within fail_timeout (max_fails=1) */
    p[1].checked = mg_now.monotonic;
    sequence(g, 4, seq);
    is_strn(seq, 4, "xyxy", "all primaries out: backups in round robin");
    /* in one request: primaries tried, then backups */
    p[0].down = 0;
    p[1].fails = 0;
    mg_upstream_pick_t *pk = pick_new(g);
    char order[8] = "";
    for (int i = 0; i < 5; i++) {
        if (g->balancer->get_peer(pk) != MG_OK) {
            strcat(order, "-");
            break;
        }
        strncat(order, pk->peer->name.data, 1);
        g->balancer->free_peer(pk, MG_PEER_NEXT);
    }
    ok(strlen(order) == 5 && order[4] == '-' && strchr("ab", order[0]) && strchr("ab", order[1]) &&
           strchr("xy", order[2]) && strchr("xy", order[3]),
       "one request tries both primaries, then both backups, then busy (%s)", order);

    g = group(&mg_upstream_round_robin, "a:down x:backup:down");
    mg_upstream_rr_init_group(NULL, g);
    is_strn(one(g, MG_PEER_OK), 1, "-", "everything down: busy");
}

static void test_least_conn(void)
{
    mg_upstream_group_t *g = group(&mg_upstream_least_conn, "a b c");
    mg_upstream_rr_init_group(NULL, g);
    mg_upstream_peer_t *p = g->peers.elts;
    p[0].conns = 3;
    p[1].conns = 1;
    p[2].conns = 2;
    is_strn(one(g, MG_PEER_OK), 1, "b", "fewest connections");
    p[1].conns = 2;
    char seq[8];
    sequence(g, 4, seq);
    is_strn(seq, 4, "bcbc", "ties between b and c by round robin");
    g = group(&mg_upstream_least_conn, "a:3 b");
    mg_upstream_rr_init_group(NULL, g);
    p = g->peers.elts;
    p[0].conns = 2; /* 2/3 < 1/1 */
    p[1].conns = 1;
    is_strn(one(g, MG_PEER_OK), 1, "a", "weighted: conns relative to weight");
    /* conns counted while a try is in flight */
    mg_upstream_pick_t *pk = pick_new(g);
    g->balancer->get_peer(pk);
    is_int((long long)pk->peer->conns, pk->peer == &p[0] ? 3 : 2, "get_peer counts the connection");
    g->balancer->free_peer(pk, MG_PEER_OK);
}

static hash_conf_t *hash_group_conf(mg_upstream_group_t *g, int consistent)
{
    static mg_conf_t cf;
    cf.pool = pool;
    hash_conf_t *hc = mg_pcalloc(pool, sizeof(hash_conf_t));
    hc->consistent = consistent;
    g->balancer_conf = hc;
    hash_init_group(&cf, g);
    return hc;
}

static const char *hash_one(mg_upstream_group_t *g, const char *key)
{
    hash_conf_t *hc = g->balancer_conf;
    hc->key.value.data = (char *)key;
    hc->key.value.len = strlen(key);
    return one(g, MG_PEER_OK);
}

static void test_hash(void)
{
    mg_now.monotonic = 9000000;
    mg_upstream_group_t *g = group(&mg_upstream_hash, "a b c d");
    mg_uint_t counts[4] = { 0 };
    hash_group_conf(g, 0);
    char first[200];
    int stable = 1;
    for (int i = 0; i < 200; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/key/%d", i);
        first[i] = hash_one(g, key)[0];
        counts[first[i] - 'a']++;
    }
    for (int i = 0; i < 200; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/key/%d", i);
        stable &= hash_one(g, key)[0] == first[i];
    }
    ok(stable, "hash: the same key gets the same peer");
    ok(counts[0] && counts[1] && counts[2] && counts[3], "hash: every peer gets keys (%lu %lu %lu %lu)",
       (unsigned long)counts[0], (unsigned long)counts[1], (unsigned long)counts[2],
       (unsigned long)counts[3]);
    /* a down peer's keys move, the others stay */
    mg_upstream_peer_t *p = g->peers.elts;
    p[0].down = 1;
    int moved_other = 0, a_gone = 1;
    for (int i = 0; i < 200; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/key/%d", i);
        char c = hash_one(g, key)[0];
        a_gone &= c != 'a';
        moved_other += first[i] != 'a' && c != first[i];
    }
    ok(a_gone, "hash: a down peer gets no key");
    is_int(moved_other, 0, "hash: keys of other peers stay");
    p[0].down = 0;

    /* consistent: adding a peer moves few keys */
    g = group(&mg_upstream_chash, "a b c d");
    hash_conf_t *hc = hash_group_conf(g, 1);
    is_int((long long)hc->npoints, 640, "ketama: 160 points per weight unit");
    char before[1000];
    for (int i = 0; i < 1000; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/k/%d", i);
        before[i] = hash_one(g, key)[0];
    }
    mg_upstream_group_t *g5 = group(&mg_upstream_chash, "a b c d e");
    hash_group_conf(g5, 1);
    int moved = 0, moved_not_to_e = 0;
    for (int i = 0; i < 1000; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/k/%d", i);
        char c = hash_one(g5, key)[0];
        if (c != before[i]) {
            moved++;
            moved_not_to_e += c != 'e';
        }
    }
    ok(moved > 50 && moved < 350, "consistent: adding a 5th peer moves ~1/5 of keys (%d/1000)", moved);
    is_int(moved_not_to_e, 0, "consistent: keys move only to the new peer");
    /* a down server's keys go to the next point; the rest stay */
    p = g->peers.elts;
    p[1].down = 1;
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/k/%d", i);
        char c = hash_one(g, key)[0];
        bad += c == 'b' || (before[i] != 'b' && c != before[i]);
    }
    is_int(bad, 0, "consistent: only the down peer's keys move");
    p[1].down = 0;
    /* nginx's ring: the point values of "a.example:8000" */
    uint32_t base = crc32_update(0, "a.example", 9);
    base = crc32_update(base, "", 1);
    base = crc32_update(base, "8000", 4);
    unsigned char zero[4] = { 0 };
    uint32_t p0 = crc32_update(base, zero, 4);
    int found = 0;
    for (mg_uint_t i = 0; i < hc->npoints; i++) {
        found |= hc->points[i].hash == p0 && hc->points[i].server->data[0] == 'a';
    }
    ok(found, "ketama: first point is crc32(host \\0 port prev=0)");
    /* empty key: round robin */
    g = group(&mg_upstream_hash, "a b");
    hash_group_conf(g, 0);
    char seq[4] = { hash_one(g, "")[0], hash_one(g, "")[0], 0 };
    ok(seq[0] != seq[1], "empty key: round robin (%s)", seq);
}

static void test_ip_hash(void)
{
    mg_upstream_group_t *g = group(&mg_upstream_ip_hash, "a b c");
    mg_upstream_rr_init_group(NULL, g);
    struct sockaddr_in *sin = (struct sockaddr_in *)&conn_addr;
    sin->sin_family = AF_INET;
    int same24 = 1, spread = 0;
    char last = 0;
    for (int net = 0; net < 20; net++) {
        char c0 = 0;
        for (int host = 1; host < 5; host++) {
            sin->sin_addr.s_addr = htonl(0x0a000000u | (unsigned)net << 8 | (unsigned)host);
            char c = one(g, MG_PEER_OK)[0];
            if (c0 == 0) {
                c0 = c;
            }
            same24 &= c == c0;
        }
        spread += last && c0 != last;
        last = c0;
    }
    ok(same24, "ip_hash: one /24, one peer");
    ok(spread > 0, "ip_hash: different /24s spread");
    /* nginx's formula for 10.0.0.x: hash = 89, bytes 10,0,0 */
    uint64_t h = 89;
    unsigned char b[3] = { 10, 0, 0 };
    for (int i = 0; i < 3; i++) {
        h = (h * 113 + b[i]) % 6271;
    }
    sin->sin_addr.s_addr = htonl(0x0a000001u);
    char want[2] = { (char)('a' + h % 3), 0 };
    is_strn(one(g, MG_PEER_OK), 1, want, "ip_hash: nginx's hash of 10.0.0.0/24");
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&conn_addr;
    memset(sin6, 0, sizeof(*sin6));
    sin6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", &sin6->sin6_addr);
    const char *x = one(g, MG_PEER_OK);
    inet_pton(AF_INET6, "2001:db8::2", &sin6->sin6_addr);
    ok(one(g, MG_PEER_OK) != NULL && x != NULL, "ip_hash: IPv6 hashes the full address");
}

int main(void)
{
    pool = mg_pool_create(16384);
    mg_now.sec = 1; /* the logger would otherwise read the real clock over the fake one */
    conn.log.level = MG_LOG_EMERG;
    mg_now.monotonic = 1000000;
    test_rr();
    test_fails();
    test_backup();
    test_least_conn();
    test_hash();
    test_ip_hash();
    return done_testing();
}
