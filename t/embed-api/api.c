/*
 * t/813-embed-api.t's program: one server from a config file (relative to the prefix) plus
 * -g style directives, served on moongate's own loop in the main thread while another thread
 * drives it: HUP reloads (the verdict and the error string printed), USR1 runs Lua in the
 * server's VM, TERM stops it. A log callback that asked for warn and above prints what it
 * hears. Usage: api PREFIX DIRECTIVES
 */
#include <moongate.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static moongate_server_t *server;
static sigset_t driven;

/* /args: the raw query string, and whether the request knows its server */
static int args_handler(moongate_request_t *r, void *data)
{
    (void)data;
    size_t len;
    const char *args = moongate_request_args(r, &len);
    char body[256];
    int n = snprintf(body, sizeof(body), "args=%.*s own-server=%s\n", (int)len, args ? args : "",
                     moongate_request_server(r) == server ? "yes" : "no");
    moongate_response_header(r, "Content-Type", "text/plain");
    moongate_response_write(r, body, (size_t)n);
    return MOONGATE_OK;
}

/* answers nothing: the location's static file does */
static int declining_handler(moongate_request_t *r, void *data)
{
    (void)r;
    (void)data;
    return MOONGATE_DECLINED;
}

static void on_log(void *data, int level, const char *line, size_t len)
{
    (void)data;
    printf("LOG %d %.*s\n", level, (int)len, line);
    fflush(stdout);
}

/* the thread that is not the loop's: every call below comes from it */
static void *driver(void *arg)
{
    (void)arg;
    for (;;) {
        int sig;
        if (sigwait(&driven, &sig) != 0) {
            continue;
        }
        char error[512] = "";
        if (sig == SIGHUP) {
            int rc = moongate_server_reload(server, error, sizeof(error));
            printf("reload %d %s\n", rc, error);
        } else if (sig == SIGUSR1) {
            int rc = moongate_server_lua(server,
                                         "ngx.log(ngx.NOTICE, 'notice from C') "
                                         "ngx.log(ngx.WARN, 'warn from C')",
                                         error, sizeof(error));
            printf("lua %d %s\n", rc, error);
        } else if (sig == SIGTERM) {
            moongate_server_stop(server, 1);
            printf("stop asked\n");
            fflush(stdout);
            return NULL;
        }
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PREFIX DIRECTIVES\n", argv[0]);
        return 2;
    }
    char built[32];
    snprintf(built, sizeof(built), "%d.%d.%d", MOONGATE_VERSION_MAJOR, MOONGATE_VERSION_MINOR,
             MOONGATE_VERSION_PATCH);
    printf("version %d %d %s %s\n", MOONGATE_VERSION_NUMBER, moongate_version_number(), built,
           moongate_version());
    /* blocked in every thread (the server's loop too); the driver takes them with sigwait */
    sigemptyset(&driven);
    sigaddset(&driven, SIGHUP);
    sigaddset(&driven, SIGUSR1);
    sigaddset(&driven, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &driven, NULL);
    static const moongate_handler_t handlers[] = {
        {"args", args_handler, NULL},
        {"declines", declining_handler, NULL},
        {NULL, NULL, NULL},
    };
    moongate_options_t opts = {
        .prefix = argv[1],
        .conf_file = "conf/api.conf",
        .directives = argv[2][0] ? argv[2] : NULL,
        .error_log = "logs/early.log",
        .handlers = handlers,
        .log = on_log,
        .log_level = MOONGATE_LOG_WARN,
    };
    char error[512] = "";
    server = moongate_server_create(&opts, error, sizeof(error));
    if (server == NULL) {
        printf("create failed: %s\n", error);
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, driver, NULL);
    printf("serving\n");
    fflush(stdout);
    int rc = moongate_server_run(server);
    pthread_join(t, NULL);
    printf("run %d\n", rc);
    moongate_server_destroy(server);
    printf("destroyed\n");
    return rc == 0 ? 0 : 1;
}
