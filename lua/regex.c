/*
 * ngx.re: match, find, gmatch, sub and gsub on pcre2, with lua-nginx-module's option letters,
 * captures tables, ctx.pos and $N replacement templates. Each VM keeps one match-data block
 * and the cache of `o` regexes (lua_regex_cache_max_entries).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "api.h"
#include "log.h"

/* The letters that are not pcre2 options (lua-nginx-module's FLAG_* bits). */
enum {
    RE_CACHE = 0x01,
    RE_DFA = 0x02,
    RE_JIT = 0x04,
    RE_DUPNAMES = 0x08,
    RE_NO_UTF_CHECK = 0x10,
    RE_UTF = 0x20, /* u or U */
};

#define RE_ERRSTR_SIZE 128 /* OpenResty's buffer: longer compile errors are cut to 127 bytes */
#define RE_DFA_WORKSPACE 1000

/* A replacement template item: literal text (capture < 0) or the text of capture group n. */
typedef struct {
    int capture;
    size_t off, len; /* literal: bytes of the template copy */
} re_tpl_item_t;

/* Links of the `o` cache's LRU list (regexes for match, find, gmatch and sub with a function). */
typedef struct re_lru_s {
    struct re_lru_s *prev, *next;
} re_lru_t;

/* A compiled regex, a full userdata; its __gc frees the pcre2 code unless released before. */
typedef struct {
    re_lru_t lru; /* first: the list's links are the regex's address */
    int key_ref;  /* the cache table's integer key holding this entry's key, while in the list */
    pcre2_code *code;
    int flags;
    int cached;
    uint32_t ncaptures; /* 0 in DFA mode, which reports the whole match only */
    uint32_t nnames;
    uint32_t name_entry;
    PCRE2_SPTR names;
    re_tpl_item_t *tpl; /* sub/gsub with a string replacement; items and text follow the struct */
    size_t ntpl;
    const char *tpl_text;
} re_compiled_t;

/* Per VM; upvalue 1 of every ngx.re function. */
typedef struct {
    pcre2_match_data *md; /* shared: every caller copies what it needs before running Lua */
    uint32_t md_pairs;
    mg_int_t cache_used; /* regexes ever cached (ngx.re.opt refuses then) */
    mg_int_t lru_used, tpl_used;
    re_lru_t lru; /* most recently used first; prev and next NULL until the first entry */
    pcre2_match_context *mctx; /* for jit_stack (ngx.re.opt) or lua_regex_match_limit; or NULL */
    pcre2_jit_stack *jit_stack;
    uint32_t match_limit; /* lua_regex_match_limit set in mctx (0: none) */
} re_vm_t;

static char opt_key; /* registry[&opt_key]: require "ngx.re"'s opt, with this VM's re_vm_t */

static int re_compiled_gc(lua_State *L)
{
    re_compiled_t *re = lua_touserdata(L, 1);
    if (re->code) {
        pcre2_code_free(re->code);
        re->code = NULL;
    }
    return 0;
}

static int re_vm_gc(lua_State *L)
{
    re_vm_t *vm = lua_touserdata(L, 1);
    pcre2_match_data_free(vm->md);
    vm->md = NULL;
    pcre2_match_context_free(vm->mctx);
    vm->mctx = NULL;
    pcre2_jit_stack_free(vm->jit_stack);
    vm->jit_stack = NULL;
    return 0;
}

/* OpenResty raises these with error(msg, 2) from its opt: a pcall's message has no position. */
static int re_caller_error(lua_State *L, const char *msg)
{
    lua_pushstring(L, msg);
    return lua_error(L);
}

/* require("ngx.re").opt("jit_stack_size", bytes): the JIT's stack, up to that size (from 32k),
 * for the regexes compiled afterwards; refused once one is cached, as OpenResty does. */
static int re_opt(lua_State *L)
{
    re_vm_t *vm = lua_touserdata(L, lua_upvalueindex(1));
    const char *option = luaL_checkstring(L, 1);
    if (strcmp(option, "jit_stack_size") != 0) {
        return re_caller_error(L, "unrecognized option name");
    }
    int size = luaL_checkint(L, 2);
    if (vm->cache_used > 0) {
        return re_caller_error(L, "changing jit stack size is not allowed when some regexs "
                                  "have already been compiled and cached");
    }
    size_t max = size > 0 ? (size_t)size : 0;
    pcre2_jit_stack *stack = pcre2_jit_stack_create(max < 32768 ? max : 32768, max, NULL);
    if (stack == NULL) {
        return re_caller_error(L, "pcre2_jit_stack_create() failed");
    }
    if (vm->mctx == NULL) {
        vm->mctx = pcre2_match_context_create(NULL);
        if (vm->mctx == NULL) {
            pcre2_jit_stack_free(stack);
            return re_caller_error(L, "no memory");
        }
    }
    pcre2_jit_stack_free(vm->jit_stack);
    vm->jit_stack = stack;
    pcre2_jit_stack_assign(vm->mctx, NULL, stack);
    return 0;
}

