/* Reads stdin to EOF in odd-sized chunks and prints the byte count, the line count and
 * a checksum: the harness feeds the same bytes to sv39 and to qemu-riscv64. */
#include <unistd.h>

#include "corpus.h"

int main(void)
{
    char buf[1000];
    size_t bytes = 0, lines = 0, reads = 0;
    uint64_t sum = FNV_INIT;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        bytes += n;
        reads++;
        sum = fnv1a(sum, buf, n);
        for (ssize_t i = 0; i < n; i++)
            lines += buf[i] == '\n';
    }
    CHECK(n == 0, "read returns 0 at EOF");
    printf("stdin: %zu bytes, %zu lines, checksum %016llx\n", bytes, lines,
           (unsigned long long)sum);
    CHECK(read(0, buf, sizeof buf) == 0, "read after EOF returns 0 again");
    return failures ? 1 : 0;
}
