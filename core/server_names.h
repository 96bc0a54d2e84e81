/*
 * server_name for http{} and stream{} (nginx >= 1.25.5 has it in stream too): the directive's
 * checks, and the table of names of one listening address that chooses a server the nginx
 * way: exact name, longest leading wildcard, longest trailing wildcard, then the regexes in
 * order (run by the layer, whose captures become its variables), else the default server.
 */
#ifndef MG_SERVER_NAMES_H
#define MG_SERVER_NAMES_H

#include "array.h"
#include "conf.h"
#include "regex.h"

/* One name of a server{}: lowercased ("*.x", ".x", "x.*" wildcards), or a regex whose source
 * is kept with its "~" (as $server_name shows it). */
typedef struct {
    mg_str_t name;
    mg_regex_t *regex;
    void *server;     /* the layer's server conf */
    unsigned dot : 1; /* in a table's wc_head: ".x", which names x itself too */
} mg_server_name_t;

/* The names of the servers sharing one address. Heads are kept as ".x" (from "*.x" and ".x"),
 * tails as "x." (from "x.*"). */
typedef struct {
    mg_array_t exact; /* mg_server_name_t, name the key */
    mg_array_t wc_head;
    mg_array_t wc_tail;
    mg_array_t regex; /* mg_server_name_t as the servers gave them, in configuration order */
} mg_server_names_t;

typedef mg_regex_t *(*mg_server_name_compile_pt)(mg_conf_t *cf, mg_str_t pattern, int caseless);

/* The server_name directive's arguments appended to names (mg_server_name_t) for server, with
 * nginx's checks and words; compile is the layer's regex compiler. MG_CONF_OK or an error. */
const char *mg_server_name_directive(mg_conf_t *cf, mg_array_t *names, void *server,
                                     mg_server_name_compile_pt compile);
/* After the server{} is read: a server without server_name is named "" (a name-less client
 * picks it, two such servers on an address conflict), as in nginx. */
void mg_server_names_default(mg_conf_t *cf, mg_array_t *names, void *server);
/* $server_name: the first name, ".x" as "x", a regex with its "~". */
mg_str_t mg_server_names_first(const mg_array_t *names);
/* Whether a server alone on its address still needs the table: nginx looks at its last regex
 * name only (the one whose captures it remembered). */
int mg_server_names_captures(const mg_array_t *names);

/* An empty table, in pool. */
mg_server_names_t *mg_server_names_create(mg_pool_t *pool);
/* One server's names into t (servers in configuration order): MG_ERROR after nginx's
 * "invalid server name or wildcard" emerg, a name already there warns as nginx's
 * "conflicting server name" and is left out. */
mg_int_t mg_server_names_add(mg_conf_t *cf, mg_server_names_t *t, const mg_array_t *names,
                             const char *addr_text);
/* nginx's verdict on the server_names_hash of t (hash_size.h). */
mg_int_t mg_server_names_check(mg_conf_t *cf, const mg_server_names_t *t, mg_int_t max_size,
                               mg_int_t bucket_size);
/* A client's name (a Host, an SNI) checked as nginx's validate_host: MG_OK with it lowercased,
 * without its port and a trailing dot, in *out (pool's, NUL-terminated); MG_DECLINED for a
 * name nginx refuses ("..", "/", "\\", a space or control byte, nothing left). */
mg_int_t mg_server_name_validate(mg_pool_t *pool, mg_str_t in, mg_str_t *out);
/* The same check without a copy: the length of the name in in (before its port and trailing
 * dot), 0 for one nginx refuses. */
size_t mg_server_name_check(mg_str_t in);
/* The server whose exact or wildcard name matches host (lowercase), or NULL (then the regexes,
 * then the default server). */
void *mg_server_names_find(const mg_server_names_t *t, mg_str_t host);

#endif
