/*
 * madvise(MADV_PAGEOUT) (Linux 5.4): maps 16 private anonymous pages, writes every byte
 * with a value that depends on its page and offset, asks the kernel to reclaim them now,
 * then reads every byte back. A kernel with swap writes the pages out, and each first touch
 * afterwards reads its page back from the disk: ru_majflt (getrusage) rises by exactly 16
 * between before the advice and after the check. Also: MADV_COLD is accepted, a misaligned
 * start is EINVAL, and a range with an unmapped page in it is ENOMEM (Linux's madvise).
 *
 * Two lines depend on the kernel (tests/swap.rs leaves them out of the comparison with
 * qemu-riscv64, which ignores the advice and does not look for holes): `hole in the range:`
 * and `majflt: +N` (+16 on sv39 with a swap disk, +0 without one, where anonymous pages
 * have nowhere to go).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "corpus.h"

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PAGE_SIZE 4096
#define NPAGES 16

/* The byte at `offset` of page `page`: differs between neighbouring bytes and pages. */
static unsigned char pattern(size_t page, size_t offset)
{
    return (unsigned char)(page * 131 + offset * 7 + (offset >> 8) + 1);
}

/* madvise's result as the transcript shows it: `0` or the errno's name. */
static const char *advise(void *addr, size_t len, int advice)
{
    return madvise(addr, len, advice) == 0 ? "0" : errno_name(errno);
}

int main(void)
{
    static char stdout_buf[4096];
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);

    unsigned char *area = mmap(NULL, NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *holed = mmap(NULL, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED || holed == MAP_FAILED || munmap(holed + PAGE_SIZE, PAGE_SIZE) != 0) {
        printf("FAIL: mmap/munmap: %s\n", errno_name(errno));
        return 1;
    }
    for (size_t page = 0; page < NPAGES; page++)
        for (size_t offset = 0; offset < PAGE_SIZE; offset++)
            area[page * PAGE_SIZE + offset] = pattern(page, offset);
    printf("swap_pageout: %d pages, every byte written\n", NPAGES);

    printf("misaligned start: %s\n", advise(area + 1, PAGE_SIZE, MADV_PAGEOUT));
    printf("hole in the range: %s\n", advise(holed, 3 * PAGE_SIZE, MADV_PAGEOUT));
    printf("madvise(MADV_COLD): %s\n", advise(area, NPAGES * PAGE_SIZE, MADV_COLD));

    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    const char *result = advise(area, NPAGES * PAGE_SIZE, MADV_PAGEOUT);
    size_t wrong = 0;
    for (size_t page = 0; page < NPAGES; page++)
        for (size_t offset = 0; offset < PAGE_SIZE; offset++)
            wrong += *(volatile unsigned char *)&area[page * PAGE_SIZE + offset] !=
                     pattern(page, offset);
    getrusage(RUSAGE_SELF, &after);

    printf("madvise(MADV_PAGEOUT): %s\n", result);
    if (wrong == 0) {
        printf("contents: ok, every byte of the %d pages\n", NPAGES);
    } else {
        printf("contents: FAIL, %zu bytes differ\n", wrong);
        failures++;
    }
    printf("majflt: +%ld\n", after.ru_majflt - before.ru_majflt);
    return failures != 0;
}
