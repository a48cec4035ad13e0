/*
 * Belady's anomaly, measured: the reference string 1 2 3 4 1 2 5 1 2 3 4 5 over five
 * anonymous pages, counting page faults with getrusage (ru_minflt + ru_majflt) around it.
 * Under `sv39 run --policy fifo --frames 3` it takes 9 faults, with `--frames 4` 10.
 *
 * Only the five pages may fault in between, so everything else the program uses is made
 * resident and locked first: stdout gets a static buffer, 64 KiB of stack below main's
 * frame are touched, every readable mapping of /proc/self/maps is touched page by page
 * (read; private writable ones also written back with the same byte), then
 * mlockall(MCL_CURRENT), then everything touched again (a kernel whose mlockall does not
 * fault pages in still locks what is resident). Then the five pages are mapped, after
 * mlockall and without MCL_FUTURE, so they are the only evictable pages.
 *
 * A reference is an atomic swap of the page number into the page's first word (amoswap.d:
 * a store, so one fault brings a page in writable, where a load then a store could take
 * two), and a load of it back. The old value must be 0 on a page's first reference and the
 * page's number after that: a page that was evicted comes back from swap with its data.
 *
 * Output: `mlockall: ok` (or why it failed: under qemu-riscv64 the host decides, and the
 * fault count there is the host's), `faults: N`, `data: ok`.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "corpus.h"

#define PAGE_SIZE 4096
#define NPAGES 5
#define NREFS 12
#define MAX_RANGES 512

static const int refs[NREFS] = {1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5};

static char stdout_buf[8192];
static char maps_buf[64 * 1024];

/* Readable mappings, from /proc/self/maps. */
static struct range {
    uintptr_t start, end;
    int write_back;
} ranges[MAX_RANGES];
static int nranges;

/* Everything the measured loop touches besides the five pages: static, pretouched. */
static struct rusage before, after;
static int seen[NPAGES + 1];
static long bad_old, bad_readback;

/* Touches 64 KiB of stack below the caller's frame. */
static __attribute__((noinline)) void touch_stack(void)
{
    volatile char area[64 * 1024];
    for (size_t i = 0; i < sizeof area; i += PAGE_SIZE)
        area[i] = 0;
    area[sizeof area - 1] = 0;
}

static uintptr_t parse_hex(const char **p)
{
    uintptr_t v = 0;
    for (;;) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uintptr_t)(c - 'a' + 10);
        else
            return v;
        (*p)++;
    }
}

/* Reads /proc/self/maps into `ranges`; returns 0 on failure. */
static int read_maps(void)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return 0;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, maps_buf + len, sizeof maps_buf - 1 - len);
        if (n < 0) {
            close(fd);
            return 0;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == sizeof maps_buf - 1)
            break;
    }
    close(fd);
    maps_buf[len] = 0;
    /* One line at a time, each made a string of its own. */
    char *line = maps_buf;
    while (*line != 0 && nranges < MAX_RANGES) {
        char *eol = strchr(line, '\n');
        if (eol != NULL)
            *eol = 0;
        const char *p = line;
        uintptr_t start = parse_hex(&p), end = 0;
        if (*p == '-') {
            p++;
            end = parse_hex(&p);
        }
        const char *perms = *p == ' ' ? p + 1 : "";
        int special = strstr(line, "[vvar]") != NULL || strstr(line, "[vsyscall]") != NULL;
        if (strlen(perms) >= 4 && perms[0] == 'r' && end > start && !special) {
            ranges[nranges].start = start;
            ranges[nranges].end = end;
            ranges[nranges].write_back = perms[1] == 'w' && perms[3] == 'p';
            nranges++;
        }
        if (eol == NULL)
            break;
        line = eol + 1;
    }
    return nranges > 0;
}

/* Brings every page of every readable mapping in (and private writable ones in writable). */
static void touch_mappings(void)
{
    for (int r = 0; r < nranges; r++) {
        for (uintptr_t a = ranges[r].start; a < ranges[r].end; a += PAGE_SIZE) {
            volatile unsigned char *b = (volatile unsigned char *)a;
            unsigned char v = *b;
            if (ranges[r].write_back)
                *b = v;
        }
    }
}

/* The measurement: nothing here may fault but the five pages. */
static __attribute__((noinline)) void run_references(unsigned char *area)
{
    getrusage(RUSAGE_SELF, &before);
    for (int i = 0; i < NREFS; i++) {
        int k = refs[i];
        uint64_t *word = (uint64_t *)(area + (k - 1) * PAGE_SIZE);
        uint64_t old = __atomic_exchange_n(word, (uint64_t)k, __ATOMIC_RELAXED);
        bad_old += old != (seen[k] ? (uint64_t)k : 0);
        seen[k] = 1;
        bad_readback += *(volatile uint64_t *)word != (uint64_t)k;
    }
    getrusage(RUSAGE_SELF, &after);
}

int main(void)
{
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    printf("swap_belady: reference string");
    for (int i = 0; i < NREFS; i++)
        printf(" %d", refs[i]);
    printf(" on %d pages\n", NPAGES);

    touch_stack();
    if (!read_maps()) {
        printf("FAIL: reading /proc/self/maps: %s\n", errno_name(errno));
        return 1;
    }
    touch_mappings();
    if (mlockall(MCL_CURRENT) == 0)
        printf("mlockall: ok\n");
    else
        printf("mlockall: failed with %s\n", errno_name(errno));
    touch_stack();
    touch_mappings();
    getrusage(RUSAGE_SELF, &before);
    getrusage(RUSAGE_SELF, &after);

    unsigned char *area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) {
        printf("FAIL: mmap: %s\n", errno_name(errno));
        return 1;
    }
    run_references(area);
    long faults = (after.ru_minflt + after.ru_majflt) - (before.ru_minflt + before.ru_majflt);
    printf("faults: %ld\n", faults);
    if (bad_old == 0 && bad_readback == 0) {
        printf("data: ok\n");
    } else {
        printf("data: FAIL: %ld references found the wrong old value, %ld read back wrong\n",
               bad_old, bad_readback);
        failures++;
    }
    return failures != 0;
}
