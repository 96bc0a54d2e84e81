/*
 * moongate's answers in nginx's terms (version.c): the version lines and configure arguments,
 * and which of nginx's loadable modules are built in.
 */
#ifndef MG_VERSION_H
#define MG_VERSION_H

#include <stdio.h>

/* The nginx release whose behaviour moongate follows (Debian 12's, which the tests compare with).
 */
#define MG_NGINX_VERSION "1.22.1"

/* "nginx version: ..." and, with configure set, "built by" and "configure arguments:". */
void mg_version_print(FILE *out, int configure);
struct mg_log_s;
void mg_version_log_status(struct mg_log_s *log);
/* Whether the module a load_module line names ("ngx_http_lua_module") is built into moongate. */
int mg_version_builtin(const char *dynamic_name);

#endif
