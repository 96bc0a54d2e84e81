/*
 * The module interface: a module is a struct with a directive table, constructors and
 * mergers for its configuration at each level, and lifecycle hooks. The one ordered list
 * of modules lives in modules/modules.c.
 */
#ifndef MG_MODULE_H
#define MG_MODULE_H

#include "mg.h"

/* Contexts a directive may appear in. */
#define MG_CTX_MAIN 0x0001
#define MG_CTX_EVENTS 0x0002
#define MG_CTX_HTTP 0x0004
#define MG_CTX_SERVER 0x0008
#define MG_CTX_LOCATION 0x0010
#define MG_CTX_LIF 0x0020 /* "if" inside a location */
#define MG_CTX_SIF 0x0040 /* "if" inside a server */
#define MG_CTX_UPSTREAM 0x0080
#define MG_CTX_LMT 0x0100 /* limit_except */
#define MG_CTX_STREAM 0x0200     /* stream{} (core/stream/) */
#define MG_CTX_STREAM_SRV 0x0400 /* server{} inside stream{} */
#define MG_CTX_STREAM_UPS 0x0800 /* upstream{} inside stream{} */
#define MG_HTTP_ANY_LOC (MG_CTX_HTTP | MG_CTX_SERVER | MG_CTX_LOCATION)
#define MG_HTTP_SRV (MG_CTX_HTTP | MG_CTX_SERVER)

/* Argument count rule: MG_ARGS(min, max) (counts exclude the directive name), or a flag. */
#define MG_ARGS(min, max) ((unsigned)(min) | ((unsigned)(max) << 8))
#define MG_MANY 0xff
#define MG_FLAG 0x10000   /* exactly one argument, "on" or "off" */
#define MG_BLOCK 0x20000  /* the directive opens a { } block */
/* The directive's { } holds Lua code, not directives: the text up to the matching "}" (found
 * with Lua's strings, long brackets and comments in mind) becomes its last argument, and
 * cf->raw_line is the line the code starts on. */
#define MG_RAW_BLOCK 0x40000
#define MG_ARGS_MIN(a) ((a)&0xff)
#define MG_ARGS_MAX(a) (((a) >> 8) & 0xff)

/* Which configuration struct the setter receives. */
enum {
    MG_NO_CONF = 0,    /* setter gets NULL and works on cf itself */
    MG_CYCLE_CONF,     /* top-level conf of the module (worker_processes ...) */
    MG_MAIN_CONF,      /* http{} level */
    MG_SRV_CONF,
    MG_LOC_CONF,
};

typedef const char *(*mg_conf_set_pt)(mg_conf_t *cf, const mg_command_t *cmd, void *conf);

struct mg_command_s {
    const char *name;
    unsigned contexts;
    unsigned args;
    mg_conf_set_pt set;
    int slot;
    size_t offset;
    const void *post; /* setter-specific: enum table, bounds */
};

/* A module's hooks in the stream{} layer (core/stream/), as the http ones below are in http{}:
 * the stream's conf arrays are separate, so an http module never sees a stream conf. */
typedef struct mg_stream_module_s {
    void *(*create_main_conf)(mg_conf_t *cf);
    const char *(*init_main_conf)(mg_conf_t *cf, void *conf);
    void *(*create_srv_conf)(mg_conf_t *cf);
    const char *(*merge_srv_conf)(mg_conf_t *cf, void *prev, void *conf);
    /* after the whole stream{} block: register phase handlers */
    mg_int_t (*init)(mg_conf_t *cf);
} mg_stream_module_t;

/* A directive's default as documented, for a setter of the module's own (the generic setters'
 * defaults are read from the merged configuration): docs only, the merge applies the value.
 * Every directive whose setter is not a generic one has an entry, MG_NO_DEFAULT where nginx
 * documents none: tools/docgen.c (`make docs`, t/006-docs.t) fails on a directive without.
 * MG_NO_DEFAULT for a generic setter's directive hides an internal value the merge leaves
 * (max_ranges' INT_MAX, timer_resolution's 0) where nginx documents none. */
typedef struct {
    const char *name;
    const char *text; /* MG_NO_DEFAULT: none, as nginx's "Default: —" */
} mg_conf_default_t;
#define MG_NO_DEFAULT NULL

struct mg_module_s {
    const char *name;
    const mg_command_t *commands;
    const mg_conf_default_t *defaults; /* ends with {0}; NULL: none */
    /* top level */
    void *(*create_cycle_conf)(mg_cycle_t *cycle);
    const char *(*init_cycle_conf)(mg_cycle_t *cycle, void *conf);
    /* http levels: create, then merge parent into child after the block is read */
    void *(*create_main_conf)(mg_conf_t *cf);
    const char *(*init_main_conf)(mg_conf_t *cf, void *conf);
    void *(*create_srv_conf)(mg_conf_t *cf);
    const char *(*merge_srv_conf)(mg_conf_t *cf, void *prev, void *conf);
    void *(*create_loc_conf)(mg_conf_t *cf);
    const char *(*merge_loc_conf)(mg_conf_t *cf, void *prev, void *conf);
    /* after the whole http{} block: register phase handlers */
    mg_int_t (*init)(mg_conf_t *cf);
    /* at the end of each http{} block, in list order: put the module's filters on top of that
     * configuration's chains (mg_http_push_*_filter), or not where nothing in it uses them
     * (core/http/filters.c). The chains are the generation's: a reload that fails halfway
     * leaves the serving generation's untouched. */
    void (*init_filters)(mg_conf_t *cf);
    const mg_stream_module_t *stream; /* NULL: no part in stream{} */
    /* a directive no command table has: MG_DECLINED passes it on ("unknown directive"), MG_OK
     * or MG_ERROR (after mg_conf_error) says the module took it; `semi`: it ended with ";".
     * How a name the configuration cannot know in advance (an embedding's handler) works. */
    mg_int_t (*other_directive)(mg_conf_t *cf, int semi);
    mg_int_t (*init_worker)(mg_cycle_t *cycle);
    void (*exit_worker)(mg_cycle_t *cycle);
    int index; /* position in mg_modules, written once by mg_modules_init */
};

/* The ordered, NULL-terminated module list (modules/modules.c). */
extern mg_module_t *mg_modules[];
extern size_t mg_modules_n;

void mg_modules_init(void);
/* Run every module's init_worker / exit_worker for a generation in the process that serves
 * it (a worker, or the single process). */
void mg_modules_init_worker(mg_cycle_t *cycle);
void mg_modules_exit_worker(mg_cycle_t *cycle);

#endif
