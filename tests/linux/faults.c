/*
 * Page faults in known numbers, for tests/faults.rs, which runs this program under
 * `sv39 run --fault-log` and holds the log to what the program did. Every line the program
 * prints is a fact the harness checks against the log: the pid, the region it touched, the
 * fault counters getrusage gives it.
 *
 *   faults touch N     stores once into each of N fresh anonymous pages: N demand-zero faults
 *   faults cow M       fills 64 pages, forks; the child writes M of them (M copies), exits;
 *                      the parent then writes the same M (M reuses: no one else holds them)
 *   faults pageout N   fills N pages, madvise(MADV_PAGEOUT), reads them again (N swap-ins)
 *   faults rdcycle N   for each of N fresh pages: rdcycle, one store, rdcycle, in one asm
 *                      block, and prints the difference
 *   faults chain 0     calls a function on a page of its own, never run before, that stores
 *                      to a fresh page: a fetch fault whose retry takes a store fault
 *
 * The last line is always `rusage PID MINFLT MAJFLT`, taken after every fault the program
 * causes, from a buffer and stack that are already touched; the program then leaves by
 * _exit, so no more user code runs.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PAGE 4096

static char line[256];

/* A function alone on its page, which nothing runs before `chain` does: its first
 * instruction takes a fetch fault, and its retry a store fault on the page it is given. */
__attribute__((noinline, aligned(4096), section(".text.far"))) static void far_store(char *p)
{
    __asm__ volatile("sd zero, 0(%0)" : : "r"(p) : "memory");
}

/* Prints through write(2) from a static buffer, so printing takes no new fault. */
static void say(void)
{
    if (write(1, line, strlen(line)) < 0)
        exit(3);
}

static char *region(size_t pages)
{
    char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        exit(2);
    snprintf(line, sizeof line, "region %d %#lx %zu\n", getpid(), (unsigned long)p, pages);
    say();
    return p;
}

static void rusage_line(void)
{
    struct rusage ru;
    /* A first snprintf touches whatever libc data it writes (pages still shared after a
     * fork fault here), so that no fault comes between getrusage and the line. */
    snprintf(line, sizeof line, "rusage %d %ld %ld\n", getpid(), 0L, 0L);
    getrusage(RUSAGE_SELF, &ru);
    snprintf(line, sizeof line, "rusage %d %ld %ld\n", getpid(), ru.ru_minflt, ru.ru_majflt);
    say();
}

static void touch(char *p, size_t pages, char value)
{
    for (size_t i = 0; i < pages; i++)
        *(volatile char *)(p + i * PAGE) = value;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long n = strtol(argv[2], NULL, 10);
    /* Touch the buffer and a stack margin first: their faults are not the test's. */
    memset(line, ' ', sizeof line);
    volatile char margin[16384];
    memset((char *)margin, 0, sizeof margin);
    snprintf(line, sizeof line, "pid %d\n", getpid());
    say();

    if (strcmp(argv[1], "touch") == 0) {
        char *p = region(n);
        touch(p, n, 1);
    } else if (strcmp(argv[1], "cow") == 0) {
        char *p = region(64);
        touch(p, 64, 1);
        pid_t child = fork();
        if (child == 0) {
            snprintf(line, sizeof line, "child %d\n", getpid());
            say();
            touch(p, n, 2);
            rusage_line();
            _exit(0);
        }
        int status;
        waitpid(child, &status, 0);
        touch(p, n, 3);
    } else if (strcmp(argv[1], "pageout") == 0) {
        char *p = region(n);
        touch(p, n, 1);
        if (madvise(p, n * PAGE, MADV_PAGEOUT) != 0)
            return 4;
        long sum = 0;
        for (long i = 0; i < n; i++)
            sum += *(volatile char *)(p + i * PAGE);
        if (sum != n)
            return 5;
    } else if (strcmp(argv[1], "chain") == 0) {
        char *p = region(1);
        snprintf(line, sizeof line, "chain %#lx\n", (unsigned long)(uintptr_t)far_store);
        say();
        far_store(p);
    } else if (strcmp(argv[1], "rdcycle") == 0) {
        char *p = region(n);
        for (long i = 0; i < n; i++) {
            char *at = p + i * PAGE;
            unsigned long before, after;
            /* One block: nothing the compiler chooses runs between the two reads. */
            __asm__ volatile("rdcycle %0\n\t"
                             "sd %3, 0(%2)\n\t"
                             "rdcycle %1"
                             : "=&r"(before), "=&r"(after)
                             : "r"(at), "r"(i + 1)
                             : "memory");
            snprintf(line, sizeof line, "rdcycle %#lx %lu\n", (unsigned long)at, after - before);
            say();
        }
    } else {
        return 2;
    }
    rusage_line();
    /* Straight to exit_group: no exit handler runs user code that could fault. */
    _exit(0);
}
