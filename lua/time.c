/*
 * The ngx.* clock and date functions. They read the worker's cached clock (core/mgtime.h,
 * refreshed once per event-loop turn, or by ngx.update_time), so code running in one turn
 * sees one time, as in nginx. Formats and argument checks follow lua-resty-core 0.1.25.
 */
#include "mg.h"

#include "api.h"
#include "mgtime.h"

#include <event2/event.h>

/* nginx's ngx_gmtime range: before the epoch is the epoch, after 9999 is its last second */
#define TIME_MAX 253402300799.0

static int mg_lua_time_time(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)mg_now.sec);
    return 1;
}

static int mg_lua_time_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)mg_now.msec / 1000.0);
    return 1;
}

static int mg_lua_time_update_time(lua_State *L)
{
    (void)L;
    mg_time_refresh(); /* even under timer_resolution */
    /* and the loop's clock the Lua timers (ngx.sleep, semaphore waits, cosocket timeouts,
     * ngx.timer.at) count from, as nginx's ngx_current_msec: a wait started after a long
     * computation and this call lasts its whole time */
    struct event_base *base = mg_lua_event_base();
    if (base) {
        event_base_update_cache_time(base);
    }
    return 0;
}

/* mg_now.err_log is the local "yyyy/mm/dd hh:mm:ss" of the cached second */
static int mg_lua_time_today(lua_State *L)
{
    char buf[10];
    memcpy(buf, mg_now.err_log, sizeof(buf));
    buf[4] = buf[7] = '-';
    lua_pushlstring(L, buf, sizeof(buf));
    return 1;
}

static int mg_lua_time_localtime(lua_State *L)
{
    char buf[19];
    memcpy(buf, mg_now.err_log, sizeof(buf));
    buf[4] = buf[7] = '-';
    lua_pushlstring(L, buf, sizeof(buf));
    return 1;
}

static int mg_lua_time_utctime(lua_State *L)
{
    struct tm tm;
    char buf[64];
    gmtime_r(&mg_now.sec, &tm);
    int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

/* The number argument of http_time/cookie_time as seconds in nginx's range. */
static time_t check_seconds(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TNUMBER) {
        luaL_error(L, "number argument only");
    }
    lua_Number t = lua_tonumber(L, 1);
    /* resty.core passes a C long: NaN and values past its range arrive as LONG_MIN on x86-64 */
    if (!(t >= 0) || t >= 0x1p63) {
        return 0;
    }
    return (time_t)(t > TIME_MAX ? TIME_MAX : t);
}

static int mg_lua_time_http_time(lua_State *L)
{
    char buf[64];
    mg_time_http(buf, check_seconds(L));
    lua_pushstring(L, buf);
    return 1;
}

/*
 * "Thu, 18-Nov-10 11:27:35 GMT": the HTTP date with dashes, and the year in two digits up
 * to 2037 (the old Netscape cookie format); later years keep four, as nginx prints them.
 */
static int mg_lua_time_cookie_time(lua_State *L)
{
    char buf[64];
    mg_time_http(buf, check_seconds(L)); /* "Thu, 18 Nov 2010 11:27:35 GMT" */
    buf[7] = buf[11] = '-';
    if (memcmp(buf + 12, "2037", 4) <= 0) {
        memmove(buf + 12, buf + 14, strlen(buf + 14) + 1);
    }
    lua_pushstring(L, buf);
    return 1;
}

static int mg_lua_time_parse_http_time(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TSTRING) {
        return luaL_error(L, "string argument only");
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    time_t t = mg_time_parse_http(s, len);
    /* -1 is also 1969-12-31 23:59:59; resty.core cannot tell them apart either */
    if (t == -1) {
        lua_pushnil(L);
    } else {
        lua_pushnumber(L, (lua_Number)t);
    }
    return 1;
}

void mg_lua_inject_time_api(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "time", mg_lua_time_time },
        { "now", mg_lua_time_now },
        { "update_time", mg_lua_time_update_time },
        { "today", mg_lua_time_today },
        { "localtime", mg_lua_time_localtime },
        { "utctime", mg_lua_time_utctime },
        { "http_time", mg_lua_time_http_time },
        { "cookie_time", mg_lua_time_cookie_time },
        { "parse_http_time", mg_lua_time_parse_http_time },
    };
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        lua_pushcfunction(L, fns[i].func);
        lua_setfield(L, -2, fns[i].name);
    }
}
