/* Files added with --file, and directories. The harness adds data/input.bin (default
 * guest path /data/input.bin: 10000 bytes, byte i = (i * 7 + i / 256) & 0xff),
 * dir/a.txt and dir/b.txt (3 and 2 lines of text), and dir/sub/c.txt. This program:
 * open/read/fstat/lseek/pread/dup on the data file, errors (ENOENT, EBADF, ENOTDIR,
 * EISDIR, EINVAL), a relative path from the cwd "/", openat from a directory descriptor,
 * stdio line reading, and getdents64 of "/" (the program and the added files must be
 * listed) and of /dir (listed completely, sorted, with d_type). */
#define _GNU_SOURCE /* getdents64 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpus.h"

#define DATA "/data/input.bin"
#define DATA_SIZE 10000

static unsigned char expected_byte(long i)
{
    return (unsigned char)((i * 7 + i / 256) & 0xff);
}

static const char *type_name(unsigned char t)
{
    switch (t) {
    case DT_REG: return "file";
    case DT_DIR: return "dir";
    case DT_LNK: return "symlink";
    case DT_UNKNOWN: return "unknown";
    default: return "other";
    }
}

struct entry {
    char name[256];
    unsigned char type;
};

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Reads a directory with the raw getdents64 system call, in small batches. */
static int list_dir(const char *path, struct entry *out, int max)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    /* Small, so a directory takes several getdents64 calls. */
    static char buf[512] __attribute__((aligned(8)));
    int count = 0;
    long n;
    while ((n = getdents64(fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            if (count < max) {
                snprintf(out[count].name, sizeof out[count].name, "%s", d->d_name);
                out[count].type = d->d_type;
                count++;
            }
            off += d->d_reclen;
        }
    }
    close(fd);
    return n == 0 ? count : -1;
}

int main(void)
{
    int fd = open(DATA, O_RDONLY);
    CHECK(fd >= 0, "open " DATA);
    if (fd < 0)
        return 1;
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), "fstat: a regular file");
    printf("fstat: st_size=%lld\n", (long long)st.st_size);

    static unsigned char data[DATA_SIZE + 100];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, data + total, 777)) > 0)
        total += n;
    CHECK(n == 0, "read to EOF");
    int right = total == DATA_SIZE;
    for (size_t i = 0; right && i < total; i++)
        right = data[i] == expected_byte(i);
    printf("read %zu bytes, checksum %016llx\n", total,
           (unsigned long long)fnv1a(FNV_INIT, data, total));
    CHECK(right, "the contents are the host file's");

    unsigned char b[4];
    CHECK(lseek(fd, 5000, SEEK_SET) == 5000, "lseek(5000, SEEK_SET)");
    CHECK(read(fd, b, 4) == 4 && b[0] == expected_byte(5000) && b[3] == expected_byte(5003),
          "read after SEEK_SET");
    CHECK(lseek(fd, -10, SEEK_CUR) == 4994, "lseek(-10, SEEK_CUR)");
    CHECK(lseek(fd, -1, SEEK_END) == DATA_SIZE - 1, "lseek(-1, SEEK_END)");
    CHECK(read(fd, b, 4) == 1 && b[0] == expected_byte(DATA_SIZE - 1), "a short read at the end");
    CHECK(lseek(fd, 20000, SEEK_SET) == 20000 && read(fd, b, 4) == 0,
          "read beyond the end returns 0");
    errno = 0;
    CHECK(lseek(fd, -1, SEEK_SET) == -1 && errno == EINVAL, "lseek to a negative offset: EINVAL");
    CHECK(pread(fd, b, 4, 256) == 4 && b[0] == expected_byte(256) && lseek(fd, 0, SEEK_CUR) == 20000,
          "pread leaves the offset alone");
    int copy = dup(fd);
    CHECK(copy > fd, "dup returns a new descriptor");
    CHECK(lseek(copy, 100, SEEK_SET) == 100 && lseek(fd, 0, SEEK_CUR) == 100,
          "a dup shares the file offset");
    errno = 0;
    CHECK(write(fd, "x", 1) == -1 && errno == EBADF, "write to an O_RDONLY descriptor: EBADF");
    CHECK(close(copy) == 0 && close(fd) == 0, "close");
    errno = 0;
    CHECK(close(fd) == -1 && errno == EBADF, "close twice: EBADF");
    errno = 0;
    CHECK(read(fd, b, 1) == -1 && errno == EBADF, "read from a closed descriptor: EBADF");

    errno = 0;
    CHECK(open("/no/such/file", O_RDONLY) == -1 && errno == ENOENT, "open a missing file: ENOENT");
    errno = 0;
    CHECK(open(DATA, O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR,
          "O_DIRECTORY on a file: ENOTDIR");
    errno = 0;
    CHECK(open("/dir", O_WRONLY) == -1 && errno == EISDIR, "open a directory for writing: EISDIR");
    CHECK(stat("/dir", &st) == 0 && S_ISDIR(st.st_mode), "stat(/dir): a directory");
    CHECK(stat("/dir/sub/c.txt", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 6,
          "stat(/dir/sub/c.txt): a 6-byte file");

    /* Relative paths start at the cwd, "/". */
    fd = open("dir/a.txt", O_RDONLY);
    CHECK(fd >= 0, "open the relative path dir/a.txt");
    close(fd);
    int dirfd = open("/dir", O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0, "open /dir with O_DIRECTORY");
    fd = openat(dirfd, "sub/c.txt", O_RDONLY);
    char text[16] = {0};
    CHECK(fd >= 0 && read(fd, text, sizeof text - 1) == 6 && strcmp(text, "third\n") == 0,
          "openat(/dir, sub/c.txt) and read it");
    close(fd);
    close(dirfd);

    FILE *f = fopen("/dir/a.txt", "r");
    CHECK(f != NULL, "fopen /dir/a.txt");
    char line[128];
    while (f && fgets(line, sizeof line, f))
        printf("a.txt: %s", line);
    if (f)
        fclose(f);

    static struct entry entries[512];
    int count = list_dir("/", entries, 512);
    CHECK(count > 0, "getdents64 of /");
    static const char *const wanted[] = {".", "..", "files", "data", "dir"};
    static const unsigned char wanted_type[] = {DT_DIR, DT_DIR, DT_REG, DT_DIR, DT_DIR};
    for (int w = 0; w < 5; w++) {
        int found = -1;
        for (int i = 0; i < count; i++)
            if (strcmp(entries[i].name, wanted[w]) == 0)
                found = i;
        printf("/ lists %s: %s\n", wanted[w], found < 0 ? "no" : type_name(entries[found].type));
        if (found < 0 || entries[found].type != wanted_type[w])
            failures++;
    }

    count = list_dir("/dir", entries, 512);
    CHECK(count > 0, "getdents64 of /dir");
    qsort(entries, count, sizeof entries[0], compare_entries);
    for (int i = 0; i < count; i++)
        printf("/dir: %s (%s)\n", entries[i].name, type_name(entries[i].type));
    return failures ? 1 : 0;
}
