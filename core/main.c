/*
 * The moongate command: nginx's command line (-h -v -V -t -T -q -s -p -c -g -e), the
 * configuration test, signalling a running server through its pid file, daemonizing, and
 * running the server built through the embedding API.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cycle.h"
#include "listen.h"
#include "master.h"
#include "mgtime.h"
#include "moongate.h"
#include "proctitle.h"
#include "server.h"
#include "shm.h"
#include "signals.h"
#include "str.h"
#include "upgrade.h"
#include "version.h"

typedef struct {
    int show_help, show_version, show_configure, test_config, dump_config, quiet;
    const char *prefix, *conf_file, *directives, *error_log, *signal;
} options_t;

static void usage(void)
{
    fprintf(stderr,
            "Usage: moongate [-?hvVtTq] [-s signal] [-p prefix]\n"
            "             [-e filename] [-c filename] [-g directives]\n\n"
            "Options:\n"
            "  -?,-h         : this help\n"
            "  -v            : show version and exit\n"
            "  -V            : show version and configure options then exit\n"
            "  -t            : test configuration and exit\n"
            "  -T            : test configuration, dump it and exit\n"
            "  -q            : suppress non-error messages during configuration testing\n"
            "  -s signal     : send signal to a master process: stop, quit, reopen, reload,\n"
            "                  upgrade (USR2, then WINCH and QUIT once the new binary serves)\n"
            "  -p prefix     : set prefix path (default: %s)\n"
            "  -e filename   : set error log file (default: %s)\n"
            "  -c filename   : set configuration file (default: %s)\n"
            "  -g directives : set global directives out of configuration file\n\n",
            MG_PREFIX, MG_ERROR_LOG_PATH, MG_CONF_PATH);
}

static int parse_options(int argc, char **argv, options_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *p = argv[i];
        if (*p++ != '-') {
            mg_log_stderr(0, "invalid option: \"%s\"", argv[i]);
            return -1;
        }
        while (*p) {
            char opt = *p++;
            const char **target = NULL;
            const char *what = NULL;
            switch (opt) {
            case '?':
            case 'h':
                o->show_help = 1;
                o->show_version = 1;
                continue;
            case 'v':
                o->show_version = 1;
                continue;
            case 'V':
                o->show_version = 1;
                o->show_configure = 1;
                continue;
            case 't':
                o->test_config = 1;
                continue;
            case 'T':
                o->test_config = 1;
                o->dump_config = 1;
                continue;
            case 'q':
                o->quiet = 1;
                continue;
            case 'p':
                target = &o->prefix;
                what = "-p";
                break;
            case 'c':
                target = &o->conf_file;
                what = "-c";
                break;
            case 'g':
                target = &o->directives;
                what = "-g";
                break;
            case 'e':
                target = &o->error_log;
                what = "-e";
                break;
            case 's':
                target = &o->signal;
                what = "-s";
                break;
            default:
                mg_log_stderr(0, "invalid option: \"%c\"", opt);
                return -1;
            }
            /* the value is the rest of this argument or the next one */
            if (*p) {
                *target = p;
            } else if (i + 1 < argc) {
                *target = argv[++i];
            } else {
                mg_log_stderr(0, "option \"%s\" requires %s", what,
                              opt == 'p' ? "directory name" : opt == 's' ? "parameter"
                                                            : opt == 'g' ? "parameter"
                                                                         : "file name");
                return -1;
            }
            if (opt == 's' && strcmp(*target, "stop") && strcmp(*target, "quit") &&
                strcmp(*target, "reopen") && strcmp(*target, "reload") &&
                strcmp(*target, "upgrade")) {
                mg_log_stderr(0, "invalid option: \"-s %s\"", *target);
                return -1;
            }
            break;
        }
    }
    return 0;
}

static void dump_config(mg_cycle_t *cycle)
{
    mg_conf_dump_t *d = cycle->conf_dump.elts;
    for (size_t i = 0; i < cycle->conf_dump.nelts; i++) {
        printf("# configuration file %s:\n", d[i].name);
        fwrite(d[i].text, 1, d[i].len, stdout);
        if (d[i].len && d[i].text[d[i].len - 1] != '\n') {
            putchar('\n');
        }
        putchar('\n');
    }
    fflush(stdout);
}

