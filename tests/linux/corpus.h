/* Helpers shared by the Linux-ABI test programs: a checksum and self-checks whose
 * results are printed, so the transcript compared by tests/linux.rs shows what passed. */
#ifndef CORPUS_H
#define CORPUS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Number of failed CHECKs; main returns non-zero when it is not 0. */
static int failures;

/* FNV-1a, 64-bit: a checksum that is easy to recompute by hand in the harness. */
static inline uint64_t fnv1a(uint64_t hash, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* Prints "ok: WHAT" or "FAIL: WHAT (line N, errno E)" and counts failures. */
#define CHECK(cond, what)                                                             \
    do {                                                                              \
        if (cond) {                                                                   \
            printf("ok: %s\n", what);                                                 \
        } else {                                                                      \
            printf("FAIL: %s (line %d, errno %s)\n", what, __LINE__, errno_name(errno)); \
            failures++;                                                               \
        }                                                                             \
    } while (0)

/* The symbolic name of the errno values these programs expect, so the transcript does
 * not depend on strerror's wording. */
static inline const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ESPIPE: return "ESPIPE";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno-%d", e);
        return buf;
    }
    }
}

#endif
