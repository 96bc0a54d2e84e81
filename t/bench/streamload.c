/*
 * The load and the peer of t/bench/stream.sh, blocking sockets and threads:
 *   streamload echo PORT            TCP and UDP echo on 127.0.0.1:PORT (a thread per connection)
 *   streamload conn PORT SECS T     T threads: connect, 16 bytes there and back, close; prints
 *                                   sessions/s (a failed one is counted apart and printed)
 *   streamload bulk PORT MB         MB megabytes through an echo, there and back; prints MB/s
 *   streamload udp PORT SECS T      T threads, a socket each: a datagram, its answer; prints /s
 *   streamload udpmany PORT SECS N  N sockets (N source ports, N live sessions), one thread:
 *                                   a datagram and its answer from each in turn; prints /s
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in addr;
static double deadline;
static atomic_long done, failed;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int full(int fd, char *buf, size_t len, int reading)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = reading ? read(fd, buf + got, len - got) : write(fd, buf + got, len - got);
        if (n <= 0) {
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static void *echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (full(fd, buf, (size_t)n, 0) < 0) {
            break;
        }
    }
    close(fd);
    return NULL;
}

static void *udp_echo(void *arg)
{
    (void)arg;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror("bind udp");
        exit(1);
    }
    char buf[65536];
    for (;;) {
        struct sockaddr_in from;
        socklen_t len = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
        if (n >= 0) {
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
        }
    }
    return NULL;
}

static void *conn_loop(void *arg)
{
    (void)arg;
    char msg[16] = "0123456789abcde\n", back[16];
    while (now() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
            full(fd, msg, sizeof(msg), 0) < 0 || full(fd, back, sizeof(back), 1) < 0) {
            atomic_fetch_add(&failed, 1);
        } else {
            atomic_fetch_add(&done, 1);
        }
        /* an RST ends it at once: no TIME_WAIT piling up on the client's ports */
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd);
    }
    return NULL;
}

static size_t bulk_bytes;

static void *bulk_writer(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char *buf = calloc(1, 65536);
    for (size_t sent = 0; sent < bulk_bytes; sent += 65536) {
        if (full(fd, buf, 65536, 0) < 0) {
            break;
        }
    }
    free(buf);
    return NULL;
}

static void *udp_loop(void *arg)
{
    (void)arg;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    char msg[64] = "datagram", back[64];
    while (now() < deadline) {
        if (send(fd, msg, sizeof(msg), 0) < 0 || recv(fd, back, sizeof(back), 0) < 0) {
            atomic_fetch_add(&failed, 1);
        } else {
            atomic_fetch_add(&done, 1);
        }
    }
    close(fd);
    return NULL;
}

static void run_threads(void *(*fn)(void *), int n)
{
    pthread_t *t = calloc((size_t)n, sizeof(pthread_t));
    for (int i = 0; i < n; i++) {
        pthread_create(&t[i], NULL, fn, NULL);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
    }
    free(t);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: streamload echo|conn|bulk|udp PORT ...\n");
        return 2;
    }
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[2]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (strcmp(argv[1], "echo") == 0) {
        pthread_t u;
        pthread_create(&u, NULL, udp_echo, NULL);
        int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(l, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(l, 1024) < 0) {
            perror("listen");
            return 1;
        }
        for (;;) {
            int fd = accept(l, NULL, NULL);
            if (fd < 0) {
                continue;
            }
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            pthread_t t;
            pthread_attr_t at;
            pthread_attr_init(&at);
            pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
            pthread_attr_setstacksize(&at, 256 * 1024);
            if (pthread_create(&t, &at, echo_conn, (void *)(intptr_t)fd) != 0) {
                close(fd);
            }
            pthread_attr_destroy(&at);
        }
    }
    if (strcmp(argv[1], "bulk") == 0 && argc == 4) {
        bulk_bytes = (size_t)atol(argv[3]) << 20;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
            perror("connect");
            return 1;
        }
        double t0 = now();
        pthread_t w;
        pthread_create(&w, NULL, bulk_writer, (void *)(intptr_t)fd);
        char *buf = malloc(1 << 20);
        size_t got = 0;
        ssize_t n;
        while (got < bulk_bytes && (n = read(fd, buf, 1 << 20)) > 0) {
            got += (size_t)n;
        }
        pthread_join(w, NULL);
        double t = now() - t0;
        close(fd);
        if (got < bulk_bytes) {
            printf("short %zu\n", got);
            return 1;
        }
        printf("%.1f\n", (double)(bulk_bytes >> 20) / t);
        return 0;
    }
    if ((strcmp(argv[1], "conn") == 0 || strcmp(argv[1], "udp") == 0) && argc == 5) {
        double secs = atof(argv[3]);
        double t0 = now();
        deadline = t0 + secs;
        run_threads(argv[1][0] == 'c' ? conn_loop : udp_loop, atoi(argv[4]));
        double t = now() - t0;
        /* rate, failures, and the count (for per-session figures under callgrind or strace) */
        printf("%.0f %ld %ld\n", (double)atomic_load(&done) / t, atomic_load(&failed),
               (long)atomic_load(&done));
        return 0;
    }
    if (strcmp(argv[1], "udpmany") == 0 && argc == 5) {
        int n = atoi(argv[4]);
        int *fds = calloc((size_t)n, sizeof(int));
        char msg[64] = "datagram", back[64];
        struct timeval tv = {1, 0};
        for (int i = 0; i < n; i++) { /* each source port starts a session that stays */
            fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
            setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            connect(fds[i], (struct sockaddr *)&addr, sizeof(addr));
            if (send(fds[i], msg, sizeof(msg), 0) < 0 || recv(fds[i], back, sizeof(back), 0) < 0) {
                atomic_fetch_add(&failed, 1);
            }
        }
        double t0 = now();
        deadline = t0 + atof(argv[3]);
        for (int i = 0; now() < deadline; i = (i + 1) % n) {
            if (send(fds[i], msg, sizeof(msg), 0) < 0 || recv(fds[i], back, sizeof(back), 0) < 0) {
                atomic_fetch_add(&failed, 1);
            } else {
                atomic_fetch_add(&done, 1);
            }
        }
        printf("%.0f %ld\n", (double)atomic_load(&done) / (now() - t0), atomic_load(&failed));
        return 0;
    }
    fprintf(stderr, "usage: streamload echo|conn|bulk|udp|udpmany PORT ...\n");
    return 2;
}