static int write_pid(mg_cycle_t *cycle)
{
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    int fd = open(ccf->pid.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "open() \"%s\" failed", ccf->pid.data);
        return -1;
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (write(fd, buf, (size_t)n) != n) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "write() to \"%s\" failed", ccf->pid.data);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Fork; the parent waits until the child reports that the pid file is written, so a
 * script that runs "moongate" can rely on a running server when it returns. Returns in
 * the child with the write end of the report pipe, or -1 on error. */
static int daemonize(mg_cycle_t *cycle)
{
    int fds[2];
    if (pipe(fds) != 0) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "pipe() failed");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        mg_log_error(MG_LOG_EMERG, cycle->log, errno, "fork() failed");
        return -1;
    }
    if (pid > 0) {
        close(fds[1]);
        char ok = 0;
        ssize_t n;
        do {
            n = read(fds[0], &ok, 1);
        } while (n < 0 && errno == EINTR);
        _exit(n == 1 && ok == '1' ? 0 : 1);
    }
    close(fds[0]);
    setsid();
    umask(0);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return fds[1];
}

int main(int argc, char **argv)
{
    options_t o = { 0 };
    mg_time_update();
    /* before anything reads argv: the title will overwrite its memory */
    mg_proctitle_init(argc, argv);
    mg_upgrade_init(argv);
    /* no OpenSSL cleanup at exit: the kernel takes the memory back, and each old worker of a
     * reload freeing every cipher and table one by one took CPU from the new ones starting */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
    if (parse_options(argc, argv, &o) != 0) {
        return 1;
    }
    if (o.show_version) {
        mg_modules_init(); /* the configure arguments name the modules built in */
        mg_version_print(stderr, o.show_configure);
        if (o.show_help) {
            usage();
        }
        if (!o.test_config) {
            return 0;
        }
    }
    moongate_options_t mo = {
        .prefix = o.prefix ? o.prefix : MG_PREFIX,
        .conf_file = o.conf_file ? o.conf_file : MG_CONF_PATH,
        .directives = o.directives,
        .error_log = o.error_log,
    };
    if (o.test_config || o.signal) {
        mg_cycle_params_t params = { 0 };
        char prefix[4096], conf[4096];
        snprintf(prefix, sizeof(prefix), "%s%s", mo.prefix,
                 mo.prefix[strlen(mo.prefix) - 1] == '/' ? "" : "/");
        if (mo.conf_file[0] == '/') {
            snprintf(conf, sizeof(conf), "%s", mo.conf_file);
        } else {
            snprintf(conf, sizeof(conf), "%s%s", prefix, mo.conf_file);
        }
        params.prefix = prefix;
        params.conf_file = conf;
        params.conf_param = mo.directives;
        params.error_log = mo.error_log;
        params.test_config = o.test_config;
        params.signalling = o.signal != NULL;
        mg_modules_init();
        mg_log_t *early = mg_cycle_early_log(&params);
        mg_cycle_t *cycle = mg_cycle_create(&params, NULL, early);
        if (o.signal) {
            if (cycle == NULL) {
                return 1;
            }
            int rc = strcmp(o.signal, "upgrade") == 0 ? mg_upgrade_command(cycle, early)
                                                      : mg_signal_process(cycle, early, o.signal);
            mg_cycle_destroy(cycle);
            return rc;
        }
        if (cycle == NULL) {
            fprintf(stderr, "moongate: configuration file %s test failed\n", conf);
            return 1;
        }
        if (!o.quiet) {
            fprintf(stderr, "moongate: the configuration file %s syntax is ok\n", conf);
        }
        /* as nginx: make sure the pid file can be created, without writing or truncating
         * it, so that a running server's pid file is left intact */
        mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
        int pfd = open(ccf->pid.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (pfd < 0) {
            mg_log_error(MG_LOG_EMERG, early, errno, "open() \"%s\" failed", ccf->pid.data);
            mg_cycle_destroy(cycle);
            fprintf(stderr, "moongate: configuration file %s test failed\n", conf);
            return 1;
        }
        close(pfd);
        if (mg_listen_test_all(cycle, early) != MG_OK) {
            mg_cycle_destroy(cycle);
            fprintf(stderr, "moongate: configuration file %s test failed\n", conf);
            return 1;
        }
        if (!o.quiet) {
            fprintf(stderr, "moongate: configuration file %s test is successful\n", conf);
        }
        if (o.dump_config) {
            dump_config(cycle);
        }
        mg_cycle_destroy(cycle);
        return 0;
    }

    mg_server_t *srv = moongate_server_create(&mo, NULL, 0);
    if (srv == NULL) {
        return 1;
    }
    mg_shm_inherit_done(); /* zones of the old binary that the configuration dropped */
    mg_version_log_status(srv->cycle->log);
    mg_core_conf_t *ccf = mg_cycle_core_conf(srv->cycle);
    /* with workers, the limit is each worker's (worker.c); a single process takes it here */
    if (!ccf->master_process && ccf->worker_rlimit_nofile != MG_CONF_UNSET) {
        struct rlimit rl = { (rlim_t)ccf->worker_rlimit_nofile, (rlim_t)ccf->worker_rlimit_nofile };
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            mg_log_error(MG_LOG_ALERT, srv->cycle->log, errno,
                         "setrlimit(RLIMIT_NOFILE, %ld) failed", (long)ccf->worker_rlimit_nofile);
        }
    }
    /* a new binary started by USR2 stays the old master's child, as nginx's does: the old
     * master sees it exit (rollback) and the process tree shows the upgrade */
    int inherited = mg_upgrade_inherited() != NULL;
    int report = -1;
    if (ccf->daemon && !inherited) {
        report = daemonize(srv->cycle);
        if (report < 0) {
            return 1;
        }
    }
    mg_log_set_pid();
    if (ccf->master_process) {
        /* titled before the pid file names this process, so whoever finds it there sees the
         * master it is (an upgrade's watchers check both) */
        mg_proctitle_set("master process %s", mg_proctitle_args());
    }
    if (write_pid(srv->cycle) != 0) {
        return 1;
    }
    if (!ccf->master_process) {
        /* a single process serves: env applies to it (a master keeps its environment) */
        mg_core_set_environment(srv->cycle);
        srv->base = mg_server_event_base(srv->cycle);
        if (srv->base == NULL) {
            return 1;
        }
        mg_server_signals(srv);
    }
    if (report >= 0) {
        if (write(report, "1", 1) != 1) {
            /* the parent is gone; nothing to tell */
        }
        close(report);
        /* from here on only the error log speaks */
        mg_log_set_use_stderr(0);
        int null = open("/dev/null", O_RDWR);
        mg_open_file_t **files = srv->cycle->open_files.elts;
        int log_to_stderr = 0;
        for (size_t i = 0; i < srv->cycle->open_files.nelts; i++) {
            log_to_stderr |= files[i]->fd == STDERR_FILENO;
        }
        if (null >= 0 && !log_to_stderr) {
            dup2(null, STDERR_FILENO);
        }
        if (null > STDERR_FILENO) {
            close(null);
        }
    } else {
        mg_log_set_use_stderr(0);
    }
    if (ccf->master_process) {
        int code = mg_master_run(srv, ccf->daemon || inherited);
        moongate_server_destroy(srv);
        return code;
    }
    int rc = moongate_server_run(srv);
    mg_log_error(MG_LOG_NOTICE, srv->cycle->log, 0, "exit");
    /* a reload may have replaced (and freed) the generation ccf pointed into */
    ccf = mg_cycle_core_conf(srv->cycle);
    unlink(ccf->pid.data);
    mg_signal_remove_verdict(srv->cycle);
    moongate_server_destroy(srv);
    return rc == 0 ? 0 : 1;
}
