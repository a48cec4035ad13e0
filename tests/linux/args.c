/* The process start-up state: argc, argv (escaped), the environment sorted, a few
 * auxiliary-vector entries, and the System V stack layout (envp right after argv's NULL).
 * One line goes to stderr. The last argument of the form exit=N sets the exit status
 * (the kernel keeps its low 8 bits). */
#include <stdlib.h>
#include <sys/auxv.h>

#include "corpus.h"

static void print_escaped(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"')
            putchar(*p);
        else
            printf("\\x%02x", *p);
    }
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv, char **envp)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=\"", i);
        print_escaped(argv[i]);
        printf("\"\n");
    }
    CHECK(argv[argc] == NULL, "argv[argc] is NULL");
    CHECK(envp == argv + argc + 1, "envp follows argv's NULL on the stack");

    size_t count = 0;
    while (envp[count])
        count++;
    char **sorted = malloc((count + 1) * sizeof *sorted);
    memcpy(sorted, envp, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_strings);
    printf("environment: %zu variables\n", count);
    for (size_t i = 0; i < count; i++) {
        printf("env \"");
        print_escaped(sorted[i]);
        printf("\"\n");
    }
    CHECK(getenv("PATH") != NULL && strcmp(getenv("PATH"), "/usr/local/bin:/usr/bin:/bin") == 0,
          "getenv(PATH)");

    printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
    CHECK(getauxval(AT_RANDOM) != 0, "AT_RANDOM points at 16 bytes");
    CHECK(getauxval(AT_PHDR) != 0 && getauxval(AT_PHNUM) > 0, "AT_PHDR and AT_PHNUM");
    CHECK(getauxval(AT_ENTRY) != 0, "AT_ENTRY");
    printf("AT_HWCAP=%#lx\n", getauxval(AT_HWCAP));

    fprintf(stderr, "args: %d arguments, this line on stderr\n", argc - 1);

    int status = failures ? 1 : 0;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "exit=", 5) == 0)
            status = atoi(argv[i] + 5);
    printf("exiting with %d\n", status);
    return status;
}
