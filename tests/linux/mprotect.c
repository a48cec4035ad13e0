/* mprotect: a page mapped read-write is written, made read-only, read back, then written
 * again, which must kill the program with SIGSEGV (status 139) after the lines before it. */
#include <sys/mman.h>
#include <unistd.h>

#include "corpus.h"

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    volatile char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of a read-write page");
    if (p == MAP_FAILED)
        return 1;
    CHECK(p[100] == 0, "a fresh anonymous page reads as zero");
    p[100] = 'x';
    CHECK(mprotect((void *)p, page, PROT_READ) == 0, "mprotect(PROT_READ)");
    CHECK(p[100] == 'x', "the page is still readable and kept its contents");
    printf("writing to the read-only page\n");
    fflush(stdout);
    p[100] = 'y';
    printf("FAIL: the store to a read-only page did not fault\n");
    return 1;
}
