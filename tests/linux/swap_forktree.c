/*
 * A tree of copy-on-write forks with swapping in between. The root fills MIB MiB (argv[1],
 * default 40) of private anonymous memory; children and grandchildren each rewrite a
 * different subset of the pages, some exit before the root writes its own subset and some
 * after, one grandchild outlives its parent, and while the others wait on pipes a "hog"
 * child touches HOG MiB (argv[2], default 32) of fresh memory, so that on a small RAM
 * (`sv39 run -m 64M`) their pages go to swap and come back when they resume.
 *
 * Every process checks every word of every page against the view it should have: a list
 * of writes (every page i with i % mod == res rewritten with a seed), its parent's list at
 * the fork plus its own. The pattern of a page depends on (page, seed) only, so what a
 * process sees is a function of its list alone.
 *
 *   root  fills all pages (seed 0), checks                         "root filled"
 *   c1    rewrites i%3==0, checks, exits before the root writes    "c1"
 *   c2    rewrites i%4==1, forks g2, waits on a pipe
 *   g2      rewrites i%5==2, waits on a pipe
 *   c3    waits on a pipe
 *   root  rewrites i%2==0
 *   hog   touches HOG MiB of fresh memory, checks it, exits        "hog"
 *   root  checks                                                   "root after hog"
 *   c2    checks, exits (g2 is orphaned)                           "c2"
 *   g2      checks, tells the root through a pipe, exits           "g2"
 *   root  rewrites i%5==0
 *   c3    checks, rewrites i%3==2, forks g3                        "c3 before writing"
 *   g3      rewrites i%6==5, checks, exits                         "g3"
 *   c3    waits for g3, checks, exits                              "c3 after g3"
 *   root  checks                                                   "root at the end"
 *
 * Each check goes into a record of a MAP_SHARED array; the root prints them all at the
 * end in this order, with the children's exit statuses, so the transcript does not depend
 * on scheduling. Exit status 0 only if every check and every child succeeded.
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

/* A write of the view: pages i with i % mod == res hold the pattern of seed. */
struct op {
    long mod, res;
    uint64_t seed;
};

/* What a process should see: the later of two writes to a page wins. */
struct view {
    int n;
    struct op ops[8];
};

/* The result of one check, written by the process that made it. */
struct record {
    int done;
    long pages, bad, own, first_bad;
    uint64_t sum;
    int child_status; /* c3's record of g3's exit status, else 0 */
};

enum {
    R_ROOT_FILLED,
    R_C1,
    R_HOG,
    R_ROOT_AFTER_HOG,
    R_C2,
    R_G2,
    R_C3_BEFORE,
    R_G3,
    R_C3_AFTER,
    R_ROOT_END,
    NRECORDS
};

static const char *const record_names[NRECORDS] = {
    "root filled", "c1", "hog",         "root after hog", "c2",
    "g2",          "c3 before writing", "g3", "c3 after g3",    "root at the end",
};

static long pages, hog_pages;
static unsigned char *mem;
static struct record *records;

