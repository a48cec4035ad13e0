/*
 * More anonymous memory than RAM: maps MIB MiB (argv[1], default 96) of private anonymous
 * memory, writes five words of every page (the first, the second, the middle one, the last,
 * and one that depends on the page) in address order, then reads every page back in a
 * stride order that visits each page once, checking all 512 words: the five written ones
 * hold their values, the rest are still zero. With `sv39 run -m 64M` most pages have been
 * written to swap by the time they are read back.
 *
 * The last line is `majflt>0: yes` or `no`, from field 12 of /proc/self/stat: whether the
 * process waited for the disk. It is on a line of its own because it depends on the kernel
 * (qemu-riscv64 reports 0); every other line depends only on MIB.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "corpus.h"

#define PAGE_SIZE 4096
#define WORDS (PAGE_SIZE / 8)

/* splitmix64's finaliser of the page index. */
static uint64_t page_base(uint64_t page)
{
    uint64_t z = page * 0x9e3779b97f4a7c15ull + 0x0123456789abcdefull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The page-dependent fifth word: somewhere in 3..WORDS-2, never one of the fixed four. */
static int extra_word(uint64_t page)
{
    int j = 3 + (int)(page % (WORDS - 4));
    return j == WORDS / 2 ? WORDS / 2 + 1 : j;
}

/* The value written at word j of the page (never 0). */
static uint64_t value(uint64_t page, int j)
{
    return (page_base(page) ^ ((uint64_t)j << 48)) | 1;
}

static long gcd(long a, long b)
{
    while (b != 0) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Field 12 of /proc/self/stat (majflt), or -1 if it cannot be read. The second field, the
 * command name in parentheses, may hold spaces: fields are counted after the last ')'. */
static long majflt(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    p++;
    /* p is before field 3; field 12 is the tenth after it. */
    for (int field = 3; field < 12; field++) {
        while (*p == ' ')
            p++;
        while (*p != ' ' && *p != 0)
            p++;
    }
    while (*p == ' ')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    return strtol(p, NULL, 10);
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 96;
    if (mib < 1) {
        printf("usage: swap_big [MIB >= 1]\n");
        return 2;
    }
    long pages = mib * (1024 * 1024 / PAGE_SIZE);
    printf("swap_big: %ld MiB, %ld pages\n", mib, pages);
    unsigned char *mem = mmap(NULL, (size_t)pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        printf("FAIL: mmap: %s\n", errno_name(errno));
        return 1;
    }

    uint64_t written = FNV_INIT;
    for (long i = 0; i < pages; i++) {
        uint64_t *p = (uint64_t *)(mem + i * PAGE_SIZE);
        const int at[5] = {0, 1, WORDS / 2, WORDS - 1, extra_word((uint64_t)i)};
        for (int k = 0; k < 5; k++) {
            p[at[k]] = value((uint64_t)i, at[k]);
            written = fnv1a(written, &p[at[k]], 8);
        }
    }
    printf("written: every page, checksum %016llx\n", (unsigned long long)written);

    /* Page i of the read-back pass is (i * stride + pages / 3) % pages, a permutation when
     * gcd(stride, pages) == 1: consecutive reads are far apart and wrap around. */
    long stride = pages * 5 / 8 + 1;
    while (gcd(stride, pages) != 1)
        stride++;
    uint64_t read_sum = FNV_INIT;
    long bad_pages = 0, first_bad = -1;
    for (long i = 0; i < pages; i++) {
        long page = (long)(((unsigned long)i * (unsigned long)stride + (unsigned long)pages / 3)
                           % (unsigned long)pages);
        const uint64_t *p = (const uint64_t *)(mem + page * PAGE_SIZE);
        int extra = extra_word((uint64_t)page), good = 1;
        for (int j = 0; j < WORDS; j++) {
            int is_written = j == 0 || j == 1 || j == WORDS / 2 || j == WORDS - 1 || j == extra;
            uint64_t want = is_written ? value((uint64_t)page, j) : 0;
            good &= p[j] == want;
            read_sum = (read_sum ^ p[j]) * 0x9e3779b97f4a7c15ull;
            read_sum ^= read_sum >> 32;
        }
        if (!good) {
            bad_pages++;
            if (first_bad < 0)
                first_bad = page;
        }
    }
    printf("read back: every page once, in stride order, checksum %016llx\n",
           (unsigned long long)read_sum);
    if (bad_pages == 0)
        printf("ok: all %ld pages hold what was written, zeros elsewhere\n", pages);
    else {
        printf("FAIL: %ld pages differ, the first is page %ld\n", bad_pages, first_bad);
        failures++;
    }

    long faults = majflt();
    printf("majflt>0: %s\n", faults < 0 ? "unknown" : faults > 0 ? "yes" : "no");
    return failures != 0;
}
