/*
 * A program that embeds moongate: GET /hello is answered by a C handler, GET /lua by a Lua
 * module this program registers, everything else by the config below. The server runs on a
 * thread of its own; the main thread waits for signals: HUP reloads through the API and
 * prints the verdict, TERM (or INT) stops the server gracefully.
 *
 *   make && ./embed 8080
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <moongate.h>

static int hello(moongate_request_t *r, void *data)
{
    (void)data;
    moongate_response_header(r, "Content-Type", "text/plain");
    const char *msg = "hello from C\n";
    moongate_response_write(r, msg, strlen(msg));
    return MOONGATE_OK;
}

/* C functions Lua code may call: require("embed").version() */
static int embed_version(lua_State *L)
{
    lua_pushstring(L, moongate_version());
    return 1;
}

static int open_embed(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, embed_version);
    lua_setfield(L, -2, "version");
    return 1;
}

static const char lua_hello[] = "return { handler = function() ngx.say('hello from Lua') end }";

static const char conf[] =
    "master_process off; daemon off; pid logs/embed.pid;\n"
    "error_log logs/error.log notice;\n"
    "events { worker_connections 64; }\n"
    "http {\n"
    "  access_log off;\n"
    "  server {\n"
    "    listen 127.0.0.1:%s;\n"
    "    location = /hello { handler hello; }\n"
    "    location = /lua { content_by_lua_block { require('hello').handler() } }\n"
    "    location = /version { content_by_lua_block { ngx.say(require('embed').version()) } }\n"
    "  }\n"
    "}\n";

static void on_log(void *data, int level, const char *line, size_t len)
{
    (void)data;
    if (level <= MOONGATE_LOG_WARN) {
        fprintf(stderr, "%.*s\n", (int)len, line);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [PREFIX]\n", argv[0]);
        return 2;
    }
    char text[sizeof(conf) + 16];
    snprintf(text, sizeof(text), conf, argv[1]);
    const moongate_handler_t handlers[] = {{"hello", hello, NULL}, {NULL, NULL, NULL}};
    const moongate_lua_module_t modules[] = {
        {"hello", NULL, lua_hello}, {"embed", open_embed, NULL}, {NULL, NULL, NULL}};
    moongate_options_t opts = {
        .prefix = argc > 2 ? argv[2] : ".",
        .conf_string = text,
        .handlers = handlers,
        .lua_modules = modules,
        .log = on_log,
    };

    /* the signals are waited for here, so every thread (the server's too) blocks them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    char error[1024];
    moongate_server_t *srv = moongate_server_create(&opts, error, sizeof(error));
    if (srv == NULL) {
        fprintf(stderr, "embed: %s\n", error);
        return 1;
    }
    if (moongate_server_start_thread(srv) != 0) {
        fprintf(stderr, "embed: cannot start the server's thread\n");
        return 1;
    }
    printf("embed: moongate %s serving on port %s\n", moongate_version(), argv[1]);
    fflush(stdout);
    for (;;) {
        int sig;
        sigwait(&set, &sig);
        if (sig == SIGHUP) {
            if (moongate_server_reload(srv, error, sizeof(error)) == 0) {
                printf("embed: reloaded\n");
            } else {
                printf("embed: reload failed: %s\n", error);
            }
            fflush(stdout);
            continue;
        }
        moongate_server_stop(srv, 1);
        break;
    }
    int rc = moongate_server_join(srv);
    moongate_server_destroy(srv);
    printf("embed: stopped\n");
    return rc == 0 ? 0 : 1;
}