void mg_lua_re_push_opt(lua_State *L)
{
    lua_pushlightuserdata(L, &opt_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
}

static void re_lru_unlink(re_lru_t *x)
{
    x->prev->next = x->next;
    x->next->prev = x->prev;
}

static void re_lru_push(re_vm_t *vm, re_lru_t *x)
{
    if (vm->lru.next == NULL) {
        vm->lru.next = vm->lru.prev = &vm->lru;
    }
    x->next = vm->lru.next;
    x->prev = &vm->lru;
    vm->lru.next->prev = x;
    vm->lru.next = x;
}

/* An uncached regex is freed as soon as its call (or gmatch iterator) is done with it rather
 * than at the next GC cycle: the collector does not see pcre2's memory. */
static void re_release(re_compiled_t *re)
{
    if (!re->cached && re->code) {
        pcre2_code_free(re->code);
        re->code = NULL;
    }
}

/* The generation's log, not the request's: OpenResty logs these lines without a request. */
static mg_log_t *re_log_target(void)
{
    return mg_lua_cur.lmcf && mg_lua_cur.lmcf->cycle ? mg_lua_cur.lmcf->cycle->log : NULL;
}

static void re_log(int level, const char *fmt, const char *arg, size_t len)
{
    mg_log_t *log = re_log_target();
    if (log) {
        mg_log_error(level, log, 0, fmt, (int)len, arg);
    }
}

/* ---- replacement templates: $N, ${N}, $$, as lua-nginx-module's script compiler ---- */

/* Parses a template into items (NULL: count only). Returns the number of items, or -1, after
 * logging why at error level (as lua-nginx-module does) if log is set. */
static int tpl_parse(const char *s, size_t len, re_tpl_item_t *items, int log)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        if (s[i] != '$') {
            size_t start = i;
            while (i < len && s[i] != '$') {
                i++;
            }
            if (items) {
                items[n] = (re_tpl_item_t){.capture = -1, .off = start, .len = i - start};
            }
            n++;
            continue;
        }
        if (++i == len) {
            goto invalid;
        }
        if (s[i] == '$') {
            if (items) {
                items[n] = (re_tpl_item_t){.capture = -1, .off = i, .len = 1};
            }
            n++;
            i++;
            continue;
        }
        int num = s[i] >= '0' && s[i] <= '9', bracket = 0;
        if (s[i] == '{') {
            bracket = 1;
            if (++i == len) {
                goto invalid;
            }
            num = s[i] >= '0' && s[i] <= '9';
        }
        size_t name = i, name_len = 0, group = 0;
        for (; i < len; i++, name_len++) {
            char ch = s[i];
            if (ch == '}' && bracket) {
                i++;
                bracket = 0;
                break;
            }
            if (num) {
                if (ch < '0' || ch > '9') {
                    break;
                }
                group = group > 65535 ? group : group * 10 + (size_t)(ch - '0');
                continue;
            }
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '_')) {
                break;
            }
        }
        if (bracket) {
            if (log) {
                re_log(MG_LOG_ERR, "the closing bracket in \"%.*s\" variable is missing", s + name,
                       name_len);
            }
            return -1;
        }
        if (name_len == 0) {
            goto invalid;
        }
        if (!num) {
            if (log) {
                re_log(MG_LOG_ERR,
                       "attempt to use named capturing variable \"%.*s\" (named captures not "
                       "supported yet)",
                       s + name, name_len);
            }
            return -1;
        }
        if (items) {
            items[n] = (re_tpl_item_t){.capture = (int)group};
        }
        n++;
    }
    return n;

invalid:
    if (log) {
        re_log(MG_LOG_ERR, "lua script: invalid capturing variable name found in \"%.*s\"", s, len);
    }
    return -1;
}

/* ---- compiling ---- */

