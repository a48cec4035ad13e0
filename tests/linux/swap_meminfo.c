/*
 * Prints the MemTotal, MemFree, SwapTotal and SwapFree lines of /proc/meminfo as they are.
 * The numbers are the kernel's (under qemu-riscv64, the host's), so the test parses them
 * instead of comparing them with a file.
 */
#include <fcntl.h>
#include <unistd.h>

#include "corpus.h"

static char buf[16384];

int main(void)
{
    static const char *const wanted[] = {"MemTotal:", "MemFree:", "SwapTotal:", "SwapFree:"};
    int fd = open("/proc/meminfo", O_RDONLY);
    CHECK(fd >= 0, "open /proc/meminfo");
    if (fd < 0)
        return 1;
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = 0;
    for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++) {
        int found = 0;
        for (char *line = buf; *line != 0;) {
            char *eol = strchr(line, '\n');
            size_t line_len = eol != NULL ? (size_t)(eol - line) : strlen(line);
            if (strncmp(line, wanted[w], strlen(wanted[w])) == 0) {
                printf("%.*s\n", (int)line_len, line);
                found = 1;
                break;
            }
            if (eol == NULL)
                break;
            line = eol + 1;
        }
        if (!found) {
            printf("FAIL: no %s line\n", wanted[w]);
            failures++;
        }
    }
    return failures != 0;
}
