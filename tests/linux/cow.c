/*
 * Copy-on-write fork: the child writes half of a 1 MiB buffer and a page of shared anonymous
 * memory; both sides checksum everything afterwards and each sees only its own private writes,
 * while the shared page carries the child's write to the parent. Then five children each
 * write one page and exit, and the parent's buffer is still unchanged.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"

#define SIZE (256 * 4096)

int main(void)
{
    unsigned char *buf = malloc(SIZE);
    CHECK(buf != NULL, "malloc(1 MiB)");
    memset(buf, 7, SIZE);
    unsigned char *shared =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED, "mmap(MAP_SHARED | MAP_ANONYMOUS)");
    uint64_t before = fnv1a(FNV_INIT, buf, SIZE);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        for (long i = 0; i < SIZE / 2; i += 4096)
            buf[i] = 9;
        shared[0] = 42;
        printf("child: checksum %016llx\n", (unsigned long long)fnv1a(FNV_INIT, buf, SIZE));
        fflush(stdout);
        _exit(5);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5, "the child exited with 5");
    CHECK(fnv1a(FNV_INIT, buf, SIZE) == before, "the parent's buffer is unchanged");
    CHECK(shared[0] == 42, "the shared page carries the child's write");
    for (int k = 0; k < 5; k++) {
        fflush(stdout);
        if (fork() == 0) {
            buf[k * 4096] = (unsigned char)k;
            _exit(k);
        }
    }
    int total = 0;
    for (int k = 0; k < 5; k++) {
        CHECK(wait(&status) > 0, "wait");
        total += WEXITSTATUS(status);
    }
    printf("five children, exit codes sum to %d\n", total);
    CHECK(fnv1a(FNV_INIT, buf, SIZE) == before, "the parent's buffer is still unchanged");
    return failures != 0;
}