/* lua-nginx-module's option letters. */
static const struct {
    char letter;
    uint32_t options;
    int flags;
} re_letters[] = {
    {'o', 0, RE_CACHE},
    {'j', 0, RE_JIT},
    {'d', 0, RE_DFA},
    {'i', PCRE2_CASELESS, 0},
    {'s', PCRE2_DOTALL, 0},
    {'m', PCRE2_MULTILINE, 0},
    {'x', PCRE2_EXTENDED, 0},
    {'a', PCRE2_ANCHORED, 0},
    {'u', PCRE2_UTF, RE_UTF},
    {'U', PCRE2_UTF, RE_UTF | RE_NO_UTF_CHECK},
    {'D', PCRE2_DUPNAMES, RE_DUPNAMES},
    /* pcre2's documented replacement for PCRE_JAVASCRIPT_COMPAT */
    {'J', PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF, 0},
};

/* Parses the option letters; an unknown one is a Lua error, as in OpenResty. */
static void re_parse_opts(lua_State *L, const char *opts, size_t len, uint32_t *options, int *flags)
{
    *options = 0;
    *flags = 0;
    for (size_t i = 0; i < len; i++) {
        size_t k = 0;
        while (k < mg_nelems(re_letters) && re_letters[k].letter != opts[i]) {
            k++;
        }
        if (k == mg_nelems(re_letters)) {
            luaL_error(L, "unknown flag \"%c\" (flags \"%s\")", opts[i], opts);
        }
        *options |= re_letters[k].options;
        *flags |= re_letters[k].flags;
    }
}

/*
 * Pushes the compiled regex for the pattern at index pat and the options at index opt (nil:
 * none), with the replacement template tpl compiled in when tpl is not NULL. Taken from or
 * added to the VM's cache (upvalue 2) with the `o` option. On failure pushes the error message
 * instead and returns NULL.
 */
