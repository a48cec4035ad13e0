/* Run by fork_exec through execve (and posix_spawn): reports what a new program image
 * inherits. Arguments after argv[0]: a label, then pid=N (the pid before execve, which
 * must not change), ppid=N, inherit-fd=N (a pipe without O_CLOEXEC holding "inherited\n")
 * and cloexec-fd=N (one with O_CLOEXEC, which execve must have closed). Numbers in pid=
 * and ppid= are not printed, so the transcript is deterministic. Exits with 42 when every
 * check passed. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "corpus.h"

static int initialised = 12345; /* .data of the new image, not the parent's copy */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static long arg_value(int argc, char **argv, const char *key)
{
    size_t len = strlen(key);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], key, len) == 0 && argv[i][len] == '=')
            return atol(argv[i] + len + 1);
    return -1;
}

int main(int argc, char **argv, char **envp)
{
    printf("exec_target: argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "pid=", 4) == 0 || strncmp(argv[i], "ppid=", 5) == 0)
            printf("exec_target: argv[%d]=%.*s<number>\n", i,
                   (int)(strchr(argv[i], '=') - argv[i] + 1), argv[i]);
        else
            printf("exec_target: argv[%d]=%s\n", i, argv[i]);
    }
    /* Sorted: execve keeps the order, but qemu-riscv64 reverses its own environment. */
    size_t count = 0;
    while (envp[count])
        count++;
    qsort(envp, count, sizeof *envp, compare_strings);
    for (size_t i = 0; i < count; i++)
        printf("exec_target: env %s\n", envp[i]);
    printf("exec_target: initialised=%d\n", initialised);

    long pid = arg_value(argc, argv, "pid");
    if (pid >= 0)
        CHECK(getpid() == pid, "exec_target: the pid is the one before execve");
    long ppid = arg_value(argc, argv, "ppid");
    if (ppid >= 0)
        CHECK(getppid() == ppid, "exec_target: the parent is the process that forked");
    long fd = arg_value(argc, argv, "inherit-fd");
    if (fd >= 0) {
        char buf[32] = {0};
        ssize_t n = read((int)fd, buf, sizeof buf - 1);
        CHECK(n == 10 && strcmp(buf, "inherited\n") == 0,
              "exec_target: a descriptor without O_CLOEXEC survives execve");
    }
    fd = arg_value(argc, argv, "cloexec-fd");
    if (fd >= 0) {
        errno = 0;
        CHECK(fcntl((int)fd, F_GETFD) == -1 && errno == EBADF,
              "exec_target: an O_CLOEXEC descriptor is closed by execve");
    }
    int status = failures ? 1 : 42;
    printf("exec_target: exiting with %d\n", status);
    return status;
}
