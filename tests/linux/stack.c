/* Stack growth: recursion about 5 MiB deep (within the usual 8 MiB limit), each frame
 * holding a 1 KiB volatile array that is filled on the way down and summed on the way
 * up, so neither the frames nor the recursion can be optimised away. Prints the depth
 * and a checksum, and whether the stack really spanned more than 4 MiB. */
#include <stdint.h>

#include "corpus.h"

#define DEPTH 4800
#define FRAME_BYTES 1024

static uintptr_t deepest;

static uint64_t recurse(int depth)
{
    volatile unsigned char frame[FRAME_BYTES];
    for (int i = 0; i < FRAME_BYTES; i++)
        frame[i] = (unsigned char)(depth + i);
    uint64_t below = 0;
    if (depth < DEPTH)
        below = recurse(depth + 1);
    else
        deepest = (uintptr_t)frame;
    uint64_t sum = below * 31;
    for (int i = 0; i < FRAME_BYTES; i += 64)
        sum += frame[i];
    return sum + depth;
}

int main(void)
{
    int top;
    uint64_t sum = recurse(1);
    uintptr_t span = (uintptr_t)&top - deepest;
    printf("depth %d, checksum %016llx\n", DEPTH, (unsigned long long)sum);
    CHECK(span > (4u << 20), "the stack spans more than 4 MiB");
    CHECK(span < (8u << 20), "and less than 8 MiB");
    return failures ? 1 : 0;
}
