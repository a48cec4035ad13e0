/* /proc/self/maps. Each line's structure is printed ("map PERMS [NAME]", addresses left
 * out; the program's own file shows as EXE, anonymous mappings without a name), then
 * checks that hold on any Linux-like kernel: every line parses, the lines are sorted and
 * disjoint, main lies in an r-xp mapping of readlink(/proc/self/exe), initialised data in
 * an rw-p one of the same file, a local variable in rw-p [stack], heap and large malloc
 * blocks in rw-p mappings; and an mmap of 3 pages shows up exactly, is split in two by a
 * munmap of its middle page and in three by an mprotect. The harness compares the
 * "ok:" lines exactly and only the form of the "map" lines (kernels name regions
 * differently: Linux has [heap] and [vdso], qemu-riscv64 does not). */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "corpus.h"

struct mapping {
    unsigned long start, end;
    char perms[5];
    char name[512];
};

static struct mapping maps[256];
static int map_count;
static int all_parsed;
static char exe[512];

static void read_maps(int print)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    map_count = 0;
    all_parsed = f != NULL;
    while (f && fgets(line, sizeof line, f) && map_count < 256) {
        struct mapping *m = &maps[map_count];
        unsigned long offset, inode;
        unsigned int major, minor;
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &m->start, &m->end, m->perms, &offset,
                   &major, &minor, &inode, &name_at) < 7 ||
            name_at == 0) {
            all_parsed = 0;
            printf("unparsed line: %s", line);
            continue;
        }
        snprintf(m->name, sizeof m->name, "%s", line + name_at);
        m->name[strcspn(m->name, "\n")] = 0;
        if (print)
            printf("map %s%s%s\n", m->perms, m->name[0] ? " " : "",
                   strcmp(m->name, exe) == 0 ? "EXE" : m->name);
        map_count++;
    }
    if (f)
        fclose(f);
}

static const struct mapping *find(const void *p)
{
    unsigned long a = (unsigned long)p;
    for (int i = 0; i < map_count; i++)
        if (maps[i].start <= a && a < maps[i].end)
            return &maps[i];
    return NULL;
}

static int in_mapping(const void *p, const char *perms, const char *name)
{
    const struct mapping *m = find(p);
    return m && strcmp(m->perms, perms) == 0 && (!name || strcmp(m->name, name) == 0);
}

/* Whether [start, end) is exactly one mapping with these permissions. */
static int exact(unsigned long start, unsigned long end, const char *perms)
{
    for (int i = 0; i < map_count; i++)
        if (maps[i].start == start && maps[i].end == end && strcmp(maps[i].perms, perms) == 0)
            return 1;
    return 0;
}

int initialised_data = 42;

int main(void)
{
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(len > 0, "readlink(/proc/self/exe)");
    if (len > 0)
        exe[len] = 0;

    void *small = malloc(100);
    void *large = malloc(2 << 20);
    int local = 0;
    read_maps(1);

    CHECK(all_parsed && map_count > 0, "every line parses");
    int sorted = 1;
    for (int i = 0; i < map_count; i++)
        sorted &= maps[i].start < maps[i].end && (i == 0 || maps[i - 1].end <= maps[i].start);
    CHECK(sorted, "mappings are sorted and disjoint");
    CHECK(in_mapping((void *)main, "r-xp", exe), "main is in an r-xp mapping of /proc/self/exe");
    CHECK(in_mapping(&initialised_data, "rw-p", exe),
          "initialised data is in an rw-p mapping of /proc/self/exe");
    CHECK(in_mapping(&local, "rw-p", "[stack]"), "a local variable is in rw-p [stack]");
    CHECK(in_mapping(small, "rw-p", NULL), "a small malloc block is in an rw-p mapping");
    CHECK(in_mapping(large, "rw-p", NULL), "a 2 MiB malloc block is in an rw-p mapping");

    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, 3 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of 3 read-only pages");
    unsigned long a = (unsigned long)p;
    read_maps(0);
    /* The kernel may merge it with a neighbour of the same permissions; then it is inside. */
    CHECK(exact(a, a + 3 * page, "r--p") ||
              (in_mapping(p, "r--p", "") && in_mapping(p + 3 * page - 1, "r--p", "")),
          "the 3 pages are an anonymous r--p mapping");
    CHECK(mprotect(p + page, page, PROT_READ | PROT_WRITE) == 0, "mprotect of the middle page");
    read_maps(0);
    CHECK(exact(a + page, a + 2 * page, "rw-p"), "mprotect splits out the middle page as rw-p");
    CHECK(in_mapping(p, "r--p", "") && in_mapping(p + 2 * page, "r--p", ""),
          "the outer pages stay r--p");
    CHECK(munmap(p + page, page) == 0, "munmap of the middle page");
    read_maps(0);
    CHECK(find(p + page) == NULL, "the middle page is gone from the maps");
    CHECK(in_mapping(p, "r--p", "") && in_mapping(p + 2 * page, "r--p", ""),
          "both outer pages remain");
    free(small);
    free(large);
    return failures ? 1 : 0;
}