static re_compiled_t *re_compile(lua_State *L, re_vm_t *vm, int pat, int opt, const char *tpl,
                                 size_t tpl_len)
{
    size_t plen, olen = 0;
    /* lua-resty-core takes #regex and #opts: the Lua errors for other types are OpenResty's;
     * no options (nil or false) and a table (of length 0) are none */
    if (lua_type(L, pat) != LUA_TSTRING) {
        luaL_error(L, "attempt to get length of local 'regex' (a %s value)", luaL_typename(L, pat));
    }
    const char *p = lua_tolstring(L, pat, &plen);
    const char *o = "";
    if (lua_type(L, opt) == LUA_TSTRING) {
        o = lua_tolstring(L, opt, &olen);
    } else if (lua_toboolean(L, opt) && !lua_istable(L, opt)) {
        luaL_error(L, "attempt to get length of local 'opts' (a %s value)", luaL_typename(L, opt));
    }
    uint32_t options;
    int flags;
    re_parse_opts(L, o, olen, &options, &flags);

    mg_int_t cache_max = mg_lua_cur.lmcf ? mg_lua_cur.lmcf->regex_cache_max_entries : 1024;
    int key = 0;
    if ((flags & RE_CACHE) && cache_max > 0) {
        /* options as written ("jo" and "oj" are two entries, as in OpenResty) */
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addchar(&b, tpl ? 't' : 'r');
        luaL_addlstring(&b, o, olen);
        luaL_addchar(&b, '\0');
        luaL_addlstring(&b, p, plen);
        if (tpl) {
            luaL_addchar(&b, '\0');
            luaL_addlstring(&b, tpl, tpl_len);
        }
        luaL_pushresult(&b);
        key = lua_gettop(L);
        lua_pushvalue(L, key);
        lua_rawget(L, lua_upvalueindex(2));
        if (!lua_isnil(L, -1)) {
            lua_remove(L, key);
            re_compiled_t *hit = lua_touserdata(L, -1);
            if (!tpl) {
                re_lru_unlink(&hit->lru);
                re_lru_push(vm, &hit->lru);
            }
            return hit;
        }
        lua_pop(L, 1);
    }

    /* the userdata first, so that the pcre2 code has an owner before anything can fail */
    int ntpl = tpl ? tpl_parse(tpl, tpl_len, NULL, 0) : 0;
    size_t size = sizeof(re_compiled_t);
    if (ntpl > 0) {
        size += (size_t)ntpl * sizeof(re_tpl_item_t) + tpl_len;
    }
    re_compiled_t *re = lua_newuserdata(L, size);
    memset(re, 0, sizeof(*re));
    lua_pushvalue(L, lua_upvalueindex(3));
    lua_setmetatable(L, -2);

    int errcode;
    PCRE2_SIZE erroff;
    re->code = pcre2_compile((PCRE2_SPTR)p, plen, options, &errcode, &erroff, NULL);
    if (re->code == NULL) {
        lua_pop(L, 1);
        if (key) {
            lua_remove(L, key);
        }
        PCRE2_UCHAR msg[RE_ERRSTR_SIZE];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addstring(&b, "pcre2_compile() failed: ");
        luaL_addstring(&b, (char *)msg);
        luaL_addstring(&b, " in \"");
        luaL_addlstring(&b, p, plen);
        luaL_addchar(&b, '"');
        if (erroff < plen) {
            luaL_addstring(&b, " at \"");
            luaL_addstring(&b, p + erroff);
            luaL_addchar(&b, '"');
        }
        luaL_pushresult(&b);
        size_t len;
        const char *err = lua_tolstring(L, -1, &len);
        if (len >= RE_ERRSTR_SIZE) {
            lua_pushlstring(L, err, RE_ERRSTR_SIZE - 1);
            lua_remove(L, -2);
        }
        return NULL;
    }
    if (ntpl < 0) { /* a regex error comes first; now say what is wrong with the template */
        tpl_parse(tpl, tpl_len, NULL, 1);
        re_release(re);
        lua_pop(L, 1);
        if (key) {
            lua_remove(L, key);
        }
        lua_pushliteral(L, "failed to compile the replacement template");
        return NULL;
    }
    if (flags & RE_JIT) {
        pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* failure: the interpreter matches */
    }
    re->flags = flags;
    if (!(flags & RE_DFA)) {
        pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->ncaptures);
    }
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &re->nnames);
    if (re->nnames) {
        pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &re->name_entry);
        pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &re->names);
    }
    if (tpl) {
        re->tpl = (re_tpl_item_t *)(re + 1);
        re->ntpl = (size_t)ntpl;
        char *text = (char *)(re->tpl + ntpl);
        memcpy(text, tpl, tpl_len);
        re->tpl_text = text;
        tpl_parse(text, tpl_len, re->tpl, 0);
    }

    /* As lua-resty-core: the regexes without a template are an LRU cache of cache_max entries
     * (the least recently used goes for a new one); those with a template fill up to cache_max,
     * later ones are compiled for each call. No warning either way. */
    if (key && (!tpl || vm->tpl_used < cache_max)) {
        int cache = lua_upvalueindex(2);
        if (!tpl && vm->lru_used >= cache_max) {
            /* an evicted regex still in use (a gmatch iterator) stays `cached`: its __gc frees
             * it, never a release */
            re_compiled_t *old = (re_compiled_t *)vm->lru.prev;
            re_lru_unlink(&old->lru);
            lua_rawgeti(L, cache, old->key_ref);
            lua_pushnil(L);
            lua_rawset(L, cache);
            luaL_unref(L, cache, old->key_ref);
            vm->lru_used--;
        }
        vm->cache_used++;
        re->cached = 1;
        lua_pushvalue(L, key);
        lua_pushvalue(L, -2);
        lua_rawset(L, cache);
        if (tpl) {
            vm->tpl_used++;
        } else {
            lua_pushvalue(L, key);
            re->key_ref = luaL_ref(L, cache);
            re_lru_push(vm, &re->lru);
            vm->lru_used++;
        }
    }
    if (key) {
        lua_remove(L, key);
    }
    return re;
}

/* ---- matching ---- */

#define RE_OV_LOCAL 32 /* pairs of offsets kept on the C stack; more go in a userdata */

/* Room for the offsets of re's groups: ov_local when it is big enough, else a userdata pushed
 * on L's stack (call before luaL_buffinit). The offsets are copied out of the VM's match data
 * at once because any Lua code (a replacement function, ctx's __newindex, a finalizer run by
 * an allocation) may use ngx.re and so that match data. */
static PCRE2_SIZE *re_ovector(lua_State *L, re_compiled_t *re, PCRE2_SIZE *ov_local)
{
    if (re->ncaptures + 1 <= RE_OV_LOCAL) {
        return ov_local;
    }
    return lua_newuserdata(L, 2 * sizeof(PCRE2_SIZE) * (re->ncaptures + 1));
}

