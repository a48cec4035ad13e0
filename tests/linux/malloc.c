/* The heap: many small blocks (brk arena), a few large ones that glibc serves with mmap
 * (>= 1 MiB, above its 128 KiB threshold), calloc of fresh zeroed memory, realloc growth
 * that must keep the contents, and sbrk directly. Everything is filled, checksummed and
 * freed; only checksums and verdicts are printed. */
#include <stdlib.h>
#include <unistd.h>

#include "corpus.h"

static uint32_t lcg_state = 12345;

static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return lcg_state >> 8;
}

#define SMALL_BLOCKS 20000

static unsigned char *small[SMALL_BLOCKS];
static size_t small_size[SMALL_BLOCKS];

int main(void)
{
    /* Small blocks: fill each with a pattern derived from its index. */
    uint64_t sum = FNV_INIT;
    size_t total = 0;
    for (int i = 0; i < SMALL_BLOCKS; i++) {
        small_size[i] = 1 + lcg() % 512;
        small[i] = malloc(small_size[i]);
        if (!small[i]) {
            printf("FAIL: malloc(%zu) returned NULL\n", small_size[i]);
            return 1;
        }
        memset(small[i], (unsigned char)(i * 7 + 3), small_size[i]);
        total += small_size[i];
    }
    /* Free every third block, then allocate into the holes. */
    for (int i = 0; i < SMALL_BLOCKS; i += 3) {
        free(small[i]);
        small_size[i] = 1 + lcg() % 256;
        small[i] = malloc(small_size[i]);
        memset(small[i], (unsigned char)(i * 7 + 3), small_size[i]);
    }
    int intact = 1;
    total = 0;
    for (int i = 0; i < SMALL_BLOCKS; i++) {
        for (size_t j = 0; j < small_size[i]; j++)
            intact &= small[i][j] == (unsigned char)(i * 7 + 3);
        sum = fnv1a(sum, small[i], small_size[i]);
        total += small_size[i];
    }
    printf("small blocks: %d, %zu bytes, checksum %016llx\n", SMALL_BLOCKS, total,
           (unsigned long long)sum);
    CHECK(intact, "small blocks keep their contents");
    for (int i = 0; i < SMALL_BLOCKS; i++)
        free(small[i]);

    /* Large blocks, all live at once, each with its own pattern. */
    static const size_t large_size[] = {1 << 20, 2 << 20, (3 << 20) + 17, 8 << 20};
    unsigned char *large[4];
    for (int i = 0; i < 4; i++) {
        large[i] = malloc(large_size[i]);
        if (!large[i]) {
            printf("FAIL: malloc(%zu) returned NULL\n", large_size[i]);
            return 1;
        }
        for (size_t j = 0; j < large_size[i]; j++)
            large[i][j] = (unsigned char)(j * (i + 1) + (j >> 12));
    }
    for (int i = 0; i < 4; i++) {
        uint64_t h = fnv1a(FNV_INIT, large[i], large_size[i]);
        printf("large block %d: %zu bytes, checksum %016llx\n", i, large_size[i],
               (unsigned long long)h);
    }
    for (int i = 0; i < 4; i++)
        free(large[i]);

    /* calloc of a large block: fresh pages must read as zero. */
    unsigned char *zeroed = calloc(3 << 20, 1);
    int all_zero = zeroed != NULL;
    for (size_t j = 0; zeroed && j < (3u << 20); j++)
        all_zero &= zeroed[j] == 0;
    CHECK(all_zero, "calloc(3 MiB) is all zero");
    free(zeroed);

    /* realloc growth from 16 bytes past 4 MiB: the old contents must move along. */
    size_t size = 16;
    unsigned char *grow = malloc(size);
    for (size_t j = 0; j < size; j++)
        grow[j] = (unsigned char)(j ^ (j >> 8));
    int kept = 1;
    int steps = 0;
    while (size < (4u << 20)) {
        size_t bigger = size * 2 + 5;
        grow = realloc(grow, bigger);
        if (!grow) {
            printf("FAIL: realloc(%zu) returned NULL\n", bigger);
            return 1;
        }
        for (size_t j = 0; j < size; j++)
            kept &= grow[j] == (unsigned char)(j ^ (j >> 8));
        for (size_t j = size; j < bigger; j++)
            grow[j] = (unsigned char)(j ^ (j >> 8));
        size = bigger;
        steps++;
    }
    printf("realloc: %d steps to %zu bytes, checksum %016llx\n", steps, size,
           (unsigned long long)fnv1a(FNV_INIT, grow, size));
    CHECK(kept, "realloc keeps the contents");
    grow = realloc(grow, 100);
    CHECK(grow != NULL && grow[99] == (unsigned char)(99 ^ 0), "realloc to a smaller size keeps the prefix");
    free(grow);

    /* sbrk directly: grow the break by 1 MiB, touch it, give it back. */
    char *old_break = sbrk(0);
    char *block = sbrk(1 << 20);
    int sbrk_ok = block == old_break;
    if (sbrk_ok) {
        memset(block, 0x5a, 1 << 20);
        sbrk_ok = block[(1 << 20) - 1] == 0x5a && sbrk(-(1 << 20)) == block + (1 << 20) &&
                  sbrk(0) == old_break;
    }
    CHECK(sbrk_ok, "sbrk grows and shrinks the break by 1 MiB");

    return failures ? 1 : 0;
}
