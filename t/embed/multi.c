/*
 * Two moongate servers in one process, for t/801-embed-multi.t: A on this program's own
 * event_base (attach), B on a thread of its own. Each answers /who from the same C handler
 * with its own data; A's /timer finishes from a libevent timer of the program, B's /thread
 * from another thread through moongate_server_post; /echo reads the body; /lua shows what
 * moongate_server_lua set in A's VM; the filter "upper" (/filtered/, and A's /static/) adds a
 * header naming the status and the X-Server it saw and upper-cases the body. Each captures its
 * error log (lua_capture_error_log: /note logs a line, /errlog lists the servers named by the
 * lines its ring holds); B has a log callback (its lines printed as "B log: "), A none (its
 * errors copied to stderr). /vm names the server whose module "whoami" (PREFIX/luaA or luaB)
 * a thread VM of ngx.run_worker_thread loaded. HUP: A reloads from a broken string (the error is
 * printed), B reloads; TERM: both stop gracefully. Usage: multi PORT_A PORT_B PREFIX
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <moongate.h>

static struct event_base *base;
static moongate_server_t *a, *b;

static int who(moongate_request_t *r, void *data)
{
    char buf[128];
    size_t ulen, mlen, hlen = 0;
    const char *uri = moongate_request_uri(r, &ulen);
    const char *method = moongate_request_method(r, &mlen);
    const char *h = moongate_request_header(r, "x-test", &hlen);
    const char *arg = moongate_request_arg(r, "q", NULL);
    int n = snprintf(buf, sizeof(buf), "%s %.*s %.*s x-test=%.*s q=%s\n", (const char *)data,
                     (int)mlen, method, (int)ulen, uri, (int)hlen, h ? h : "", arg ? "yes" : "no");
    moongate_response_status(r, 201 + (*(const char *)data - 'A'));
    moongate_response_header(r, "X-Server", data);
    moongate_response_write(r, buf, (size_t)n);
    return MOONGATE_OK;
}

static void timer_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    moongate_request_t *r = arg;
    if (!moongate_request_aborted(r)) {
        moongate_response_write(r, "tick\n", 5);
    }
    moongate_request_finish(r, MOONGATE_OK);
}

static int timer(moongate_request_t *r, void *data)
{
    (void)data;
    moongate_response_write(r, "wait\n", 5); /* streamed: sent before the timer fires */
    struct timeval tv = {0, 100000};
    event_base_once(base, -1, EV_TIMEOUT, timer_done, r, &tv);
    return MOONGATE_AGAIN;
}

static void thread_finish(void *arg)
{
    moongate_request_t *r = arg;
    moongate_response_write(r, "from another thread\n", 20);
    moongate_request_finish(r, MOONGATE_OK);
}

static void *worker(void *arg)
{
    usleep(20000);
    moongate_server_post(moongate_request_server(arg), thread_finish, arg);
    return NULL;
}

static int threaded(moongate_request_t *r, void *data)
{
    (void)data;
    pthread_t t;
    pthread_create(&t, NULL, worker, r);
    pthread_detach(t);
    return MOONGATE_AGAIN;
}

static void echo_body(moongate_request_t *r, void *data)
{
    (void)data;
    size_t len;
    const char *body = moongate_request_body(r, &len);
    moongate_response_header(r, "Content-Type", "application/octet-stream");
    moongate_response_write(r, "got:", 4);
    moongate_response_write(r, body ? body : "", len);
    moongate_request_finish(r, MOONGATE_OK);
}

static int echo(moongate_request_t *r, void *data)
{
    (void)data;
    int rc = moongate_request_read_body(r, echo_body, NULL);
    return rc ? rc : MOONGATE_AGAIN;
}

static int teapot(moongate_request_t *r, void *data)
{
    (void)r;
    (void)data;
    return 418;
}

static int upper_header(moongate_request_t *r, void *data)
{
    (void)data;
    char buf[64];
    size_t len = 0;
    const char *srv = moongate_response_get_header(r, "x-server", &len);
    if (srv == NULL) {
        srv = "-";
        len = 1;
    }
    snprintf(buf, sizeof(buf), "%d %.*s", moongate_response_get_status(r), (int)len, srv);
    moongate_response_header(r, "X-Seen", buf);
    return MOONGATE_OK;
}

static int upper_body(moongate_request_t *r, const char *chunk, size_t len, int last, void *data)
{
    (void)data;
    char buf[4096];
    while (len) {
        size_t n = len < sizeof(buf) ? len : sizeof(buf);
        for (size_t i = 0; i < n; i++) {
            buf[i] = (char)(chunk[i] >= 'a' && chunk[i] <= 'z' ? chunk[i] - 32 : chunk[i]);
        }
        moongate_filter_write(r, buf, n);
        chunk += n;
        len -= n;
    }
    if (last) {
        moongate_filter_write(r, "(END)\n", 6);
    }
    return MOONGATE_OK;
}

/* B's log callback (on B's thread) */
static void on_log(void *data, int level, const char *line, size_t len)
{
    (void)data;
    (void)level;
    printf("B log: %.*s\n", (int)len, line);
    fflush(stdout);
}