/* Runs the regex on s from byte pos and copies the offsets of [0] and every group to ov
 * (PCRE2_UNSET for those not set). Returns pcre2's code: the number of pairs set (DFA: 1),
 * PCRE2_ERROR_NOMATCH or another error. utf_checked (NULL for one match): set once pcre2 has
 * found s valid UTF-8, so that later matches on s from further on skip the check. */
static int re_exec(re_vm_t *vm, re_compiled_t *re, const char *s, size_t len, size_t pos,
                   PCRE2_SIZE *ov, int *utf_checked)
{
    if (vm->md == NULL || vm->md_pairs < re->ncaptures + 1) {
        pcre2_match_data_free(vm->md);
        vm->md_pairs = mg_max(re->ncaptures + 1, 16);
        vm->md = pcre2_match_data_create(vm->md_pairs, NULL);
        if (vm->md == NULL) {
            vm->md_pairs = 0;
            return PCRE2_ERROR_NOMEMORY;
        }
    }
    uint32_t options = (re->flags & RE_NO_UTF_CHECK) ? PCRE2_NO_UTF_CHECK : 0;
    if ((re->flags & RE_UTF) && utf_checked && *utf_checked) {
        /* pcre2 would check the rest of the subject again on every call (quadratic in gsub);
         * what it still checks for us is that pos starts a character */
        if (pos < len && ((unsigned char)s[pos] & 0xc0) == 0x80) {
            return PCRE2_ERROR_BADUTFOFFSET;
        }
        options |= PCRE2_NO_UTF_CHECK;
    }
    int rc;
    if (re->flags & RE_DFA) {
        int ws[RE_DFA_WORKSPACE];
        rc = pcre2_dfa_match(re->code, (PCRE2_SPTR)s, len, pos, options, vm->md, NULL, ws,
                             RE_DFA_WORKSPACE);
        /* the longest match comes first; the shorter ones are not reported (0: more of them
         * than pairs) */
        rc = rc >= 0 ? 1 : rc;
    } else {
        mg_int_t limit = mg_lua_cur.lmcf ? mg_lua_cur.lmcf->regex_match_limit : 0;
        if (limit > 0 && vm->match_limit != (uint32_t)limit) {
            if (vm->mctx == NULL) {
                vm->mctx = pcre2_match_context_create(NULL);
            }
            if (vm->mctx) {
                pcre2_set_match_limit(vm->mctx, (uint32_t)limit);
                vm->match_limit = (uint32_t)limit;
            }
        }
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, pos, options, vm->md, vm->mctx);
    }
    if (utf_checked && pos == 0 && (rc > 0 || rc == PCRE2_ERROR_NOMATCH)) {
        *utf_checked = 1; /* from offset 0 pcre2 checked the whole subject */
    }
    if (rc > 0) {
        PCRE2_SIZE *md = pcre2_get_ovector_pointer(vm->md);
        uint32_t set = mg_min((uint32_t)rc, re->ncaptures + 1);
        memcpy(ov, md, 2 * sizeof(PCRE2_SIZE) * set);
        for (uint32_t i = 2 * set; i < 2 * (re->ncaptures + 1); i++) {
            ov[i] = PCRE2_UNSET;
        }
    }
    return rc;
}

static void re_push_exec_error(lua_State *L, int rc)
{
    if (rc == 0) {
        lua_pushliteral(L, "capture size too small");
    } else {
        /* resty.core's wording, with pcre2's error code; but the match limit's is the -8
         * lua_regex_match_limit documents (PCRE1's PCRE_ERROR_MATCHLIMIT) */
        lua_pushfstring(L, "pcre_exec() failed: %d", rc == PCRE2_ERROR_MATCHLIMIT ? -8 : rc);
    }
}

/* Fills the captures table at the top of the stack: [0] and every group (false when unset),
 * then the named groups (with D a list of the matched ones). */
