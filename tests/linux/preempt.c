/*
 * Timer preemption: the parent spins, without any system call, until its child sets a flag in
 * shared memory. Only a preemptive scheduler lets the child run while the parent spins.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"

int main(void)
{
    volatile int *flag =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(flag != MAP_FAILED, "mmap(MAP_SHARED | MAP_ANONYMOUS)");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        for (volatile long i = 0; i < 3000000; i++)
            ;
        *flag = 1;
        _exit(0);
    }
    while (!*flag)
        ;
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status), "waitpid");
    printf("the spinning parent saw the child's flag\n");
    return failures != 0;
}
