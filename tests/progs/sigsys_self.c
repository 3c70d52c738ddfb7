/* sigsys_self: ask for SIGSYS's disposition (sigaction with no new action), print
 * "query R handler H" (R: the call's result; H: "default" for SIG_DFL), then raise(SIGSYS),
 * whose default action ends the process. Prints "survived" if it comes back. */
#include <signal.h>
#include <stdio.h>

int main(void)
{
    struct sigaction old;
    int r = sigaction(SIGSYS, NULL, &old);
    printf("query %d handler %s\n", r, old.sa_handler == SIG_DFL ? "default" : "other");
    fflush(stdout);
    raise(SIGSYS);
    printf("survived\n");
    return 0;
}