/* splitmix64's finaliser: a page's first word, from its index and a seed. */
static uint64_t page_base(uint64_t page, uint64_t seed)
{
    uint64_t z = page * 0xd1b54a32d192ed03ull + seed * 0x8cb92ba72f3d8dd7ull + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill_page(uint64_t *p, uint64_t page, uint64_t seed)
{
    uint64_t w = page_base(page, seed);
    for (int j = 0; j < WORDS; j++, w += STEP)
        p[j] = w;
}

/* Whether the page holds the pattern of (page, seed); folds every word into *sum. */
static int check_page(const uint64_t *p, uint64_t page, uint64_t seed, uint64_t *sum)
{
    uint64_t w = page_base(page, seed), h = *sum;
    int good = 1;
    for (int j = 0; j < WORDS; j++, w += STEP) {
        good &= p[j] == w;
        h = (h ^ p[j]) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
    }
    *sum = h;
    return good;
}

/* Appends a write to the view and makes it in memory. */
static void write_pages(struct view *v, long mod, long res, uint64_t seed)
{
    v->ops[v->n++] = (struct op){mod, res, seed};
    for (long i = res; i < pages; i += mod)
        fill_page((uint64_t *)(mem + i * PAGE_SIZE), (uint64_t)i, seed);
}

/* Index of the write that decides page i. */
static int deciding_op(const struct view *v, long i)
{
    for (int k = v->n - 1; k > 0; k--)
        if (i % v->ops[k].mod == v->ops[k].res)
            return k;
    return 0;
}

/* Checks every page against the view into record r; `own_from` is the first write this
 * process made itself (pages decided by it or later ones count as its own). */
static void check(const struct view *v, int own_from, int r)
{
    struct record rec = {.done = 1, .first_bad = -1, .sum = FNV_INIT};
    for (long i = 0; i < pages; i++) {
        int k = deciding_op(v, i);
        if (!check_page((uint64_t *)(mem + i * PAGE_SIZE), (uint64_t)i, v->ops[k].seed,
                        &rec.sum)) {
            if (rec.bad++ == 0)
                rec.first_bad = i;
        }
        rec.own += k >= own_from;
    }
    rec.pages = pages;
    records[r] = rec;
}

static int record_ok(int r)
{
    return records[r].done && records[r].bad == 0;
}

static void die(const char *what)
{
    printf("FAIL: %s: %s\n", what, errno_name(errno));
    fflush(stdout);
    _exit(1);
}

static pid_t fork_or_die(void)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    return pid;
}

/* Blocks until one byte arrives on the pipe. */
static void wait_for(int fd)
{
    char c;
    if (read(fd, &c, 1) != 1)
        die("read from a pipe");
}

static void signal_on(int fd)
{
    if (write(fd, "x", 1) != 1)
        die("write to a pipe");
}

static int wait_child(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        die("waitpid");
    return status;
}

/* The hog: HOG MiB of fresh memory, every word written, then checked. */
static int hog(void)
{
    unsigned char *h = mmap(NULL, (size_t)hog_pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED)
        die("hog: mmap");
    const uint64_t seed = 0x40640000;
    for (long i = 0; i < hog_pages; i++)
        fill_page((uint64_t *)(h + i * PAGE_SIZE), (uint64_t)i, seed);
    struct record rec = {.done = 1, .first_bad = -1, .sum = FNV_INIT};
    for (long i = 0; i < hog_pages; i++) {
        if (!check_page((uint64_t *)(h + i * PAGE_SIZE), (uint64_t)i, seed, &rec.sum)) {
            if (rec.bad++ == 0)
                rec.first_bad = i;
        }
    }
    rec.pages = rec.own = hog_pages;
    records[R_HOG] = rec;
    return !record_ok(R_HOG);
}

