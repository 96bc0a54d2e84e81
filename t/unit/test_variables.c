/*
 * Unit tests for core/http/variables.c's $request_id bytes (rid_bytes): a process that drew
 * from its pool and then forked gives different bytes in the child than in itself (the child
 * drops the pool it inherited), and ids drawn across several pool fills never repeat.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "../../core/http/variables.c"

#include "tap.h"

int main(void)
{
    unsigned char a[16], b[16];
    ok(rid_bytes(a, sizeof(a)) == 0, "the pool fills");

    /* the parent's pool has 31 ids left: the child must not hand out the same ones */
    int fds[2];
    if (pipe(fds) != 0) {
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        unsigned char c[16];
        int rc = rid_bytes(c, sizeof(c));
        ssize_t n = rc == 0 ? write(fds[1], c, sizeof(c)) : -1;
        _exit(n == (ssize_t)sizeof(c) ? 0 : 1);
    }
    ok(rid_bytes(a, sizeof(a)) == 0, "the parent draws after the fork");
    int status = 0;
    waitpid(pid, &status, 0);
    ssize_t n = read(fds[0], b, sizeof(b));
    ok(n == (ssize_t)sizeof(b) && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child draws");
    ok(memcmp(a, b, sizeof(a)) != 0, "the child's bytes are not the parent's next ones");

    /* 1000 ids: about 31 fills; none twice */
    static unsigned char ids[1000][16];
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        bad += rid_bytes(ids[i], 16) != 0;
        for (int j = 0; j < i; j++) {
            bad += memcmp(ids[i], ids[j], 16) == 0;
        }
    }
    is_int(bad, 0, "1000 ids across pool fills, none twice");
    return done_testing();
}
