/*
 * ngx.sleep: the running coroutine yields to the event loop and a timer resumes it; other
 * requests go on meanwhile. One timer event per coroutine, reused.
 */
#include <event2/event.h>
#include <limits.h>
#include <math.h>

#include "api.h"

static void on_wakeup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_time_update();
    mg_lua_resume_co(arg, 0);
}

static int lua_sleep(lua_State *L)
{
    if (lua_gettop(L) != 1) {
        return luaL_error(L, "attempt to pass %d arguments, but accepted 1", lua_gettop(L));
    }
    lua_Number sec = luaL_checknumber(L, 1);
    if (isnan(sec) || sec * 1000 <= -1) {
        /* whole milliseconds, as lua-nginx-module counts (and names) them */
        lua_Number ms = isnan(sec) ? 0 : sec * 1000 < INT_MIN ? INT_MIN : sec * 1000;
        return luaL_error(L, "invalid sleep duration \"%d\"", (int)ms);
    }
    mg_lua_check_phase(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT | MG_LUA_TIMER |
                              MG_LUA_SSL_YIELDABLE);
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    mg_lua_co_t *co = mg_lua_cur.co;
    if (ctx == NULL || co == NULL || mg_lua_event_base() == NULL) {
        return luaL_error(L, "no request ctx found");
    }
    /* one timer per coroutine: light threads sleep independently */
    if (co->sleep_ev == NULL) {
        co->sleep_ev = evtimer_new(mg_lua_event_base(), on_wakeup, co);
    }
    /* milliseconds, as nginx's timers count */
    mg_msec_t ms = (mg_msec_t)(sec * 1000 + 0.5);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(co->sleep_ev, &tv);
    return mg_lua_wait(L, ctx);
}

void mg_lua_inject_sleep_api(lua_State *L)
{
    lua_pushcfunction(L, lua_sleep);
    lua_setfield(L, -2, "sleep");
}
