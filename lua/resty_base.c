/*
 * require "resty.core.base": the helpers third-party libraries take from lua-resty-core's base
 * module (Kong, APISIX, lua-resty-* FFI bindings): the FFI_* codes, table.new/table.clear,
 * reusable FFI buffers and out-pointers, ref_in_table's free list, allows_subsystem, the nginx
 * types their own ffi.cdef lines name, and get_request (the running request; context.c says
 * what it is outside one).
 */
#include "api.h"

#define RESTY_CORE_VERSION "0.1.25"

/* The token as a light userdata, or nil. */
static int get_request(lua_State *L)
{
    void *r = mg_lua_request_token();
    if (r) {
        lua_pushlightuserdata(L, r);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

/* Run with the C function; ngx.config.subsystem is read when the module is first required
 * (stream{}'s VM sets it after the preloads are in place). */
static const char base_source[] =
    "local get_request = ...\n"
    "local ffi = require 'ffi'\n"
    "local ffi_new, ceil, select, error, pcall = ffi.new, math.ceil, select, error, pcall\n"
    "local subsystem = ngx.config.subsystem\n"
    "\n"
    "-- the nginx types lua-resty-core declares, which libraries' ffi.cdef lines use\n"
    "local function declare(name, decl)\n"
    "  if not pcall(ffi.typeof, name) then ffi.cdef(decl) end\n"
    "end\n"
    "declare('ngx_str_t', 'typedef struct { size_t len; const unsigned char *data; } ngx_str_t;')\n"
    "if subsystem == 'stream' then\n"
    "  declare('ngx_stream_lua_request_t',\n"
    "          'typedef struct ngx_stream_lua_request_s ngx_stream_lua_request_t;')\n"
    "  declare('ngx_stream_lua_ffi_str_t', 'typedef struct { int len;'\n"
    "          .. ' const unsigned char *data; } ngx_stream_lua_ffi_str_t;')\n"
    "else\n"
    "  declare('ngx_http_request_t', 'typedef struct ngx_http_request_s ngx_http_request_t;')\n"
    "  declare('ngx_http_lua_ffi_str_t', 'typedef struct { int len;'\n"
    "          .. ' const unsigned char *data; } ngx_http_lua_ffi_str_t;')\n"
    "end\n"
    "\n"
    "local M = {\n"
    "  version = '" RESTY_CORE_VERSION "',\n"
    "  new_tab = require 'table.new', clear_tab = require 'table.clear',\n"
    "  FFI_OK = 0, FFI_ERROR = -1, FFI_AGAIN = -2, FFI_BUSY = -3, FFI_DONE = -4,\n"
    "  FFI_DECLINED = -5, FFI_NO_REQ_CTX = -100, FFI_BAD_CONTEXT = -101,\n"
    "}\n"
    "\n"
    "-- one shared buffer of buf_size bytes; a larger size, or must_alloc, gets a new one\n"
    "local char_buf = ffi.typeof('char[?]')\n"
    "local buf_size, buf, size_ptr, errmsg = 4096, nil, nil, nil\n"
    "function M.get_string_buf(size, must_alloc)\n"
    "  if must_alloc or size > buf_size then return ffi_new(char_buf, size) end\n"
    "  if not buf then buf = ffi_new(char_buf, buf_size) end\n"
    "  return buf\n"
    "end\n"
    "function M.get_string_buf_size() return buf_size end\n"
    "function M.set_string_buf_size(size)\n"
    "  if size > 0 then buf, buf_size = nil, ceil(size) end\n"
    "end\n"
    "function M.get_size_ptr()\n"
    "  if not size_ptr then size_ptr = ffi_new('size_t[1]') end\n"
    "  return size_ptr\n"
    "end\n"
    "function M.get_errmsg_ptr()\n"
    "  if not errmsg then errmsg = ffi_new('char *[1]') end\n"
    "  return errmsg\n"
    "end\n"
    "\n"
    "-- key goes in tb at an integer ref: the head of the free list tb[0] (a freed slot holds\n"
    "-- the next free one, as the libraries' unref writes it), else the end of the array\n"
    "function M.ref_in_table(tb, key)\n"
    "  if key == nil then return -1 end\n"
    "  local ref = tb[0]\n"
    "  if ref and ref ~= 0 then tb[0] = tb[ref] else ref = #tb + 1 end\n"
    "  tb[ref] = key\n"
    "  return ref\n"
    "end\n"
    "\n"
    "function M.allows_subsystem(...)\n"
    "  for i = 1, select('#', ...) do\n"
    "    if select(i, ...) == subsystem then return end\n"
    "  end\n"
    "  error('unsupported subsystem: ' .. subsystem, 2)\n"
    "end\n"
    "\n"
    "\n"
    "-- a void * cdata, or nil, as OpenResty's thread.exdata(): through the FFI, where the JIT\n"
    "-- compiles the call; a program linked without its symbols exported (docgen, an\n"
    "-- embedding) casts the C function's light userdata\n"
    "local function lookup() return ffi.C.mg_lua_request_token end\n"
    "local ok, token = pcall(lookup)\n"
    "if not ok then\n"
    "  pcall(ffi.cdef, 'void *mg_lua_request_token(void);')\n"
    "  ok, token = pcall(lookup)\n"
    "end\n"
    "if ok then\n"
    "  function M.get_request()\n"
    "    local r = token()\n"
    "    if r ~= nil then return r end\n"
    "  end\n"
    "else\n"
    "  local ffi_cast, void_ptr = ffi.cast, ffi.typeof('void *')\n"
    "  function M.get_request()\n"
    "    local r = get_request()\n"
    "    if r then return ffi_cast(void_ptr, r) end\n"
    "  end\n"
    "end\n"
    "return M\n";

int mg_lua_resty_base_open(lua_State *L)
{
    if (luaL_loadbuffer(L, base_source, sizeof(base_source) - 1, "=resty.core.base") != 0) {
        return lua_error(L);
    }
    lua_pushcfunction(L, get_request);
    lua_call(L, 1, 1);
    return 1;
}
