/* Pipes between processes. First pipe2(O_CLOEXEC) + fork: the child writes numbered lines
 * (more than a pipe holds, so it blocks), the parent reads to EOF and counts bytes and
 * lines. Then the other direction: the child moves the read end onto its stdin with dup2
 * (and a dup3 round trip), the parent writes 256 KiB; the child checksums its stdin and
 * reports. Also: EOF once every writer is closed, EPIPE (with SIGPIPE ignored) once every
 * reader is. */
#define _GNU_SOURCE /* pipe2, dup3 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"

#define LINES 5000
#define UPSTREAM_BYTES (256 * 1024)

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 31 + (i >> 10));
}

static int wait_for(pid_t pid)
{
    int status = -1;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void)
{
    /* Child to parent. */
    int fds[2];
    CHECK(pipe2(fds, O_CLOEXEC) == 0, "pipe2(O_CLOEXEC)");
    CHECK(fcntl(fds[0], F_GETFD) == FD_CLOEXEC, "the read end has FD_CLOEXEC");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char line[64];
        for (int i = 0; i < LINES; i++) {
            int len = snprintf(line, sizeof line, "line %d of the child\n", i);
            if (write(fds[1], line, len) != len)
                _exit(3);
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    size_t bytes = 0, lines = 0;
    uint64_t sum = FNV_INIT;
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) {
        bytes += n;
        sum = fnv1a(sum, buf, n);
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    }
    CHECK(n == 0, "read returns 0 at EOF once the child has exited");
    printf("parent read %zu bytes, %zu lines, checksum %016llx\n", bytes, lines,
           (unsigned long long)sum);
    printf("writer child status %d\n", wait_for(pid));
    close(fds[0]);

    /* Parent to child's stdin. */
    CHECK(pipe(fds) == 0, "pipe");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        close(fds[1]);
        if (dup2(fds[0], 0) != 0)
            _exit(4);
        /* dup3 onto a spare number and back, with and without O_CLOEXEC. */
        if (dup3(0, 10, O_CLOEXEC) != 10 || fcntl(10, F_GETFD) != FD_CLOEXEC)
            _exit(5);
        if (dup3(10, 0, 0) != 0 || fcntl(0, F_GETFD) != 0)
            _exit(6);
        close(10);
        close(fds[0]);
        size_t got = 0;
        int in_order = 1;
        uint64_t h = FNV_INIT;
        while ((n = read(0, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < n; i++)
                in_order &= (unsigned char)buf[i] == pattern(got + i);
            h = fnv1a(h, buf, n);
            got += n;
        }
        printf("child read %zu bytes from stdin, checksum %016llx, %s\n", got,
               (unsigned long long)h, in_order ? "in order" : "OUT OF ORDER");
        fflush(stdout);
        _exit(n == 0 ? 0 : 7);
    }
    close(fds[0]);
    static unsigned char out[UPSTREAM_BYTES];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = pattern(i);
    size_t written = 0;
    while (written < sizeof out) {
        n = write(fds[1], out + written, sizeof out - written);
        if (n <= 0)
            break;
        written += n;
    }
    printf("parent wrote %zu bytes\n", written);
    fflush(stdout);
    close(fds[1]);
    printf("reader child status %d\n", wait_for(pid));

    /* No reader left: write fails with EPIPE when SIGPIPE is ignored. */
    signal(SIGPIPE, SIG_IGN);
    CHECK(pipe(fds) == 0, "pipe");
    close(fds[0]);
    errno = 0;
    CHECK(write(fds[1], "x", 1) == -1 && errno == EPIPE, "write without a reader fails with EPIPE");
    close(fds[1]);

    return failures ? 1 : 0;
}
