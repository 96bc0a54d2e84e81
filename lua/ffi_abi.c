/*
 * C functions under nginx's own names for Lua libraries that declare them with ffi.cdef and
 * call them through ffi.C, as OpenResty's lua-resty-string does (to_hex, atoi). The binary
 * exports every global (-rdynamic), so defining them is all a library needs; the names are
 * the ABI those libraries expect, hence no mg_ prefix.
 */
#include <stdint.h>

#include "mg.h"

#include "str.h"

uint8_t *ngx_hex_dump(uint8_t *dst, const uint8_t *src, size_t len);
intptr_t ngx_atoi(const uint8_t *line, size_t n);

/* Lowercase hex of src into dst (2 * len bytes, no NUL); returns the end. */
uint8_t *ngx_hex_dump(uint8_t *dst, const uint8_t *src, size_t len)
{
    return (uint8_t *)mg_hex_dump((char *)dst, src, len);
}

/* Decimal digits only; -1 (NGX_ERROR) when empty, not all digits or beyond intptr_t. */
intptr_t ngx_atoi(const uint8_t *line, size_t n)
{
    int64_t v = mg_atoi((const char *)line, n);
    return v > INTPTR_MAX ? -1 : (intptr_t)v;
}
