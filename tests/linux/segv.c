/* A store to address 0: the kernel must kill the program with SIGSEGV (status 139). The
 * line printed before must reach stdout first. */
#include <stdio.h>

int main(void)
{
    printf("about to write to NULL\n");
    fflush(stdout);
    *(volatile int *)0 = 1;
    printf("FAIL: the store to NULL did not fault\n");
    return 1;
}
