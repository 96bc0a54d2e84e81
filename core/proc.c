/*
 * The process table as /proc shows it (proc.h).
 */
#include "proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mg_proc_each_child(pid_t ppid, int (*fn)(pid_t child, void *arg), void *arg)
{
    DIR *d = opendir("/proc");
    if (d == NULL) {
        return 0;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') {
            continue;
        }
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        char *p = strrchr(buf, ')'); /* the name may hold anything: the fields follow it */
        int parent;
        if (p && sscanf(p + 1, " %*c %d", &parent) == 1 && parent == ppid) {
            rc = fn((pid_t)atoi(e->d_name), arg);
        }
    }
    closedir(d);
    return rc;
}

char *mg_proc_title(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    ssize_t len = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        len = read(fd, buf, size - 1);
        close(fd);
    }
    buf[len > 0 ? len : 0] = '\0';
    return buf;
}
