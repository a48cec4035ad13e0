/* What a program asks the kernel about its world: uname (sysname and machine; the
 * release and host name vary), the page size, pids, CLOCK_MONOTONIC never going back
 * over many reads and advancing across nanosleep, CLOCK_REALTIME and gettimeofday
 * agreeing on a plausible date, and getrandom filling buffers with bytes that differ. */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/random.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "corpus.h"

static long long nanos(const struct timespec *t)
{
    return t->tv_sec * 1000000000ll + t->tv_nsec;
}

int main(void)
{
    struct utsname u;
    CHECK(uname(&u) == 0, "uname");
    printf("uname: sysname=%s machine=%s\n", u.sysname, u.machine);
    printf("page size: %ld\n", sysconf(_SC_PAGESIZE));
    CHECK(getpid() > 0 && getppid() >= 0, "getpid and getppid");
    CHECK(sched_yield() == 0, "sched_yield");

    struct timespec res, before, now, prev;
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && nanos(&res) > 0 && nanos(&res) <= 1000000,
          "CLOCK_MONOTONIC resolution is between 1 ns and 1 ms");
    CHECK(clock_gettime(CLOCK_MONOTONIC, &before) == 0, "clock_gettime(CLOCK_MONOTONIC)");
    prev = before;
    int monotonic = 1;
    for (int i = 0; i < 10000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        monotonic &= nanos(&now) >= nanos(&prev) && now.tv_nsec < 1000000000;
        prev = now;
    }
    CHECK(monotonic, "10000 CLOCK_MONOTONIC reads never go back");
    struct timespec sleep = {0, 20 * 1000 * 1000};
    CHECK(nanosleep(&sleep, NULL) == 0, "nanosleep(20 ms)");
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(nanos(&now) - nanos(&prev) >= 20000000, "CLOCK_MONOTONIC advanced by 20 ms or more");

    struct timespec real;
    struct timeval tv;
    CHECK(clock_gettime(CLOCK_REALTIME, &real) == 0, "clock_gettime(CLOCK_REALTIME)");
    CHECK(real.tv_sec > 1704067200, "CLOCK_REALTIME is after 2024-01-01");
    CHECK(gettimeofday(&tv, NULL) == 0 && tv.tv_sec - real.tv_sec >= 0 && tv.tv_sec - real.tv_sec <= 2,
          "gettimeofday agrees with CLOCK_REALTIME");
    CHECK(time(NULL) >= real.tv_sec, "time()");

    unsigned char a[64], b[64], zero[64] = {0};
    CHECK(getrandom(a, sizeof a, 0) == (ssize_t)sizeof a, "getrandom fills 64 bytes");
    CHECK(getrandom(b, sizeof b, GRND_NONBLOCK) == (ssize_t)sizeof b,
          "getrandom(GRND_NONBLOCK) fills 64 bytes");
    CHECK(memcmp(a, b, sizeof a) != 0 && memcmp(a, zero, sizeof a) != 0,
          "two getrandom results differ and are not all zero");
    return failures ? 1 : 0;
}
