/*
 * Copy-on-write fork over memory that may be swapped: the parent fills PAGES pages of
 * private anonymous memory (argv[1], default 2048 = 8 MiB) with a pattern of (page, seed),
 * forks, and the child rewrites every even page with its own seed. The child checks every
 * page (its writes on the even pages, the parent's pattern on the odd ones) and prints its
 * checksum; the parent waits for it, then checks that every page still holds its original
 * pattern. With a large PAGES and a small RAM (`sv39 run -m 64M swap_cow 12288`) both sides'
 * pages go to swap and come back in between.
 *
 * Every word of every page is written and checked. The checksums are compared with ones
 * recomputed from the pattern alone, so the transcript says whether memory held what it
 * should, not just some number. Exit status 0 only if everything matched.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"

#define PAGE_SIZE 4096
#define WORDS (PAGE_SIZE / 8)
#define STEP 0x9e3779b97f4a7c15ull

#define SEED_PARENT 0x5eed0001ull
#define SEED_CHILD 0x5eed0002ull

/* splitmix64's finaliser: a page's first word, from its index and a seed. */
static uint64_t page_base(uint64_t page, uint64_t seed)
{
    uint64_t z = page * 0xd1b54a32d192ed03ull + seed * 0x8cb92ba72f3d8dd7ull + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Word j of the page is base + j * STEP: every word differs, and within a page, from the
 * words of other pages and seeds. */
static void fill_page(uint64_t *p, uint64_t page, uint64_t seed)
{
    uint64_t w = page_base(page, seed);
    for (int j = 0; j < WORDS; j++, w += STEP)
        p[j] = w;
}

/* Folds a word into a checksum: a multiply by an odd constant, then the high half folded
 * down so that every bit of the result depends on every earlier word. */
static inline uint64_t fold(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 32);
}

/* Whether the page holds the pattern of (page, seed); folds what it holds into *sum. */
static int check_page(const uint64_t *p, uint64_t page, uint64_t seed, uint64_t *sum)
{
    uint64_t w = page_base(page, seed), h = *sum;
    int good = 1;
    for (int j = 0; j < WORDS; j++, w += STEP) {
        good &= p[j] == w;
        h = fold(h, p[j]);
    }
    *sum = h;
    return good;
}

/* The checksum check_page gives over a page holding the pattern of (page, seed). */
static uint64_t expected_sum(uint64_t h, uint64_t page, uint64_t seed)
{
    uint64_t w = page_base(page, seed);
    for (int j = 0; j < WORDS; j++, w += STEP)
        h = fold(h, w);
    return h;
}

/* The seed of page i in the child's view. */
static uint64_t child_seed(long i)
{
    return i % 2 == 0 ? SEED_CHILD : SEED_PARENT;
}

static int child(unsigned char *mem, long pages)
{
    for (long i = 0; i < pages; i += 2)
        fill_page((uint64_t *)(mem + i * PAGE_SIZE), (uint64_t)i, SEED_CHILD);
    uint64_t sum = FNV_INIT, want = FNV_INIT;
    long own_good = 0, orig_good = 0;
    for (long i = 0; i < pages; i++) {
        int good = check_page((uint64_t *)(mem + i * PAGE_SIZE), (uint64_t)i, child_seed(i),
                              &sum);
        want = expected_sum(want, (uint64_t)i, child_seed(i));
        if (i % 2 == 0)
            own_good += good;
        else
            orig_good += good;
    }
    long own = (pages + 1) / 2, orig = pages / 2;
    printf("child: checksum %016llx\n", (unsigned long long)sum);
    printf("child: its own pattern on %ld of %ld written pages\n", own_good, own);
    printf("child: the parent's pattern on %ld of %ld other pages\n", orig_good, orig);
    CHECK(sum == want, "child: the checksum is the pattern's");
    fflush(stdout);
    return own_good == own && orig_good == orig && failures == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    long pages = argc > 1 ? atol(argv[1]) : 2048;
    if (pages < 2) {
        printf("usage: swap_cow [PAGES >= 2]\n");
        return 2;
    }
    printf("swap_cow: %ld pages (%ld KiB)\n", pages, pages * (PAGE_SIZE / 1024));
    unsigned char *mem = mmap(NULL, (size_t)pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        printf("FAIL: mmap: %s\n", errno_name(errno));
        return 1;
    }
    for (long i = 0; i < pages; i++)
        fill_page((uint64_t *)(mem + i * PAGE_SIZE), (uint64_t)i, SEED_PARENT);
    uint64_t want = FNV_INIT;
    for (long i = 0; i < pages; i++)
        want = expected_sum(want, (uint64_t)i, SEED_PARENT);
    printf("parent: filled, pattern checksum %016llx\n", (unsigned long long)want);

    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("FAIL: fork: %s\n", errno_name(errno));
        return 1;
    }
    if (pid == 0)
        _exit(child(mem, pages));

    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "parent: waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "parent: the child exited with 0");
    uint64_t sum = FNV_INIT;
    long good = 0;
    for (long i = 0; i < pages; i++)
        good += check_page((uint64_t *)(mem + i * PAGE_SIZE), (uint64_t)i, SEED_PARENT, &sum);
    printf("parent: checksum %016llx\n", (unsigned long long)sum);
    printf("parent: its pattern on %ld of %ld pages\n", good, pages);
    CHECK(good == pages && sum == want, "parent: no page shows the child's writes");
    return failures != 0 || good != pages;
}