static const char *describe(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "signal %d", WTERMSIG(status));
    else
        snprintf(buf, len, "status %#x", status);
    return buf;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 40;
    long hog_mib = argc > 2 ? atol(argv[2]) : 32;
    if (mib < 1 || hog_mib < 1) {
        printf("usage: swap_forktree [MIB [HOG_MIB]]\n");
        return 2;
    }
    pages = mib * (1024 * 1024 / PAGE_SIZE);
    hog_pages = hog_mib * (1024 * 1024 / PAGE_SIZE);
    printf("swap_forktree: %ld MiB (%ld pages), hog %ld MiB\n", mib, pages, hog_mib);
    fflush(stdout);

    records = mmap(NULL, sizeof(struct record) * NRECORDS, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (records == MAP_FAILED)
        die("mmap(MAP_SHARED)");
    mem = mmap(NULL, (size_t)pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap");
    int ready[2], go_c2[2], go_g2[2], go_c3[2], g2_done[2];
    if (pipe(ready) || pipe(go_c2) || pipe(go_g2) || pipe(go_c3) || pipe(g2_done))
        die("pipe");

    struct view root = {0};
    write_pages(&root, 1, 0, 0);
    check(&root, 0, R_ROOT_FILLED);

    pid_t c1 = fork_or_die();
    if (c1 == 0) {
        struct view v = root;
        write_pages(&v, 3, 0, 1);
        check(&v, 1, R_C1);
        _exit(!record_ok(R_C1));
    }
    int c1_status = wait_child(c1);

    pid_t c2 = fork_or_die();
    if (c2 == 0) {
        struct view v = root;
        write_pages(&v, 4, 1, 2);
        if (fork_or_die() == 0) {
            struct view g = v;
            write_pages(&g, 5, 2, 22);
            signal_on(ready[1]);
            wait_for(go_g2[0]);
            check(&g, 2, R_G2);
            signal_on(g2_done[1]);
            _exit(0);
        }
        signal_on(ready[1]);
        wait_for(go_c2[0]);
        check(&v, 1, R_C2);
        _exit(!record_ok(R_C2)); /* without waiting for g2 */
    }

    pid_t c3 = fork_or_die();
    if (c3 == 0) {
        struct view v = root;
        signal_on(ready[1]);
        wait_for(go_c3[0]);
        check(&v, 1, R_C3_BEFORE);
        write_pages(&v, 3, 2, 3);
        pid_t g3 = fork_or_die();
        if (g3 == 0) {
            struct view g = v;
            write_pages(&g, 6, 5, 33);
            check(&g, 2, R_G3);
            _exit(!record_ok(R_G3));
        }
        int g3_status = wait_child(g3);
        check(&v, 1, R_C3_AFTER);
        records[R_C3_AFTER].child_status = g3_status;
        _exit(!record_ok(R_C3_BEFORE) || !record_ok(R_C3_AFTER) || g3_status != 0);
    }

    /* c2, g2 and c3 have made their writes and wait on their pipes. */
    for (int k = 0; k < 3; k++)
        wait_for(ready[0]);
    write_pages(&root, 2, 0, 100);

    pid_t h = fork_or_die();
    if (h == 0)
        _exit(hog());
    int hog_status = wait_child(h);
    check(&root, 0, R_ROOT_AFTER_HOG);

    signal_on(go_c2[1]);
    int c2_status = wait_child(c2);
    signal_on(go_g2[1]);
    wait_for(g2_done[0]);

    write_pages(&root, 5, 0, 101);
    signal_on(go_c3[1]);
    int c3_status = wait_child(c3);
    check(&root, 0, R_ROOT_END);

    int ok = 1;
    for (int r = 0; r < NRECORDS; r++) {
        const struct record *rec = &records[r];
        if (!rec->done) {
            printf("FAIL: %s: no result\n", record_names[r]);
            ok = 0;
            continue;
        }
        printf("%s: %ld pages, %ld its own, checksum %016llx, ", record_names[r], rec->pages,
               rec->own, (unsigned long long)rec->sum);
        if (rec->bad == 0) {
            printf("ok\n");
        } else {
            printf("FAIL: %ld pages differ, the first is page %ld\n", rec->bad, rec->first_bad);
            ok = 0;
        }
    }
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    printf("exit statuses: c1 %s, c2 %s, c3 %s, hog %s, g3 %s\n", describe(c1_status, b1, 32),
           describe(c2_status, b2, 32), describe(c3_status, b3, 32),
           describe(hog_status, b4, 32),
           describe(records[R_C3_AFTER].child_status, b5, 32));
    ok &= c1_status == 0 && c2_status == 0 && c3_status == 0 && hog_status == 0 &&
          records[R_C3_AFTER].child_status == 0;
    failures += !ok;
    printf("swap_forktree: %s\n", failures == 0 ? "ok" : "FAIL");
    return failures != 0;
}
