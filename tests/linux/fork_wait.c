/* fork and wait: children exiting with distinct codes, one killing itself with SIGKILL,
 * one killed by its parent with SIGTERM; waitpid in a fixed order so the transcript is
 * deterministic. Also: getppid in a child, copy-on-write separation of memory, WNOHANG on
 * a running child, wait with no children left (ECHILD). */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"

static int shared_before_fork = 1000;

static void report(const char *who, int status)
{
    if (WIFEXITED(status))
        printf("%s: WIFEXITED, WEXITSTATUS=%d\n", who, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: WIFSIGNALED, WTERMSIG=%d\n", who, WTERMSIG(status));
    else
        printf("%s: neither exited nor signalled (status %#x)\n", who, status);
}

int main(void)
{
    pid_t parent = getpid();
    char who[64];

    /* Children that all run at once, reaped in creation order. */
    static const int codes[] = {0, 1, 42, 255};
    pid_t pids[4];
    fflush(stdout);
    for (int i = 0; i < 4; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            printf("FAIL: fork: %s\n", errno_name(errno));
            return 1;
        }
        if (pids[i] == 0) {
            /* A wrong parent pid turns into a different exit code. */
            _exit(getppid() == parent ? codes[i] : 99);
        }
    }
    for (int i = 0; i < 4; i++) {
        int status;
        pid_t got = waitpid(pids[i], &status, 0);
        snprintf(who, sizeof who, "child %d (exit(%d))", i, codes[i]);
        CHECK(got == pids[i], "waitpid returns the child's pid");
        report(who, status);
    }

    /* A child that kills itself with SIGKILL. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGKILL);
        _exit(98);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid after SIGKILL");
    report("child kill(getpid(), SIGKILL)", status);

    /* A child blocked reading a pipe: WNOHANG sees it running; then SIGTERM from the parent. */
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        char c;
        close(fds[1]);
        (void)read(fds[0], &c, 1);
        _exit(97);
    }
    close(fds[0]);
    CHECK(waitpid(pid, &status, WNOHANG) == 0, "waitpid(WNOHANG) on a running child returns 0");
    CHECK(kill(pid, SIGTERM) == 0, "kill(child, SIGTERM)");
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid after SIGTERM");
    report("child killed by SIGTERM", status);
    close(fds[1]);

    /* Copy-on-write: the child's writes are its own. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        shared_before_fork += 1;
        _exit(shared_before_fork == 1001 ? 7 : 96);
    }
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid after the copy-on-write child");
    report("copy-on-write child", status);
    CHECK(shared_before_fork == 1000, "the parent's variable is unchanged by the child");

    /* wait(): any child; then none are left. */
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(5);
    CHECK(wait(&status) == pid, "wait returns the only child");
    report("wait()", status);
    errno = 0;
    CHECK(wait(&status) == -1 && errno == ECHILD, "wait with no children fails with ECHILD");

    return failures ? 1 : 0;
}