static void re_fill_captures(lua_State *L, re_compiled_t *re, const char *s, PCRE2_SIZE *ov)
{
    for (uint32_t i = 0; i <= re->ncaptures; i++) {
        size_t from = ov[2 * i], to = ov[2 * i + 1];
        if (from != PCRE2_UNSET) {
            lua_pushlstring(L, s + from, to > from ? to - from : 0);
        } else {
            lua_pushboolean(L, 0);
        }
        lua_rawseti(L, -2, (int)i);
    }
    for (uint32_t i = 0; i < re->nnames; i++) {
        PCRE2_SPTR e = re->names + (size_t)i * re->name_entry;
        int n = (e[0] << 8) | e[1];
        lua_pushstring(L, (const char *)e + 2);
        lua_rawgeti(L, -2, n); /* nil past the groups reported (DFA) */
        if (!(re->flags & RE_DUPNAMES)) {
            lua_rawset(L, -3);
            continue;
        }
        if (!lua_toboolean(L, -1)) { /* unmatched groups are left out of the list */
            lua_pop(L, 2);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_rawget(L, -4);
        if (lua_istable(L, -1)) {
            lua_insert(L, -2);
            lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
            lua_pop(L, 2);
        } else {
            lua_pop(L, 1);
            lua_createtable(L, 2, 0);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
            lua_rawset(L, -3);
        }
    }
}

static void re_push_captures(lua_State *L, re_compiled_t *re, const char *s, PCRE2_SIZE *ov)
{
    lua_createtable(L, (int)re->ncaptures, (int)re->nnames);
    re_fill_captures(L, re, s, ov);
}

/* tostring() of the value at idx, in place (an absolute index of an existing slot). */
static const char *re_tostring(lua_State *L, int idx, size_t *len)
{
    if (lua_type(L, idx) != LUA_TSTRING) {
        lua_getglobal(L, "tostring");
        lua_pushvalue(L, idx);
        lua_call(L, 1, 1);
        if (!lua_isstring(L, -1)) {
            luaL_error(L, "'tostring' must return a string");
        }
        lua_replace(L, idx);
    }
    return lua_tolstring(L, idx, len);
}

/* The start offset from ctx.pos (1-based; nil or <= 0: the start; past the end: len + 1,
 * which pcre2 refuses, as pcre did). */
static size_t re_ctx_pos(lua_State *L, int ctx, size_t len)
{
    lua_getfield(L, ctx, "pos");
    int t = lua_type(L, -1);
    lua_Number pos = lua_tonumber(L, -1);
    if (t != LUA_TNIL && t != LUA_TNUMBER && !(t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
        luaL_error(L, "attempt to compare %s with number", lua_typename(L, t));
    }
    lua_pop(L, 1);
    if (t != LUA_TNUMBER || !(pos > 1)) {
        return 0;
    }
    return pos - 1 > (lua_Number)len ? len + 1 : (size_t)(pos - 1);
}

/* Pushes what match or find returns for a match whose pcre2 code is rc. */
static int re_match_result(lua_State *L, re_compiled_t *re, int rc, const char *s, PCRE2_SIZE *ov,
                           int find, lua_Number nth)
{
    if (rc == PCRE2_ERROR_NOMATCH) {
        lua_pushnil(L);
        return 1;
    }
    if (rc <= 0) {
        lua_pushnil(L);
        if (find) {
            lua_pushnil(L);
        }
        re_push_exec_error(L, rc);
        return find ? 3 : 2;
    }

    if (!find) {
        if (lua_istable(L, 5)) {
            lua_pushvalue(L, 5);
            re_fill_captures(L, re, s, ov);
        } else {
            re_push_captures(L, re, s, ov);
        }
        return 1;
    }
    if (!(nth >= 0)) {
        nth = 0;
    }
    if (nth > re->ncaptures) {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushliteral(L, "nth out of bound");
        return 3;
    }
    size_t n = (size_t)nth;
    if (nth >= rc || ov[2 * n] == PCRE2_UNSET) {
        lua_pushnil(L);
        lua_pushnil(L);
    } else {
        lua_pushnumber(L, (lua_Number)ov[2 * n] + 1);
        lua_pushnumber(L, (lua_Number)ov[2 * n + 1]);
    }
    return 2;
}

/* ngx.re.match(subject, regex, options?, ctx?, res?) and ngx.re.find(subject, regex, options?,
 * ctx?, nth?) */
static int re_match_or_find(lua_State *L, int find)
{
    re_vm_t *vm = lua_touserdata(L, lua_upvalueindex(1));
    lua_settop(L, 5);
    size_t len;
    const char *s = re_tostring(L, 1, &len);
    int ctx = lua_toboolean(L, 4) ? 4 : 0;
    if (!find && !lua_isnil(L, 5)) {
        luaL_checktype(L, 5, LUA_TTABLE);
    }

    re_compiled_t *re = re_compile(L, vm, 2, 3, NULL, 0);
    if (re == NULL) {
        lua_pushnil(L);
        lua_insert(L, -2);
        if (find) {
            lua_pushnil(L);
            lua_insert(L, -2);
            return 3;
        }
        return 2;
    }
    /* after the regex, as lua-resty-core reads ctx.pos and compares nth */
    if (ctx && !lua_istable(L, ctx)) {
        re_release(re);
        return luaL_error(L, "attempt to index local 'ctx' (a %s value)", luaL_typename(L, ctx));
    }
    lua_Number nth = find && lua_toboolean(L, 5) ? lua_tonumber(L, 5) : 0;
    size_t pos = ctx ? re_ctx_pos(L, ctx, len) : 0;
    PCRE2_SIZE ov_local[2 * RE_OV_LOCAL];
    PCRE2_SIZE *ov = re_ovector(L, re, ov_local);
    int rc = re_exec(vm, re, s, len, pos, ov, NULL);
    if (rc > 0 && find && lua_toboolean(L, 5) && lua_type(L, 5) != LUA_TNUMBER) {
        re_release(re); /* lua-resty-core compares nth once it has a match */
        return luaL_error(L, "attempt to compare %s with number", luaL_typename(L, 5));
    }
    int nres = re_match_result(L, re, rc, s, ov, find, nth);
    re_release(re); /* after the captures: the name table is in pcre2's code */
    if (ctx && rc > 0) {
        lua_pushnumber(L, (lua_Number)ov[1] + 1);
        lua_setfield(L, ctx, "pos");
    }
    return nres;
}

static int mg_lua_re_match(lua_State *L)
{
    return re_match_or_find(L, 0);
}

static int mg_lua_re_find(lua_State *L)
{
    return re_match_or_find(L, 1);
}

/* The gmatch iterator; upvalues: VM state, compiled regex, subject, next offset (-1: done),
 * whether the subject was found valid UTF-8. */
static int re_gmatch_iter(lua_State *L)
{
    re_vm_t *vm = lua_touserdata(L, lua_upvalueindex(1));
    re_compiled_t *re = lua_touserdata(L, lua_upvalueindex(2));
    size_t len;
    const char *s = lua_tolstring(L, lua_upvalueindex(3), &len);
    lua_Number pos = lua_tonumber(L, lua_upvalueindex(4));
    if (pos < 0 || re->code == NULL) {
        lua_pushnil(L);
        return 1;
    }
    PCRE2_SIZE ov_local[2 * RE_OV_LOCAL];
    PCRE2_SIZE *ov = re_ovector(L, re, ov_local);
    int checked = lua_toboolean(L, lua_upvalueindex(5));
    int rc = re_exec(vm, re, s, len, (size_t)pos, ov, &checked);
    lua_pushboolean(L, checked);
    lua_replace(L, lua_upvalueindex(5));
    lua_Number next = -1;
    if (rc > 0) {
        next = (lua_Number)ov[1];
        if (ov[1] == ov[0]) { /* an empty match: the next try starts one byte further */
            next = ov[1] + 1 > len ? -1 : (lua_Number)ov[1] + 1;
        }
    }
    lua_pushnumber(L, next);
    lua_replace(L, lua_upvalueindex(4));
    int nres = 1;
    if (rc > 0) {
        re_push_captures(L, re, s, ov);
    } else {
        lua_pushnil(L);
        if (rc != PCRE2_ERROR_NOMATCH) {
            re_push_exec_error(L, rc);
            nres = 2;
        }
    }
    if (next < 0) {
        re_release(re); /* after the captures: the name table is in pcre2's code */
    }
    return nres;
}

/* ngx.re.gmatch(subject, regex, options?) */
static int mg_lua_re_gmatch(lua_State *L)
{
    re_vm_t *vm = lua_touserdata(L, lua_upvalueindex(1));
    lua_settop(L, 3);
    re_tostring(L, 1, NULL);
    re_compiled_t *re = re_compile(L, vm, 2, 3, NULL, 0);
    if (re == NULL) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, -2);
    lua_pushvalue(L, 1);
    lua_pushnumber(L, 0);
    lua_pushboolean(L, 0);
    lua_pushcclosure(L, re_gmatch_iter, 5);
    return 1;
}

/* Appends the template's expansion for the match in ov (rc pairs set). */
static void re_add_template(luaL_Buffer *b, re_compiled_t *re, const char *s, PCRE2_SIZE *ov,
                            int rc)
{
    for (size_t i = 0; i < re->ntpl; i++) {
        re_tpl_item_t *it = &re->tpl[i];
        if (it->capture < 0) {
            luaL_addlstring(b, re->tpl_text + it->off, it->len);
            continue;
        }
        /* a group past those reported, unset or not in the regex at all: nothing */
        size_t n = (size_t)it->capture;
        if (n < (size_t)rc && ov[2 * n] != PCRE2_UNSET && ov[2 * n + 1] > ov[2 * n]) {
            luaL_addlstring(b, s + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
        }
    }
}

/* ngx.re.sub / ngx.re.gsub(subject, regex, replace, options?): replace is a template string
 * (anything else goes through tostring()) or a function given the captures table. */
static int re_sub(lua_State *L, int global)
{
    re_vm_t *vm = lua_touserdata(L, lua_upvalueindex(1));
    lua_settop(L, 4);
    int func = lua_isfunction(L, 3);
    size_t tpl_len = 0;
    const char *tpl = func ? NULL : re_tostring(L, 3, &tpl_len);
    re_compiled_t *re = re_compile(L, vm, 2, 4, tpl, tpl_len);
    if (re == NULL) {
        lua_pushnil(L);
        lua_insert(L, -2);
        lua_pushnil(L);
        lua_insert(L, -2);
        return 3;
    }
    size_t len;
    const char *s = re_tostring(L, 1, &len);
    PCRE2_SIZE ov_local[2 * RE_OV_LOCAL];
    PCRE2_SIZE *ov = re_ovector(L, re, ov_local);

    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t pos = 0, copied = 0;
    int count = 0, checked = 0;
    for (;;) {
        int rc = re_exec(vm, re, s, len, pos, ov, &checked);
        if (rc == PCRE2_ERROR_NOMATCH) {
            break;
        }
        if (rc <= 0) {
            re_release(re);
            lua_pushnil(L);
            lua_pushnil(L);
            re_push_exec_error(L, rc);
            return 3;
        }
        count++;
        size_t from = ov[0], to = ov[1];
        if (from > copied) {
            luaL_addlstring(&b, s + copied, from - copied);
        }
        if (func) {
            lua_pushvalue(L, 3);
            re_push_captures(L, re, s, ov);
            lua_call(L, 1, 1);
            re_tostring(L, lua_gettop(L), NULL);
            luaL_addvalue(&b);
        } else {
            re_add_template(&b, re, s, ov, rc);
        }
        copied = to;
        pos = to;
        if (pos == from && ++pos > len) { /* an empty match: the next try starts one byte on */
            break;
        }
        if (!global) {
            break;
        }
    }
    re_release(re);

    if (count == 0) {
        lua_pushvalue(L, 1);
        lua_pushinteger(L, 0);
        return 2;
    }
    if (copied < len) {
        luaL_addlstring(&b, s + copied, len - copied);
    }
    luaL_pushresult(&b);
    lua_pushinteger(L, count);
    return 2;
}

static int mg_lua_re_sub(lua_State *L)
{
    return re_sub(L, 0);
}

static int mg_lua_re_gsub(lua_State *L)
{
    return re_sub(L, 1);
}

void mg_lua_inject_regex_api(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"match", mg_lua_re_match}, {"find", mg_lua_re_find}, {"gmatch", mg_lua_re_gmatch},
        {"sub", mg_lua_re_sub},     {"gsub", mg_lua_re_gsub}, {NULL, NULL},
    };

    re_vm_t *vm = lua_newuserdata(L, sizeof(re_vm_t));
    memset(vm, 0, sizeof(*vm));
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, re_vm_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushlightuserdata(L, &opt_key);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, re_opt, 1);
    lua_rawset(L, LUA_REGISTRYINDEX);

    lua_createtable(L, 0, 16); /* the `o` cache */
    lua_createtable(L, 0, 1);  /* compiled regexes' metatable */
    lua_pushcfunction(L, re_compiled_gc);
    lua_setfield(L, -2, "__gc");

    lua_createtable(L, 0, 5); /* ngx.re */
    for (const luaL_Reg *f = funcs; f->name; f++) {
        lua_pushvalue(L, -4);
        lua_pushvalue(L, -4);
        lua_pushvalue(L, -4);
        lua_pushcclosure(L, f->func, 3);
        lua_setfield(L, -2, f->name);
    }
    lua_setfield(L, -5, "re");
    lua_pop(L, 3);
}
