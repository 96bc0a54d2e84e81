/*
 * What the embedding API (core/embed.c, moongate.h) hands to the rest: the names a program
 * registered for a server (C content handlers, Lua modules), reached from a generation as
 * cycle->embed.
 */
#ifndef MG_EMBED_H
#define MG_EMBED_H

#include "mg.h"
#include "moongate.h"

typedef struct {
    moongate_handler_t *handlers; /* ends with a NULL name */
    moongate_lua_module_t *lua_modules;
    moongate_filter_t *filters;
} mg_embed_t;

/* The handler registered as name for this generation's server; NULL if none. */
const moongate_handler_t *mg_embed_handler(mg_cycle_t *cycle, const char *name, size_t len);
const moongate_filter_t *mg_embed_filter(mg_cycle_t *cycle, const char *name, size_t len);

/* lua/embed_lua.c: put the server's Lua modules in package.preload of a new VM; run a chunk
 * in the VM of a generation (MG_OK, or MG_ERROR with the reason in error). */
struct lua_State;
void mg_lua_embed_preload(mg_cycle_t *cycle, struct lua_State *L);
mg_int_t mg_lua_embed_run(mg_cycle_t *cycle, const char *chunk, char *error, size_t size);

#endif
