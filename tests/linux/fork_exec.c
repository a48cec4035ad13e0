/* fork + execve of /exec_target (added with --file), or with the argument "spawn",
 * posix_spawn (glibc: clone with CLONE_VM | CLONE_VFORK, then execve). The parent passes
 * one pipe without O_CLOEXEC and one with it, and reports the child's wait status.
 * qemu-riscv64 cannot follow execve into another RISC-V program, so the harness compares
 * this transcript with a committed file (tests/expected/linux/fork_exec*.out). */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"

#define TARGET "/exec_target"

static void report(int status)
{
    if (WIFEXITED(status))
        printf("parent: child status WIFEXITED, WEXITSTATUS=%d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("parent: child status WIFSIGNALED, WTERMSIG=%d\n", WTERMSIG(status));
    else
        printf("parent: child status %#x\n", status);
}

int main(int argc, char **argv)
{
    int spawn = argc > 1 && strcmp(argv[1], "spawn") == 0;
    int keep[2], cloexec[2];
    CHECK(pipe(keep) == 0, "parent: pipe without O_CLOEXEC");
    CHECK(pipe2(cloexec, O_CLOEXEC) == 0, "parent: pipe2(O_CLOEXEC)");
    CHECK(write(keep[1], "inherited\n", 10) == 10, "parent: write into the inherited pipe");
    printf("parent: descriptors %d %d %d %d\n", keep[0], keep[1], cloexec[0], cloexec[1]);

    char pid_arg[32], ppid_arg[32], keep_arg[32], cloexec_arg[32];
    snprintf(ppid_arg, sizeof ppid_arg, "ppid=%d", (int)getpid());
    snprintf(keep_arg, sizeof keep_arg, "inherit-fd=%d", keep[0]);
    snprintf(cloexec_arg, sizeof cloexec_arg, "cloexec-fd=%d", cloexec[0]);
    char *envp[] = {"FROM=fork_exec", "PATH=/bin", NULL};
    int status;

    if (spawn) {
        char *child_argv[] = {"exec_target", "spawned", ppid_arg, keep_arg, cloexec_arg, NULL};
        pid_t pid;
        fflush(stdout);
        int missing = posix_spawn(&pid, "/no/such/program", NULL, NULL, child_argv, envp);
        if (missing == 0)
            waitpid(pid, &status, 0);
        errno = missing;
        CHECK(missing == ENOENT, "parent: posix_spawn of a missing file fails with ENOENT");
        fflush(stdout);
        /* Nothing is printed until the child is reaped, so the transcript has one order. */
        int err = posix_spawn(&pid, TARGET, NULL, NULL, child_argv, envp);
        pid_t reaped = err == 0 ? waitpid(pid, &status, 0) : -1;
        errno = err;
        CHECK(err == 0, "parent: posix_spawn " TARGET);
        if (err != 0)
            return 1;
        CHECK(reaped == pid, "parent: waitpid returns the spawned pid");
        report(status);
        return failures ? 1 : 0;
    }

    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("FAIL: fork: %s\n", errno_name(errno));
        return 1;
    }
    if (pid == 0) {
        snprintf(pid_arg, sizeof pid_arg, "pid=%d", (int)getpid());
        char *child_argv[] = {"exec_target", "forked", pid_arg, ppid_arg, keep_arg, cloexec_arg, NULL};
        errno = 0;
        execve("/no/such/program", child_argv, envp);
        CHECK(errno == ENOENT, "child: execve of a missing file fails with ENOENT");
        printf("child: execve " TARGET "\n");
        fflush(stdout);
        execve(TARGET, child_argv, envp);
        printf("child: execve " TARGET " failed: %s\n", errno_name(errno));
        fflush(stdout);
        _exit(127);
    }
    CHECK(waitpid(pid, &status, 0) == pid, "parent: waitpid returns the child's pid");
    report(status);
    return failures ? 1 : 0;
}