static const char conf_fmt[] =
    "master_process off; daemon off; pid logs/%s.pid; error_log logs/%s.log info;\n"
    "thread_pool work threads=1;\n"
    "events { worker_connections 64; }\n"
    "http { access_log off; lua_capture_error_log 16k; lua_package_path '%s/lua%s/?.lua;;';\n"
    "  lua_shared_dict box 1m;\n"
    "  server { listen 127.0.0.1:%s; set $who %s;\n"
    "    location = /note { content_by_lua_block { ngx.log(ngx.ERR, 'note from ', ngx.var.who)\n"
    "      ngx.say('noted') } }\n"
    "    location = /vm { content_by_lua_block {\n"
    "      ngx.say(select(2, ngx.run_worker_thread('work', 'whoami', 'name'))) } }\n"
    "    location = /errlog { content_by_lua_block {\n"
    "      local logs, who = require('ngx.errlog').get_logs(100), {}\n"
    "      for i = 3, #logs, 3 do who[#who + 1] = logs[i]:match('note from (%%a)') end\n"
    "      ngx.say(table.concat(who, ' ')) } }\n"
    "    location /who { handler who; }\n"
    "    location = /timer { handler timer; }\n"
    "    location = /thread { handler threaded; }\n"
    "    location = /echo { client_body_buffer_size 1k; handler echo; }\n"
    "    location = /teapot { teapot; }\n"
    "    location = /status { stub_status; }\n"
    "    location = /lua { content_by_lua_block { ngx.say(require('state').v or 'unset') } }\n"
    "    location = /dict { content_by_lua_block { local box = ngx.shared.box\n"
    "      if ngx.var.arg_set then box:set('k', ngx.var.arg_set) end\n"
    "      ngx.say(box:get('k') or 'empty') } }\n"
    "    location = /hang { content_by_lua_block { ngx.sleep(60) ngx.say('late') } }\n"
    "    location /filtered/ { filter upper; handler who; }\n"
    "    location /static/ { filter %s; alias html/; }\n"
    "  }\n"
    "}\n";

static moongate_server_t *make(const char *name, const char *port, const char *prefix)
{
    static char texts[2][4096];
    char *text = texts[name[0] - 'A'];
    snprintf(text, 4096, conf_fmt, name, name, prefix, name, port, name,
             name[0] == 'A' ? "upper" : "off");
    moongate_handler_t handlers[] = {{"who", who, (void *)name},   {"timer", timer, NULL},
                                     {"threaded", threaded, NULL}, {"echo", echo, NULL},
                                     {"teapot", teapot, NULL},     {NULL, NULL, NULL}};
    moongate_lua_module_t mods[] = {{"state", NULL, "return {}"}, {NULL, NULL, NULL}};
    /* both register it; B's config turns it off */
    moongate_filter_t filters[] = {{"upper", upper_header, upper_body, NULL},
                                   {NULL, NULL, NULL, NULL}};
    moongate_options_t opts = {.prefix = prefix,
                               .conf_string = text,
                               .error_log = "stderr",
                               .handlers = handlers,
                               .lua_modules = mods,
                               .filters = filters,
                               .log = name[0] == 'B' ? on_log : NULL};
    char error[512];
    moongate_server_t *srv = moongate_server_create(&opts, error, sizeof(error));
    if (srv == NULL) {
        printf("create %s failed: %s\n", name, error);
        exit(1);
    }
    return srv;
}

static void on_hup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    char error[512];
    int rc = moongate_server_reload_string(
        a, "events { worker_connections 64; } http { server { location / { teapot 1; } } }", error,
        sizeof(error));
    printf("reload A args: %d %s\n", rc, error);
    rc = moongate_server_reload_string(
        a, "events { worker_connections 64; } http { server { teapot; } }", error, sizeof(error));
    printf("reload A server: %d %s\n", rc, error);
    rc = moongate_server_reload_string(a, "events { worker_connections 64; } http { bogus; }",
                                       error, sizeof(error));
    printf("reload A: %d %s\n", rc, error);
    rc = moongate_server_reload(b, error, sizeof(error));
    printf("reload B: %d %s\n", rc, error);
    fflush(stdout);
}

static void on_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (moongate_server_stopped(a)) {
        event_base_loopexit(base, NULL);
    }
}

static void on_term(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    moongate_server_stop(a, 1); /* graceful: A's requests finish */
    moongate_server_stop(b, 0); /* at once: B's requests in flight are cut */
    struct timeval tv = {0, 10000};
    struct event *check = event_new(base, -1, EV_PERSIST, on_check, NULL);
    event_add(check, &tv);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        return 2;
    }
    base = event_base_new();
    a = make("A", argv[1], argv[3]);
    b = make("B", argv[2], argv[3]);
    char error[512];
    if (moongate_server_lua(a, "require('state').v = 'set from C'", error, sizeof(error)) != 0 ||
        moongate_server_lua(b, "error('boom')", error, sizeof(error)) == 0) {
        printf("lua: unexpected result: %s\n", error);
        return 1;
    }
    printf("lua error: %s\n", error);
    if (moongate_server_attach(a, base) != 0 || moongate_server_start_thread(b) != 0) {
        return 1;
    }
    event_add(evsignal_new(base, SIGHUP, on_hup, NULL), NULL);
    event_add(evsignal_new(base, SIGTERM, on_term, NULL), NULL);
    printf("ready %d\n", moongate_version_number());
    fflush(stdout);
    event_base_dispatch(base);
    int rc = moongate_server_join(b);
    moongate_server_destroy(a);
    moongate_server_destroy(b);
    printf("stopped %d\n", rc);
    return 0;
}
